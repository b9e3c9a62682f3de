"""The handler console and the /phone simulator as an attacker sees them, on both databases:
every POST without or with a wrong CSRF token (400 naming csrf_token, as README "Handler
console" says, and nothing changes), every admin POST by a viewer (403), a tampered or foreign
session cookie (logged out), a revoked token (no log-in, and its session ends), a citizen's
`<script>` shown escaped in the queue, the thread and /phone, huge or odd query parameters on
the queue (400 naming the parameter, never a 5xx), and `next` redirects that would leave the
console."""

from __future__ import annotations

import pytest
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from gateway.app import create_app
from gateway.models import ReportEvent
from gateway.services.tokens import create_token, revoke_tokens
from tests.store.console_helpers import console_client, csrf_of, log_in
from tests.store.helpers import file_report, outbox, post_mo

SCRIPT = "<script>alert(1)</script>"
CITIZEN = "081277776666"
COOKIE = "lapor_console"


@pytest.fixture
def console(rt):
    return console_client(rt)


@pytest.fixture
def report_no(client, rt, run_jobs, fake_aggregator):
    return file_report(
        client, rt, run_jobs, fake_aggregator, CITIZEN, f"LAPOR jalan rusak {SCRIPT} di Jl Mawar"
    )


def _posts(no: str) -> list[tuple[str, dict]]:
    """Every POST of the console with a valid form (less its CSRF token)."""
    return [
        (f"/console/reports/{no}/status", {"status": "VERIFIED", "note": "dicek"}),
        (f"/console/reports/{no}/follow-up", {"text": "Petugas datang Senin"}),
        (f"/console/reports/{no}/reply", {"text": "Terima kasih"}),
        (f"/console/reports/{no}/reply/count", {"text": "x"}),
        ("/console/outbox/1/requeue", {}),
        ("/console/quarantine/1/retry", {}),
        ("/console/quarantine/1/drop", {}),
        ("/console/logout", {}),
    ]


def _changes(rt) -> tuple[int, int]:
    """What a POST could have changed: events on reports, and SMS queued."""
    with rt.sessions() as s:
        return s.query(ReportEvent).count(), len(outbox(rt))


@pytest.mark.parametrize("csrf", [None, "forged", "x" * 10_000], ids=["missing", "forged", "huge"])
def test_every_post_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    console, rt, report_no, csrf
):
    log_in(console, rt)
    before = _changes(rt)
    for path, form in _posts(report_no):
        data = form if csrf is None else {**form, "csrf_token": csrf}
        resp = console.post(path, data=data)
        assert resp.status_code == 400, path
        assert "csrf_token" in resp.get_data(as_text=True), path
    assert _changes(rt) == before
    assert console.get("/console/").status_code == 200  # still logged in: logout was refused too


def test_the_csrf_token_of_another_session_is_refused(rt, report_no):
    ours, theirs = console_client(rt), console_client(rt)
    log_in(ours, rt)
    stolen = log_in(theirs, rt, name="someone-else")
    resp = ours.post(f"/console/reports/{report_no}/follow-up", data={"text": "x", "csrf_token": stolen})
    assert resp.status_code == 400


def test_every_admin_post_by_a_viewer_is_403_and_changes_nothing(console, rt, report_no):
    csrf = log_in(console, rt, "viewer")
    before = _changes(rt)
    for path, form in _posts(report_no)[:-1]:  # a viewer may log out
        assert console.post(path, data={**form, "csrf_token": csrf}).status_code == 403, path
    assert _changes(rt) == before


def _tampered(value: str) -> list[str]:
    flipped = value[:-3] + ("A" if value[-3] != "A" else "B") + value[-2:]
    return [flipped, value + "x", "." + value, value.split(".")[0], "", "null", "\x00" * 10, "x" * 4000]


def test_a_tampered_session_cookie_is_logged_out(console, rt):
    log_in(console, rt)
    value = console.get_cookie(COOKIE).value
    for forged in _tampered(value):
        console.set_cookie(COOKIE, forged)
        resp = console.get("/console/")
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/console/login"), forged[:20]


def test_a_session_signed_with_another_secret_is_logged_out(console, rt):
    log_in(console, rt)
    key_id = _session_of(console, rt)["key_id"]
    foreign = SecureCookieSessionInterface()
    signer = URLSafeTimedSerializer(
        "not-our-secret-0123456789", salt=foreign.salt, serializer=foreign.serializer,
        signer_kwargs={"key_derivation": foreign.key_derivation, "digest_method": foreign.digest_method},
    )  # fmt: skip
    console.set_cookie(COOKIE, signer.dumps({"key_id": key_id, "csrf": "x"}))
    assert console.get("/console/").status_code == 302


def _session_of(console, rt) -> dict:
    app = create_app(runtime=rt)
    interface = app.session_interface
    return interface.get_signing_serializer(app).loads(console.get_cookie(COOKIE).value)


def test_a_revoked_token_cannot_log_in_and_its_session_ends(console, rt):
    token = create_token(rt, "petugas-lama", "admin")
    csrf = csrf_of(console.get("/console/login").get_data(as_text=True))
    assert console.post("/console/login", data={"token": token, "csrf_token": csrf}).status_code == 302
    assert console.get("/console/").status_code == 200
    revoke_tokens(rt, "petugas-lama")
    assert console.get("/console/").status_code == 302  # the live session ends at once
    csrf = csrf_of(console.get("/console/login").get_data(as_text=True))
    assert console.post("/console/login", data={"token": token, "csrf_token": csrf}).status_code == 401


def _escaped(html: str) -> bool:
    return SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_citizens_script_is_shown_escaped_in_the_queue_and_the_thread(console, rt, report_no):
    log_in(console, rt)
    assert _escaped(console.get("/console/").get_data(as_text=True))
    assert _escaped(console.get("/console/", query_string={"q": "jalan"}).get_data(as_text=True))
    assert _escaped(console.get(f"/console/reports/{report_no}").get_data(as_text=True))


def test_a_script_in_the_search_box_or_a_filter_is_shown_escaped(console, rt):
    log_in(console, rt)
    assert _escaped(console.get("/console/", query_string={"q": SCRIPT}).get_data(as_text=True))
    resp = console.get("/console/", query_string={"status": SCRIPT})
    assert resp.status_code == 400 and SCRIPT not in resp.get_data(as_text=True)


def test_a_script_sent_from_the_phone_is_shown_escaped_there(rt, run_jobs):
    rt.settings = rt.settings.replace(outbound="log")
    app = create_app(runtime=rt)
    app.testing = True
    phone = app.test_client()
    assert post_mo(phone, f"LAPOR {SCRIPT} di gang", sender=CITIZEN).status_code == 202
    run_jobs()
    for path in ("/phone/", "/phone/messages"):
        assert _escaped(phone.get(path, query_string={"number": CITIZEN}).get_data(as_text=True)), path
    resp = phone.get("/phone/", query_string={"number": SCRIPT})
    assert resp.status_code == 400 and SCRIPT not in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"q": "x" * 100_000}, id="q-100k"),
        pytest.param({"q": "\x00"}, id="q-nul"),
        pytest.param({"q": "\ud800"}, id="q-lone-surrogate"),
        pytest.param({"page": "9" * 400}, id="page-huge"),
        pytest.param({"page": "-1"}, id="page-negative"),
        pytest.param({"page": "²"}, id="page-superscript"),
        pytest.param({"status": "x" * 10_000}, id="status-huge"),
        pytest.param({"q": ["a", "b"], "page": ["1", "2"]}, id="duplicated"),
    ],
)
def test_odd_queue_parameters_are_a_400_naming_them_or_answered(console, rt, query):
    log_in(console, rt)
    if any(isinstance(v, str) and "\ud800" in v for v in query.values()):
        resp = console.get("/console/?q=%ED%A0%80")  # the surrogate as UTF-8 would carry it
    else:
        resp = console.get("/console/", query_string=query)
    assert resp.status_code in (200, 400), resp.status_code
    if resp.status_code == 400:
        assert any(f"{name}: " in resp.get_data(as_text=True) for name in query)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/console/\\..\\//evil.example",
        "/console//evil.example",
        "\\\\evil.example",
        "/console/%0d%0aSet-Cookie:x=1",
        "javascript:alert(1)",
        " //evil.example",
    ],
)
def test_log_in_never_redirects_out_of_the_console(console, rt, target):
    token = create_token(rt, "t", "viewer")
    csrf = csrf_of(console.get("/console/login").get_data(as_text=True))
    resp = console.post(
        "/console/login", query_string={"next": target}, data={"token": token, "csrf_token": csrf}
    )
    location = resp.headers["Location"]
    assert resp.status_code == 302
    # A path under /console/ cannot change the host (only a leading // or /\ could).
    assert location.startswith("/console/"), location
    assert "\\" not in location and "\r" not in location and "\n" not in location, location
