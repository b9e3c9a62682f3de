"""Citizen commands: the shared sample corpus, then our own tables of what people type."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.commands import REGISTRY, parse_command
from gateway.models import Privacy
from gateway.parsers import (
    Command,
    CommandKind,
    Problem,
    damm_check_digit,
    is_complaint,
    is_valid_tracking_number,
    new_tracking_number,
)

KEYWORDS, KINDS = REGISTRY.keywords, REGISTRY.kinds

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "samples.tsv"
ID = new_tracking_number(random.Random(0))
ID2 = new_tracking_number(random.Random(1))
TYPO = ID[:3] + str((int(ID[3]) + 1) % 10) + ID[4:]  # one mistyped digit
SWAP = next(ID[:i] + ID[i + 1] + ID[i] + ID[i + 2 :] for i in range(9) if ID[i] != ID[i + 1])
SEPARATORS = [" ", "#", ".", ":", ",", "-", "*", "/", "  ", " # ", "#:", ". "]
STRIP = " #.:,-*/"
SHORT = "1234567" + damm_check_digit("1234567")  # a valid 8-digit number
SHORT_PLUS = next(SHORT + tail for tail in ("12", "13") if not is_valid_tracking_number(SHORT + tail))


def _sample_rows() -> list:
    if not SAMPLES.is_file():
        return [
            pytest.param("", "", "", marks=pytest.mark.skip(reason=f"shared corpus not found at {SAMPLES}"))
        ]
    rows = []
    for number, line in enumerate(SAMPLES.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        kind, text = line.split("\t", 1)
        tracking_no = new_tracking_number(random.Random(number))
        rows.append(pytest.param(kind, text.replace("{ID}", tracking_no), tracking_no, id=f"{number}-{kind}"))
    return rows


@pytest.mark.parametrize(("kind", "text", "tracking_no"), _sample_rows())
def test_shared_corpus(kind, text, tracking_no):
    command = parse_command(text)
    if kind == "report":
        assert command.kind == CommandKind.REPORT and command.text and not command.problem
        expected_privacy = {"RAHASIA": Privacy.CONFIDENTIAL, "ANONIM": Privacy.ANONYMOUS}
        words = set(text.upper().split())
        assert command.privacy == next((p for w, p in expected_privacy.items() if w in words), Privacy.PUBLIC)
    elif kind == "check":
        assert (command.kind, command.tracking_no, command.problem) == (CommandKind.CHECK, tracking_no, "")
    elif kind == "reply":
        reply_text = " ".join(text.split(tracking_no, 1)[1].strip(STRIP).split())
        assert (command.kind, command.tracking_no, command.problem) == (CommandKind.REPLY, tracking_no, "")
        assert command.text == reply_text
    elif kind == "help":
        assert command.kind == CommandKind.HELP or (command.kind, command.problem) == (
            CommandKind.REPORT,
            Problem.MISSING_TEXT,
        )
    elif kind == "badid":
        assert command.kind in (CommandKind.CHECK, CommandKind.REPLY)
        assert command.problem in (Problem.MISSING_NUMBER, Problem.BAD_NUMBER)
    else:
        pytest.fail(f"unknown kind {kind!r} in {SAMPLES}")


def _alias_rows(kind: str, make):
    """One row per alias x separator x case, built by `make(alias, separator)`."""
    return [
        pytest.param(*make(case(alias), sep), id=f"{case.__name__}-{alias}-{sep!r}")
        for alias in KEYWORDS[kind]
        for sep in SEPARATORS
        for case in (str.upper, str.lower, str.title)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    _alias_rows(
        CommandKind.REPORT,
        lambda a, s: (f"{a}{s}jalan rusak", Command(CommandKind.REPORT, text="jalan rusak")),
    ),
)
def test_report_aliases_and_separators(text, expected):
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    _alias_rows(CommandKind.CHECK, lambda a, s: (f"{a}{s}{ID}", Command(CommandKind.CHECK, tracking_no=ID)))
    + [
        pytest.param(f"{alias}{ID}", Command(CommandKind.CHECK, tracking_no=ID), id=f"glued-{alias}")
        for alias in ("CEK", "cek", "STS", "ck", "Status")
    ],
)
def test_check_aliases_and_separators(text, expected):
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    _alias_rows(
        CommandKind.REPLY,
        lambda a, s: (
            f"{a}{s}{ID}{s}sudah beres",
            Command(CommandKind.REPLY, text="sudah beres", tracking_no=ID),
        ),
    )
    + [
        pytest.param(
            f"{alias}{ID} ok", Command(CommandKind.REPLY, text="ok", tracking_no=ID), id=f"glued-{alias}"
        )
        for alias in ("BALAS", "bls")
    ],
)
def test_reply_aliases_and_separators(text, expected):
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(case(alias) + end, id=f"{case.__name__}-{alias}-{end!r}")
        for alias in KEYWORDS[CommandKind.HELP]
        for case in (str.upper, str.lower)
        for end in ("", " ", "?", " ?!", ".", " #")
    ],
)
def test_help_keywords_alone(text):
    assert parse_command(text) == Command(CommandKind.HELP)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(case(alias) + end, Command(kind), id=f"{case.__name__}-{alias}-{end!r}")
        for kind in (CommandKind.OPT_OUT, CommandKind.OPT_IN)
        for alias in KEYWORDS[kind]
        for case in (str.upper, str.lower, str.title)
        for end in ("", " ", ".", " #", " !")
    ]
    + [
        pytest.param("REG STOP", Command(CommandKind.OPT_OUT), id="reg-prefix-stop"),
        pytest.param("reg#berhenti", Command(CommandKind.OPT_OUT), id="reg-prefix-glued"),
        pytest.param("UNREG LAPOR", Command(CommandKind.OPT_OUT), id="unreg-service-name"),
        pytest.param("stop 1708", Command(CommandKind.OPT_OUT), id="stop-short-code"),
        pytest.param("berhenti kirim sms", Command(CommandKind.OPT_OUT), id="berhenti-short-words"),
        pytest.param("  Mulai <spasi> ", Command(CommandKind.OPT_IN), id="mulai-spasi"),
        pytest.param("REG START", Command(CommandKind.OPT_IN), id="reg-prefix-start"),
        pytest.param("START lagi", Command(CommandKind.OPT_IN), id="start-short-words"),
        # A complaint that opens with the word is a complaint, not an opt-out.
        pytest.param(
            "Stop pungli di kantor desa kami",
            Command(CommandKind.REPORT, text="Stop pungli di kantor desa kami", explicit=False),
            id="stop-opens-a-complaint",
        ),
        pytest.param(
            "Mulai kemarin lampu jalan mati semua",
            Command(CommandKind.REPORT, text="Mulai kemarin lampu jalan mati semua", explicit=False),
            id="mulai-opens-a-complaint",
        ),
        # Whole words only.
        pytest.param("STOPKONTAK", Command(CommandKind.HELP), id="stopkontak-is-a-word"),
        pytest.param("mulailah", Command(CommandKind.HELP), id="mulailah-is-a-word"),
    ],
)
def test_opt_out_and_opt_in_keywords(text, expected):
    assert parse_command(text) == expected


def _case(text, expected, label):
    return pytest.param(text, expected, id=label)


CASES = [
    # Missing pieces and bad numbers
    _case("LAPOR", Command(CommandKind.REPORT, problem=Problem.MISSING_TEXT), "bare-lapor"),
    _case("lapor # ", Command(CommandKind.REPORT, problem=Problem.MISSING_TEXT), "lapor-only-separators"),
    _case(
        "LAPOR RAHASIA",
        Command(CommandKind.REPORT, privacy=Privacy.CONFIDENTIAL, problem=Problem.MISSING_TEXT),
        "rahasia-without-text",
    ),
    _case("CEK", Command(CommandKind.CHECK, problem=Problem.MISSING_NUMBER), "bare-cek"),
    _case("cek nomor", Command(CommandKind.CHECK, problem=Problem.MISSING_NUMBER), "cek-label-no-digits"),
    _case(
        "CEK 123",
        Command(CommandKind.CHECK, tracking_no="123", problem=Problem.BAD_NUMBER),
        "cek-short-number",
    ),
    _case(
        f"CEK {TYPO}",
        Command(CommandKind.CHECK, tracking_no=TYPO, problem=Problem.BAD_NUMBER),
        "cek-one-digit-typo",
    ),
    _case(
        f"CEK {SWAP}",
        Command(CommandKind.CHECK, tracking_no=SWAP, problem=Problem.BAD_NUMBER),
        "cek-swapped-digits",
    ),
    _case(
        f"CEK {ID}1",
        Command(CommandKind.CHECK, tracking_no=ID + "1", problem=Problem.BAD_NUMBER),
        "cek-11-digits",
    ),
    _case("BALAS", Command(CommandKind.REPLY, problem=Problem.MISSING_NUMBER), "bare-balas"),
    _case(
        "BALAS sudah beres",
        Command(CommandKind.REPLY, text="sudah beres", problem=Problem.MISSING_NUMBER),
        "balas-short-no-number",
    ),
    _case(
        "BALAS 12345 halo",
        Command(CommandKind.REPLY, text="halo", tracking_no="12345", problem=Problem.BAD_NUMBER),
        "balas-bad",
    ),
    _case(
        f"BALAS {TYPO} ok",
        Command(CommandKind.REPLY, text="ok", tracking_no=TYPO, problem=Problem.BAD_NUMBER),
        "balas-typo",
    ),
    _case(
        f"BALAS {ID}",
        Command(CommandKind.REPLY, tracking_no=ID, problem=Problem.MISSING_TEXT),
        "balas-missing-text",
    ),
    _case(
        f"BALAS {ID} #",
        Command(CommandKind.REPLY, tracking_no=ID, problem=Problem.MISSING_TEXT),
        "balas-only-separator",
    ),
    # Numbers
    _case(
        f"CEK {ID[:4]} {ID[4:8]} {ID[8:]}",
        Command(CommandKind.CHECK, tracking_no=ID),
        "cek-number-in-spaced-groups",
    ),
    _case(
        f"CEK {ID[:4]}-{ID[4:8]}-{ID[8:]}",
        Command(CommandKind.CHECK, tracking_no=ID),
        "cek-number-in-dashed-groups",
    ),
    _case(
        f"CEK {ID[:5]}.{ID[5:]}", Command(CommandKind.CHECK, tracking_no=ID), "cek-number-in-dotted-groups"
    ),
    _case(f"CEK {ID} {ID2}", Command(CommandKind.CHECK, tracking_no=ID), "cek-two-numbers-takes-first"),
    _case(
        f"CEK {SHORT[:4]} {SHORT[4:]} {SHORT_PLUS[8:]}",
        Command(CommandKind.CHECK, tracking_no=SHORT_PLUS, problem=Problem.BAD_NUMBER),
        "cek-groups-never-fall-back-to-a-valid-prefix",
    ),
    _case(
        f"CEK {SHORT} {ID}", Command(CommandKind.CHECK, tracking_no=SHORT), "cek-8-digit-number-then-another"
    ),
    _case(
        f"CEK {SHORT[:4]} {SHORT[4:]}",
        Command(CommandKind.CHECK, tracking_no=SHORT),
        "cek-8-digit-number-in-groups",
    ),
    _case(f"CEK {ID} tolong dicek", Command(CommandKind.CHECK, tracking_no=ID), "cek-trailing-words"),
    _case(f"cek no. {ID}", Command(CommandKind.CHECK, tracking_no=ID), "cek-no-label"),
    _case(f"CEK NOMOR LAPORAN {ID}", Command(CommandKind.CHECK, tracking_no=ID), "cek-nomor-laporan-label"),
    _case(f"CEK STATUS {ID}", Command(CommandKind.CHECK, tracking_no=ID), "cek-status-two-words"),
    _case(f"cek#status#{ID}", Command(CommandKind.CHECK, tracking_no=ID), "cek-status-separators"),
    _case(
        f"BALAS {ID} 3 hari petugas belum datang",
        Command(CommandKind.REPLY, text="3 hari petugas belum datang", tracking_no=ID),
        "reply-text-starts-with-digit",
    ),
    _case(
        f"BALAS {ID[:5]} {ID[5:]} ok",
        Command(CommandKind.REPLY, text=f"{ID[5:]} ok", tracking_no=ID[:5], problem=Problem.BAD_NUMBER),
        "reply-number-is-first-run",
    ),
    _case(
        f"BALAS nomor {ID}: sudah",
        Command(CommandKind.REPLY, text="sudah", tracking_no=ID),
        "reply-nomor-label",
    ),
    _case(
        f"BALAS {ID}\nbaris satu\nbaris dua",
        Command(CommandKind.REPLY, text="baris satu baris dua", tracking_no=ID),
        "reply-multiline",
    ),
    # <spasi>, REG, stray prefixes
    _case(f"CEK<spasi>{ID}", Command(CommandKind.CHECK, tracking_no=ID), "spasi"),
    _case(f"cek<SPASI>{ID}", Command(CommandKind.CHECK, tracking_no=ID), "spasi-upper"),
    _case(f"BALAS<Spasi>{ID}<spasi>ok", Command(CommandKind.REPLY, text="ok", tracking_no=ID), "spasi-twice"),
    _case("LAPOR<spasi>jalan<spasi>rusak", Command(CommandKind.REPORT, text="jalan rusak"), "spasi-in-text"),
    _case("LAPOR < spasi >jalan", Command(CommandKind.REPORT, text="jalan"), "spasi-with-inner-spaces"),
    _case(f"REG CEK {ID}", Command(CommandKind.CHECK, tracking_no=ID), "reg-cek"),
    _case(
        f"reg#balas#{ID}#ok", Command(CommandKind.REPLY, text="ok", tracking_no=ID), "reg-lower-separators"
    ),
    _case(f"REG<spasi>CEK<spasi>{ID}", Command(CommandKind.CHECK, tracking_no=ID), "reg-spasi"),
    _case("REG INFO", Command(CommandKind.HELP), "reg-info"),
    _case("REG", Command(CommandKind.HELP), "reg-alone"),
    _case(f"  #CEK {ID}  ", Command(CommandKind.CHECK, tracking_no=ID), "leading-hash-and-spaces"),
    _case(f"\tcek\t{ID}\r\n", Command(CommandKind.CHECK, tracking_no=ID), "tabs-and-crlf"),
    # Privacy
    _case(
        "LAPOR RAHASIA kades korupsi",
        Command(CommandKind.REPORT, text="kades korupsi", privacy=Privacy.CONFIDENTIAL),
        "rahasia",
    ),
    _case(
        "lapor rahasia kades",
        Command(CommandKind.REPORT, text="kades", privacy=Privacy.CONFIDENTIAL),
        "rahasia-lower",
    ),
    _case(
        "LAPOR#RAHASIA#kades",
        Command(CommandKind.REPORT, text="kades", privacy=Privacy.CONFIDENTIAL),
        "rahasia-hash",
    ),
    _case(
        "LAPOR:rahasia:kades",
        Command(CommandKind.REPORT, text="kades", privacy=Privacy.CONFIDENTIAL),
        "rahasia-colon",
    ),
    _case(
        "ADUAN RAHASIA kades",
        Command(CommandKind.REPORT, text="kades", privacy=Privacy.CONFIDENTIAL),
        "rahasia-after-alias",
    ),
    _case(
        "LAPOR ANONIM guru bolos",
        Command(CommandKind.REPORT, text="guru bolos", privacy=Privacy.ANONYMOUS),
        "anonim",
    ),
    _case(
        "lapor anonymous guru bolos",
        Command(CommandKind.REPORT, text="guru bolos", privacy=Privacy.ANONYMOUS),
        "anonymous",
    ),
    _case(
        "LPR.Anonim.guru bolos",
        Command(CommandKind.REPORT, text="guru bolos", privacy=Privacy.ANONYMOUS),
        "anonim-dots",
    ),
    _case(
        "LAPOR ANONIM",
        Command(CommandKind.REPORT, privacy=Privacy.ANONYMOUS, problem=Problem.MISSING_TEXT),
        "anonim-without-text",
    ),
    _case(
        "LAPOR rahasiaku bocor", Command(CommandKind.REPORT, text="rahasiaku bocor"), "rahasia-prefix-is-text"
    ),
    _case("LAPOR jalan RAHASIA", Command(CommandKind.REPORT, text="jalan RAHASIA"), "rahasia-later-is-text"),
    # Free text that merely starts like a keyword
    _case(
        "Lapangan bola desa rusak parah",
        Command(CommandKind.REPORT, text="Lapangan bola desa rusak parah", explicit=False),
        "lapangan",
    ),
    _case(
        "CEKUNGAN jalan besar di depan sekolah",
        Command(CommandKind.REPORT, text="CEKUNGAN jalan besar di depan sekolah", explicit=False),
        "cekungan",
    ),
    _case(
        "Informasi bantuan sosial tidak sampai ke warga",
        Command(CommandKind.REPORT, text="Informasi bantuan sosial tidak sampai ke warga", explicit=False),
        "informasi",
    ),
    _case(
        "Menunggu KTP sudah tiga bulan belum jadi",
        Command(CommandKind.REPORT, text="Menunggu KTP sudah tiga bulan belum jadi", explicit=False),
        "menunggu",
    ),
    _case(
        "Balasan surat dari dinas tidak pernah datang",
        Command(CommandKind.REPORT, text="Balasan surat dari dinas tidak pernah datang", explicit=False),
        "balasan",
    ),
    _case(
        "Aduh jalan desa rusak lagi",
        Command(CommandKind.REPORT, text="Aduh jalan desa rusak lagi", explicit=False),
        "aduh",
    ),
    _case(
        "Stasiun kereta kotor sekali pak",
        Command(CommandKind.REPORT, text="Stasiun kereta kotor sekali pak", explicit=False),
        "stasiun",
    ),
    _case(
        "Pak tolong, sudah 2 bulan gaji honorer belum dibayar",
        Command(
            CommandKind.REPORT, text="Pak tolong, sudah 2 bulan gaji honorer belum dibayar", explicit=False
        ),
        "tolong-mid-sentence",
    ),
    _case(
        "Tolong, jalan di desa kami rusak parah",
        Command(CommandKind.REPORT, text="Tolong, jalan di desa kami rusak parah", explicit=False),
        "tolong-first-then-complaint",
    ),
    _case(
        "Info jalan di desa kami rusak parah",
        Command(CommandKind.REPORT, text="Info jalan di desa kami rusak parah", explicit=False),
        "info-then-complaint",
    ),
    _case(
        "Status jalan desa kami rusak parah sejak tahun lalu",
        Command(
            CommandKind.REPORT, text="Status jalan desa kami rusak parah sejak tahun lalu", explicit=False
        ),
        "status-then-complaint",
    ),
    _case(
        "Cek jalan rusak di depan pasar kecamatan",
        Command(CommandKind.REPORT, text="Cek jalan rusak di depan pasar kecamatan", explicit=False),
        "cek-then-complaint",
    ),
    _case(
        "Status 3 jembatan di desa kami putus",
        Command(CommandKind.REPORT, text="Status 3 jembatan di desa kami putus", explicit=False),
        "status-small-number-complaint",
    ),
    _case(
        "Jawab dong pak, laporan saya belum ditanggapi",
        Command(CommandKind.REPORT, text="Jawab dong pak, laporan saya belum ditanggapi", explicit=False),
        "jawab-then-complaint",
    ),
    _case(
        "Laporan saya belum ditanggapi",
        Command(CommandKind.REPORT, text="saya belum ditanggapi"),
        "laporan-is-a-keyword",
    ),
    _case(
        "REG jalan desa kami rusak parah",
        Command(CommandKind.REPORT, text="jalan desa kami rusak parah", explicit=False),
        "reg-free-text",
    ),
    # Short messages get the guide
    _case("", Command(CommandKind.HELP), "empty"),
    _case("   ", Command(CommandKind.HELP), "blank"),
    _case("ok", Command(CommandKind.HELP), "ok"),
    _case("tes", Command(CommandKind.HELP), "tes"),
    _case("halo", Command(CommandKind.HELP), "halo"),
    _case("selamat pagi pak", Command(CommandKind.HELP), "greeting-14-letters"),
    _case("tes tes tes", Command(CommandKind.HELP), "three-short-words"),
    _case("123 456 789 000", Command(CommandKind.HELP), "digits-only"),
    _case(ID, Command(CommandKind.HELP), "bare-number"),
    _case("HELP LAPOR", Command(CommandKind.HELP), "help-with-short-word"),
    _case("LAPORRAHASIA", Command(CommandKind.HELP), "keyword-glued-to-letters"),
    _case("😀😀😀 😀😀 😀😀", Command(CommandKind.HELP), "emoji-only"),
    # Unicode and control characters
    _case("LAPOR jalan rusak 😡😡", Command(CommandKind.REPORT, text="jalan rusak 😡😡"), "emoji-in-report"),
    _case(
        "Jalan berlubang 😡 di depan sekolah",
        Command(CommandKind.REPORT, text="Jalan berlubang 😡 di depan sekolah", explicit=False),
        "emoji-free-text",
    ),
    _case(
        "LAPOR “jalan” rusak – parah…",
        Command(CommandKind.REPORT, text="“jalan” rusak – parah…"),
        "ucs2-punctuation-kept",
    ),
    _case("LAPOR\u00a0jalan\u00a0rusak", Command(CommandKind.REPORT, text="jalan rusak"), "nbsp"),
    _case(
        "LAPOR jalan\x00 rusak\x1b parah",
        Command(CommandKind.REPORT, text="jalan rusak parah"),
        "control-chars",
    ),
    _case("LAPOR\njalan\n\nrusak", Command(CommandKind.REPORT, text="jalan rusak"), "newlines-collapsed"),
    _case("ＣＥＫ 1234567890", Command(CommandKind.HELP), "fullwidth-keyword-not-a-keyword"),
    _case(
        "CEK ١٢٣٤٥٦٧٨",
        Command(CommandKind.CHECK, problem=Problem.MISSING_NUMBER),
        "arabic-indic-digits-are-not-a-number",
    ),
    _case(
        "LAPOR RAHASİA kades",
        Command(CommandKind.REPORT, text="RAHASİA kades"),
        "dotted-capital-i-is-not-rahasia",
    ),
    _case(
        "lapor rahasıa kades", Command(CommandKind.REPORT, text="rahasıa kades"), "dotless-i-is-not-rahasia"
    ),
    _case(f"CE\u212a {ID}", Command(CommandKind.HELP), "kelvin-sign-is-not-k"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_command(text, expected):
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("jalan rusak parah", True, id="3-words-15-letters"),
        pytest.param("jalan desa rusak", False, id="3-words-14-letters"),
        pytest.param("jalan  rusak\nparah", True, id="any-whitespace-between-words"),
        pytest.param("jalanrusakparahsekali", False, id="one-long-word"),
        pytest.param("jalan rusakparahsekali", False, id="two-words"),
        pytest.param("jalan 12 rusak 34 parah", True, id="digits-between-words"),
        pytest.param("a b c d e f g h i j k l m n o", True, id="many-tiny-words"),
        pytest.param("", False, id="empty"),
    ],
)
def test_free_text_rule(text, expected):
    assert is_complaint(text) is expected


KNOWN_PROBLEMS = {"", Problem.MISSING_TEXT, Problem.MISSING_NUMBER, Problem.BAD_NUMBER}


def _assert_well_formed(command: Command) -> None:
    assert isinstance(command, Command)
    assert command.kind in KINDS
    assert command.problem in KNOWN_PROBLEMS
    assert command.privacy == Privacy.PUBLIC or command.kind == CommandKind.REPORT
    assert command.explicit or command.kind == CommandKind.REPORT
    assert re.fullmatch(r"[0-9]*", command.tracking_no)
    assert command.text == " ".join(command.text.split())
    assert not any(ord(char) < 32 or ord(char) == 127 for char in command.text)


@given(st.text())
def test_parse_command_never_raises_on_any_text(text):
    _assert_well_formed(parse_command(text))


_PIECES = st.sampled_from(
    [alias for aliases in KEYWORDS.values() for alias in aliases]
    + ["REG", "RAHASIA", "ANONIM", "<spasi>", "NO", ID, TYPO, "123", " ", "#", "-", ".", "\n", "😀", "ç"]
)


@given(st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=12).map("".join))
def test_parse_command_never_raises_on_keyword_soup(text):
    _assert_well_formed(parse_command(text))


def test_parse_command_handles_a_huge_digit_run_quickly():
    _assert_well_formed(parse_command("CEK " + "1 " * 20_000 + "x"))
    _assert_well_formed(parse_command("BALAS " + "9" * 100_000))
