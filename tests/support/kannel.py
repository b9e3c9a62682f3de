"""A real Kannel (bearerbox + smsbox + fakesmsc) on 127.0.0.1, for integration tests.

    with kannel_harness(mo_url="http://127.0.0.1:8000/sms/kannel/inbound?from=%p&...") as k:
        k.inject_mo("6281234567890", "1708", "LAPOR jalan rusak")
        requests.get(k.sendsms_url, params={"username": k.username, ...})
        k.wait_for_mt(1)  # [FakeMT(sender="1708", receiver="62812...", coding="text", text="...")]

Everything lives in a temporary directory (kannel.conf, the three logs, fakesmsc's output), all
ports are free ports chosen at runtime and bound to 127.0.0.1, every wait is bounded, and the
processes are stopped on exit. Tests skip when the Debian `kannel` / `kannel-extras` binaries
are missing.

fakesmsc is started in its interactive mode: each line written to its stdin is one MO,
`<sender> <receiver> text <message>` (or `ucs2 <url-encoded UTF-16BE>`, `data <url-encoded
8-bit>`); each MT it receives is logged as `Got message N: <sender receiver type data>`, with
type `text` (data as is), `ucs-2` or `data` (data url-encoded).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import free_port

FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
HOST = "127.0.0.1"
START_TIMEOUT = 8.0
STOP_TIMEOUT = 3.0
_GOT_MT = re.compile(r"Got message \d+: <(?P<line>.*)>\s*$")


def missing_binaries() -> str | None:
    """Why a real Kannel cannot run here, or None when bearerbox, smsbox and fakesmsc exist."""
    for path in (BEARERBOX, SMSBOX, str(FAKESMSC)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} is missing (install the Debian packages kannel and kannel-extras)"
    return None


def require_kannel() -> None:
    """pytest.skip with the reason when the Kannel binaries are not installed; a failure
    instead when REQUIRE_KANNEL=1 (CI installs Kannel, so a skip there would hide a gap)."""
    reason = missing_binaries()
    if reason:
        import pytest

        if os.environ.get("REQUIRE_KANNEL") == "1":
            pytest.fail(f"REQUIRE_KANNEL=1 but {reason}")
        pytest.skip(reason)


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((HOST, port)) == 0


def _wait(what: str, ready, proc: subprocess.Popen | None, log: Path, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    raise RuntimeError(f"Kannel harness: {what} not ready within {timeout}s; log {log}:\n{tail}")


@dataclass(frozen=True)
class FakeMT:
    """One MT as fakesmsc printed it. `text` is decoded (ucs-2 and data lines are url-encoded)."""

    sender: str
    receiver: str
    coding: str  # "text", "ucs-2", "data" or "udh"
    text: str
    raw: str


def parse_fakesmsc_line(line: str) -> FakeMT:
    """Parse `<sender> <receiver> <type> <data>` as fakesmsc prints an MT."""
    sender, receiver, coding, data = (line.split(" ", 3) + ["", "", "", ""])[:4]
    # Kannel's url-encoding writes a space as "+" (a literal "+" as %2B).
    if coding == "ucs-2":
        text = urllib.parse.unquote_to_bytes(data.replace("+", " ")).decode("utf-16-be", errors="replace")
    elif coding in ("data", "udh"):
        text = urllib.parse.unquote_to_bytes(data.rsplit(" ", 1)[-1].replace("+", " ")).decode("latin-1")
    else:
        text = data
    return FakeMT(sender=sender, receiver=receiver, coding=coding, text=text, raw=line)


def render_config(
    *,
    workdir: Path,
    ports: dict[str, int],
    mo_url: str,
    post: bool,
    username: str,
    password: str,
    mo_recode: bool,
    retry: int,
    retry_delay: int,
) -> str:
    """The kannel.conf text the harness runs (also the base of docs/kannel.conf.example)."""
    service_url = f'post-url = "{mo_url}"' if post else f'get-url = "{mo_url}"'
    return f"""\
group = core
admin-port = {ports["admin"]}
admin-interface = {HOST}
admin-password = harness-admin
admin-allow-ip = "{HOST}"
smsbox-port = {ports["smsbox"]}
smsbox-interface = {HOST}
box-allow-ip = "{HOST}"
log-file = "{workdir / "bearerbox.log"}"
log-level = 0
access-log = "{workdir / "access.log"}"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {ports["fake"]}
our-host = {HOST}
connect-allow-ip = "{HOST}"

group = smsbox
bearerbox-host = {HOST}
bearerbox-port = {ports["smsbox"]}
sendsms-port = {ports["sendsms"]}
sendsms-interface = {HOST}
log-file = "{workdir / "smsbox.log"}"
log-level = 0
mo-recode = {"true" if mo_recode else "false"}
http-request-retry = {retry}
http-queue-delay = {retry_delay}

group = sendsms-user
username = {username}
password = {password}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
{service_url}
"""


@dataclass
class KannelHarness:
    """A running bearerbox + smsbox + fakesmsc. Build it with `kannel_harness(...)`."""

    workdir: Path
    ports: dict[str, int]
    username: str
    password: str
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def sendsms_url(self) -> str:
        """The sendsms URL (GET /cgi-bin/sendsms) of this smsbox."""
        return f"http://{HOST}:{self.ports['sendsms']}/cgi-bin/sendsms"

    @property
    def fakesmsc_log(self) -> Path:
        """Where fakesmsc's output (with the MT it received) is written."""
        return self.workdir / "fakesmsc.log"

    def inject_mo(self, sender: str, receiver: str, text: str) -> None:
        """Send one MO from the fake SMSC. Plain text goes as a `text` line (Kannel takes it as
        GSM-7 coding, data as is); text that is not ASCII goes as `ucs2` (UTF-16BE, coding=2)."""
        if "\n" in text or "\r" in text:
            raise ValueError("fakesmsc takes one line per message")
        if text.isascii():
            line = f"{sender} {receiver} text {text}"
        else:
            line = f"{sender} {receiver} ucs2 {urllib.parse.quote_from_bytes(text.encode('utf-16-be'))}"
        self.inject_line(line)

    def inject_line(self, line: str) -> None:
        """Write one raw fakesmsc input line (`<from> <to> <type> [...] <data>`); at most 255 bytes."""
        data = (line + "\n").encode("utf-8")
        if len(data) > 255:
            raise ValueError("fakesmsc reads at most 255 bytes per line")
        stdin = self.procs["fakesmsc"].stdin
        stdin.write(data)
        stdin.flush()

    def received_mt(self) -> list[FakeMT]:
        """The MT fakesmsc has printed so far, oldest first."""
        lines = self.fakesmsc_log.read_text(encoding="utf-8", errors="replace").splitlines()
        return [parse_fakesmsc_line(m.group("line")) for m in map(_GOT_MT.search, lines) if m]

    def wait_for_mt(self, count: int = 1, timeout: float = 5.0) -> list[FakeMT]:
        """Wait (bounded) until fakesmsc has printed at least `count` MT; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.received_mt()
            if len(got) >= count or time.monotonic() > deadline:
                return got
            # fakesmsc only polls its bearerbox socket between stdin reads (1 s select);
            # a blank line wakes it up without sending anything.
            with contextlib.suppress(OSError, ValueError):
                self.procs["fakesmsc"].stdin.write(b"\n")
                self.procs["fakesmsc"].stdin.flush()
            time.sleep(0.1)

    def log(self, name: str) -> str:
        """The text of one log in the work dir: bearerbox, smsbox, access or fakesmsc."""
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop fakesmsc, smsbox and bearerbox (in that order), each within a bounded wait."""
        for name in ("fakesmsc", "smsbox", "bearerbox"):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGINT if name == "fakesmsc" else signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
            if proc.stdin:
                with contextlib.suppress(OSError):
                    proc.stdin.close()


def _fake_smsc_online(admin_port: int) -> bool:
    import urllib.request

    url = f"http://{HOST}:{admin_port}/status.txt?password=harness-admin"
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            status = resp.read().decode("utf-8", "replace")
    except OSError:
        return False
    # "fake[fake]    FAKE:34121 (online 1s, ..." once fakesmsc is connected; an smsbox line
    # replaces "No boxes connected" once smsbox is.
    return bool(re.search(r"FAKE:\d+ \(online", status)) and "No boxes connected" not in status


@contextlib.contextmanager
def kannel_harness(
    mo_url: str = "http://127.0.0.1:9/unused",
    *,
    post: bool = False,
    username: str = "gateway",
    password: str | None = None,
    mo_recode: bool = False,
    retry: int = 2,
    retry_delay: int = 1,
    workdir: str | Path | None = None,
    keep: bool = False,
) -> Iterator[KannelHarness]:
    """Run a real Kannel whose sms-service calls `mo_url` (`get-url`, or `post-url` when `post`),
    with one sendsms-user `username`/`password` (a random password by default). `mo_url` may use
    Kannel escapes (%p, %a, ...). The config and logs go to `workdir` (default: a new temp dir,
    removed after a clean exit unless `keep`, kept when something failed so the logs can be read)."""
    require_kannel()
    password = password or secrets.token_hex(8)
    wd = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="kannel-harness-"))
    wd.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("admin", "smsbox", "sendsms", "fake")}
    conf = wd / "kannel.conf"
    conf.write_text(
        render_config(
            workdir=wd,
            ports=ports,
            mo_url=mo_url,
            post=post,
            username=username,
            password=password,
            mo_recode=mo_recode,
            retry=retry,
            retry_delay=retry_delay,
        )
    )
    h = KannelHarness(workdir=wd, ports=ports, username=username, password=password)
    failed = True
    try:
        _start(h, conf)
        yield h
        failed = False
    finally:
        h.stop()
        if not failed and workdir is None and not keep:
            shutil.rmtree(wd, ignore_errors=True)


def _spawn(cmd: list[str], out: Path, stdin=subprocess.DEVNULL) -> subprocess.Popen:
    with open(out, "ab") as fh:
        return subprocess.Popen(cmd, stdin=stdin, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def _start(h: KannelHarness, conf: Path) -> None:
    wd, ports = h.workdir, h.ports
    # -v 4: only panics on the console (the full debug log goes to log-file).
    h.procs["bearerbox"] = _spawn([BEARERBOX, "-v", "4", str(conf)], wd / "bearerbox.out")
    _wait(
        "bearerbox",
        lambda: _listening(ports["admin"]) and _listening(ports["smsbox"]) and _listening(ports["fake"]),
        h.procs["bearerbox"],
        wd / "bearerbox.log",
    )
    h.procs["smsbox"] = _spawn([SMSBOX, "-v", "4", str(conf)], wd / "smsbox.out")
    _wait("smsbox", lambda: _listening(ports["sendsms"]), h.procs["smsbox"], wd / "smsbox.log")
    # No <msg> arguments = interactive mode: MO lines come from stdin; -i 0: no pacing.
    h.procs["fakesmsc"] = _spawn(
        [str(FAKESMSC), "-H", HOST, "-r", str(ports["fake"]), "-i", "0", "-v", "0"],
        h.fakesmsc_log,
        stdin=subprocess.PIPE,
    )
    _wait("fake SMSC link", lambda: _fake_smsc_online(ports["admin"]), h.procs["fakesmsc"], h.fakesmsc_log)


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as a peer (Kannel) sent it: nothing decoded."""

    method: str
    raw_path: str  # path and query exactly as on the request line
    headers: dict[str, str]
    body: bytes


class RecordingServer:
    """A tiny HTTP server on 127.0.0.1 that records every request and answers `status` (or the
    next of `statuses`, then `status`) with an empty text/plain body."""

    def __init__(self, status: int = 202, statuses: list[int] | None = None):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[RecordedRequest] = []
        self._statuses = list(statuses or [])
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with outer._lock:
                    outer.requests.append(RecordedRequest(self.command, self.path, dict(self.headers), body))
                    answer = outer._statuses.pop(0) if outer._statuses else status
                self.send_response(answer)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _record

            def log_message(self, *args):  # keep test output quiet
                pass

        class Server(ThreadingHTTPServer):
            # Kannel opens many connections at once: socketserver's listen backlog of 5 made
            # the kernel drop SYNs, each costing Kannel a 1 s retransmit (one bench run's
            # 2,000 MOs took 28 s instead of under 2).
            request_queue_size = 1024
            daemon_threads = True

        self._server = Server((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait (bounded) until at least `count` requests arrived; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.requests)


def wire_request(method: str, raw_path: str, headers: dict[str, str], body: bytes):
    """The WireRequest the gateway's web layer (gateway.web.wire) builds for this request."""
    import base64

    from tests.support.recorded import wire

    path, _, query_string = raw_path.partition("?")
    recorded = {"method": method, "path": path, "query_string": query_string, "headers": headers}
    return wire({**recorded, "body_b64": base64.b64encode(body).decode()})
