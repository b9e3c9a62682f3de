"""No bare status strings: every status, kind, privacy level, outcome and job path the gateway
writes or compares is a `StrEnum` member (issue 16). This scans the source of gateway/,
workers/ and config/ with `ast` for string constants equal to an enum member's value, so a
new `out.status == "QUEUED"` or `enqueue("workers.jobs.sweep")` fails here.

Which values: every value that is not a plain lowercase word (UPPER_CASE statuses and kinds,
`already-done`, dotted job paths) in every module; a lowercase word (`accepted`, `retry`,
`admin`, `ok`) only in a module that uses its enum, since elsewhere the same word is usually
someone else's (a health check's "ok", pydantic's "missing", a CLI command named "retry").

Not counted: docstrings and other bare string statements, f-string pieces, arguments of log
calls, the enum definitions themselves, an aggregator's status-table keys (its own wire codes),
the keyword `aliases=` of a citizen command (words citizens type), and the ALLOWED list below,
each with its reason. Tests keep literals on purpose: they pin the wire values."""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("gateway", "workers", "config")
# Modules that load settings at import (`rq cron workers/cron.py`, `rq worker -c workers.rqconfig`):
# scanned as source, not imported for their enums.
SCRIPTS = {"workers.cron", "workers.rqconfig"}
# Where dict keys are someone else's wire codes (an aggregator's status table: its code -> ours).
WIRE = "gateway/aggregators/"
LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log"}

# (file, value): why the literal there is not one of ours.
ALLOWED = {
    ("gateway/aggregators/eight_by_eight.py", "QUEUED"): "8x8's own send-answer code, not our status",
    ("gateway/aggregators/jasmin.py", "REJECTED"): "a word in Jasmin's own refusal text",
    ("gateway/parsers/commands.py", "ANONYMOUS"): "a word citizens type (LAPOR ANONYMOUS ...)",
}


def _modules() -> list[str]:
    names = []
    for top in ("gateway", "workers"):
        package = importlib.import_module(top)
        names.append(top)
        names += [m.name for m in pkgutil.walk_packages(package.__path__, f"{top}.")]
    return [n for n in names if n not in SCRIPTS]


def gateway_enums() -> list[type[enum.StrEnum]]:
    """Every StrEnum defined in the gateway's own modules."""
    found = {}
    for name in _modules():
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, enum.StrEnum) and obj.__module__.startswith(SCANNED):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


def enum_values() -> set[str]:
    return {member.value for cls in gateway_enums() for member in cls}


def _is_word(value: str) -> bool:
    return value.replace("_", "").isalpha() and value.islower()


def values_for(tree: ast.Module, enums: list[type[enum.StrEnum]]) -> set[str]:
    """The values to look for in one module: every enum's values except plain lowercase words,
    and those too of the enums the module names (imports, uses or defines)."""
    named = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    named |= {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    named |= {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    return {m.value for cls in enums for m in cls if not _is_word(m.value) or cls.__name__ in named}


def _enum_classes(tree: ast.Module) -> set[str]:
    """Names of the classes in a module that are enums: based on an ...Enum class or on one
    of the module's own enums (`class SendOutcome(Outcome)`)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {ast.unparse(b) for b in node.bases}
            if any("Enum" in b for b in bases) or bases & names:
                names.add(node.name)
    return names


def _is_log_call(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Attribute) and node.func.attr in LOG_CALLS


class _Finder(ast.NodeVisitor):
    """Collects (line, value) of every counted string constant whose value is in `values`, and
    every `JobPath.X` not passed as `JobPath.X.value`."""

    def __init__(self, values: set[str], wire_keys: bool):
        self.values, self.wire_keys = values, wire_keys
        self.found: list[tuple[int, str]] = []
        self.enums: set[str] = set()

    def visit_Module(self, node: ast.Module) -> None:
        self.enums = _enum_classes(node)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if node.name not in self.enums:
            self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.generic_visit(node)  # a docstring or a bare string statement is a comment

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                self.visit(value)

    def visit_Call(self, node: ast.Call) -> None:
        if _is_log_call(node):
            return
        self.visit(node.func)
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            if kw.arg != "aliases":  # keywords citizens type, e.g. "STOP", "HELP", "STATUS"
                self.visit(kw.value)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if key is not None and not self.wire_keys:
                self.visit(key)
            self.visit(value)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Attribute) and _is_job_path(node.value) and node.attr == "value":
            return
        if _is_job_path(node):
            self.found.append((node.lineno, f"{ast.unparse(node)} without .value"))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and node.value in self.values:
            self.found.append((node.lineno, node.value))


def _is_job_path(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "JobPath"


def bare_literals(source: str, values: set[str] | None = None, path: str = "", allowed=ALLOWED):
    """(line, value) of each bare literal in `source` (looking for `values`, by default
    `values_for` the module); `path` is the file's path from the root."""
    tree = ast.parse(source)
    finder = _Finder(values_for(tree, gateway_enums()) if values is None else values, path.startswith(WIRE))
    finder.visit(tree)
    return [(line, v) for line, v in finder.found if (path, v) not in allowed]


def _sources(root: Path):
    for folder in SCANNED:
        for file in sorted((root / folder).rglob("*.py")):
            yield file.relative_to(root).as_posix(), file.read_text()


def scan(root: Path) -> list[str]:
    """Every bare literal under `root`'s scanned folders, as `file:line: value`."""
    return [
        f"{path}:{line}: {v!r}"
        for path, source in _sources(root)
        for line, v in bare_literals(source, None, path)
    ]


def test_the_gateway_writes_no_bare_status_kind_or_job_literal():
    assert scan(ROOT) == []


def test_every_allowlisted_literal_is_still_there():
    """An allowlist entry whose literal is gone is stale: remove it."""
    found = {(path, v) for path, source in _sources(ROOT) for _, v in bare_literals(source, None, path, {})}
    assert set(ALLOWED) - found == set()


VALUES = {"QUEUED", "PENDING", "already-done", "workers.jobs.sweep"}


@pytest.mark.parametrize(
    "source, found",
    [
        pytest.param('if out.status == "QUEUED":\n    pass\n', [(1, "QUEUED")], id="comparison"),
        pytest.param('out.status = "QUEUED"\n', [(1, "QUEUED")], id="assignment"),
        pytest.param('x in ("PENDING", "DONE")\n', [(1, "PENDING")], id="in-a-tuple"),
        pytest.param('q.enqueue("workers.jobs.sweep")\n', [(1, "workers.jobs.sweep")], id="job-path"),
        pytest.param('Handled("already-done", None)\n', [(1, "already-done")], id="call-argument"),
        pytest.param('def f(state="PENDING"):\n    pass\n', [(1, "PENDING")], id="default"),
        pytest.param('LABELS = {"QUEUED": "antri"}\n', [(1, "QUEUED")], id="dict-key"),
        pytest.param("q.enqueue(JobPath.SWEEP)\n", [(1, "JobPath.SWEEP without .value")], id="job-enum"),
        pytest.param("q.enqueue(JobPath.SWEEP.value)\n", [], id="job-enum-value"),
        pytest.param('"""QUEUED"""\n', [], id="docstring"),
        pytest.param('log.info("QUEUED")\n', [], id="log-call"),
        pytest.param('f"{x} QUEUED"\n', [], id="f-string-piece"),
        pytest.param('x = "QUEUED later"\n', [], id="not-equal"),
        pytest.param('class S(StrEnum):\n    QUEUED = "QUEUED"\n', [], id="enum-definition"),
        pytest.param('C = CitizenCommand(kind=K, aliases=("QUEUED",))\n', [], id="citizen-aliases"),
    ],
)
def test_the_scanner_finds_bare_literals(source, found):
    assert bare_literals(source, VALUES) == found


def test_a_lowercase_word_counts_only_where_its_enum_is_used():
    word = 'if outcome == "retry":\n    pass\n'
    assert bare_literals(word, path="gateway/x.py") == []
    assert bare_literals("from gateway.outcomes import SendOutcome\n" + word, path="gateway/x.py") == [
        (2, "retry")
    ]
    assert bare_literals('x = "QUEUED"\n', path="gateway/x.py") == [(1, "QUEUED")]


def test_an_aggregator_status_table_may_key_by_its_own_codes():
    source = 'STATUS_MAP = {"QUEUED": OutboundStatus.SENT, "x": "PENDING"}\n'
    assert bare_literals(source, VALUES, "gateway/aggregators/x.py") == [(1, "PENDING")]
    assert bare_literals(source, VALUES, "gateway/services/x.py") == [(1, "QUEUED"), (1, "PENDING")]


def test_the_enums_cover_the_contracts():
    """The scan is only as good as the enums it knows: the contracts' values are among them."""
    values = enum_values()
    contract = {"PENDING", "DONE", "QUARANTINED", "RECEIVED", "VERIFIED", "IN_PROGRESS", "POSTPONED"}
    contract |= {"OUT_OF_SCOPE", "ARCHIVED", "PUBLIC", "CONFIDENTIAL", "ANONYMOUS", "QUEUED", "SENDING"}
    contract |= {"DELIVERED", "FAILED", "SUPPRESSED", "FLOOD", "already-done", "REPORT", "REPLY"}
    contract |= {"accepted", "retry", "handed-off", "admin", "viewer", "FAILING", "DROPPED"}
    contract |= {"workers.jobs.drain_inbound", "workers.jobs.send_outbound"}
    assert contract - values == set()
