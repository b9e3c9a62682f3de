"""Bad input is refused at the edge (issue 12): every hostile value below gets a 400 naming the
field, the same on SQLite and PostgreSQL, never a 5xx and never a stored row that Python or the
database cannot read back; text in any declared charset is stored exactly; and after all of it
a normal LAPOR still gets its reply."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from gateway.models import InboundMessage
from gateway.security import sign
from tests.conftest import INBOUND_TOKEN
from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import AUTH, file_report, post_mo

SECRET = "upstream-shared-secret"
DEEP_ARRAY = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 2500 + b"1" + b"}" * 2500  # as deep as fits in the 16 KiB body limit


def stored(rt) -> list[InboundMessage]:
    with rt.sessions() as s:
        return list(s.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def count_inbound(rt) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(InboundMessage))


def assert_refused(resp, field: str) -> None:
    assert resp.status_code == 400, (resp.status_code, resp.get_data(as_text=True))
    body = resp.get_json()
    assert (body["error"], body["field"]) == ("invalid_payload", field)


# -- generic MO: every field against what Python and the schema can hold ----------------------

HOSTILE_MO = [
    pytest.param({"timestamp": "9999-12-31T23:59:59-23:59"}, "timestamp", id="ts-year-10000-in-utc"),
    pytest.param({"timestamp": "0001-01-01T00:00:00+23:59"}, "timestamp", id="ts-year-0-in-utc"),
    pytest.param({"timestamp": "0001-01-01T00:00:00Z"}, "timestamp", id="ts-year-1"),
    pytest.param({"timestamp": "1999-12-31T23:59:59Z"}, "timestamp", id="ts-before-2000"),
    pytest.param({"timestamp": "2999-01-01T00:00:00+07:00"}, "timestamp", id="ts-far-future"),
    pytest.param({"to": "1" * 21}, "to", id="to-21-chars"),
    pytest.param({"to": "17\x0008"}, "to", id="to-nul"),
    pytest.param({"to": "1708\x1b"}, "to", id="to-escape"),
    pytest.param({"id": "abc\x00def"}, "id", id="id-nul"),
    pytest.param({"id": "abc\r\nINFO forged"}, "id", id="id-crlf"),
    pytest.param({"id": "x" * 129}, "id", id="id-129-chars"),
    pytest.param({"from": "0812-FLOWERS"}, "from", id="from-vanity-letters"),
    pytest.param({"from": "0812345678AB"}, "from", id="from-trailing-letters"),
    pytest.param({"from": "0812\x0034567890"}, "from", id="from-nul"),
]


@pytest.mark.parametrize(("fields", "field"), HOSTILE_MO)
def test_hostile_generic_mo_fields_are_a_400_naming_the_field(client, rt, fields, field):
    assert_refused(post_mo(client, "LAPOR jalan rusak", **fields), field)
    assert count_inbound(rt) == 0


def test_hostile_generic_mo_as_json_is_refused_the_same(client, rt):
    body = {"from": "081234567890", "to": "1708", "text": "LAPOR x", "id": "j\x00"}
    assert_refused(client.post("/sms/generic/inbound", json=body, headers=AUTH), "id")
    body |= {"id": "j-1", "timestamp": "9999-12-31T23:59:59-23:59"}
    assert_refused(client.post("/sms/generic/inbound", json=body, headers=AUTH), "timestamp")
    assert count_inbound(rt) == 0


@pytest.mark.parametrize(
    "timestamp",
    [
        pytest.param((datetime.now(UTC) - timedelta(days=400)).isoformat(), id="last-year"),
        pytest.param(datetime.now(UTC).isoformat().replace("+00:00", "Z"), id="now-z"),
        pytest.param((datetime.now(UTC) + timedelta(hours=30)).isoformat(), id="clock-skew-a-day-ahead"),
    ],
)
def test_plausible_timestamps_are_stored_and_read_back(client, rt, timestamp):
    assert post_mo(client, "LAPOR jalan rusak", timestamp=timestamp).status_code == 202
    [row] = stored(rt)
    sent = row.sent_at if row.sent_at.tzinfo else row.sent_at.replace(tzinfo=UTC)
    assert sent == datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def test_a_20_char_to_and_separated_numbers_are_still_accepted(client, rt):
    assert post_mo(client, "LAPOR x", sender="(0812) 3456.7890", to="1" * 20).status_code == 202
    assert stored(rt)[0].msisdn == "+6281234567890"


# -- Kannel MO: charset and ts -----------------------------------------------------------------


def kannel_mo(client, query: str, body: bytes | None = None, content_type: str | None = None):
    url = f"/sms/kannel/inbound?from=6281234567890&to=1708&id=k-1&token={INBOUND_TOKEN}&{query}"
    if body is None:
        return client.get(url)
    return client.post(url, data=body, content_type=content_type)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("text=hi&charset=uu", "charset", id="charset-uu"),
        pytest.param("text=hi&charset=bz2", "charset", id="charset-bz2"),
        pytest.param("text=hi&charset=rot13", "charset", id="charset-rot13"),
        pytest.param("text=hi&charset=undefined", "charset", id="charset-undefined"),
        pytest.param("text=hi&charset=idna", "charset", id="charset-idna-strict-only"),
        pytest.param("text=hi&ts=32503680000", "ts", id="ts-year-3000"),
        pytest.param("text=hi&ts=-62135596800", "ts", id="ts-year-1"),
        pytest.param("text=hi&ts=99999999999999999999", "ts", id="ts-overflow"),
    ],
)
def test_hostile_kannel_mo_fields_are_a_400_naming_the_field(client, rt, query, field):
    assert_refused(kannel_mo(client, query), field)
    assert count_inbound(rt) == 0


@pytest.mark.parametrize(
    ("content_type", "codec"),
    [
        pytest.param("text/plain; charset=UTF-16BE", "utf-16-be", id="utf-16be"),
        pytest.param("text/plain; charset=ISO-8859-1", "latin-1", id="latin-1"),
        pytest.param('text/plain; charset="UTF-8"', "utf-8", id="utf-8-quoted"),
    ],
)
def test_kannel_post_url_text_is_decoded_with_the_content_type_charset(client, rt, content_type, codec):
    text = "LAPOR jalan rusak é ü" + (" 你好" if codec != "latin-1" else "")
    resp = kannel_mo(client, "text=ignored", body=text.encode(codec), content_type=content_type)
    assert resp.status_code == 202
    assert stored(rt)[0].text == text


# -- raw form bodies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "codec"),
    [
        pytest.param("application/x-www-form-urlencoded", "utf-8", id="raw-utf8"),
        pytest.param("application/x-www-form-urlencoded; charset=UTF-8", "utf-8", id="raw-utf8-declared"),
        pytest.param("application/x-www-form-urlencoded; charset=ISO-8859-1", "latin-1", id="raw-latin1"),
    ],
)
def test_a_raw_form_body_is_decoded_exactly(client, rt, content_type, codec):
    text = "Jalan rusak di Bekasi é ü" + (" 你好" if codec == "utf-8" else "")
    body = f"from=081234567890&to=1708&id=raw-1&text={text}".encode(codec)
    assert (
        client.post("/sms/generic/inbound", data=body, content_type=content_type, headers=AUTH).status_code
        == 202
    )
    assert stored(rt)[0].text == text


def test_a_percent_encoded_form_body_still_decodes_as_utf8(client, rt):
    body = b"from=081234567890&to=1708&id=pct-1&text=Jalan+%C3%A9+%E4%BD%A0"
    resp = client.post(
        "/sms/generic/inbound", data=body, content_type="application/x-www-form-urlencoded", headers=AUTH
    )
    assert resp.status_code == 202 and stored(rt)[0].text == "Jalan é 你"


def test_a_form_body_in_a_charset_that_is_not_text_is_a_400(client, rt):
    resp = client.post(
        "/sms/generic/inbound",
        data=b"from=081234567890&to=1708&id=x&text=hi",
        content_type="application/x-www-form-urlencoded; charset=bz2",
        headers=AUTH,
    )
    assert_refused(resp, "charset")


# -- delivery reports --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        pytest.param(
            "/sms/generic/status", {"id": "x" * 129, "status": "DELIVERED"}, "id", id="generic-id-129"
        ),
        pytest.param(
            "/sms/generic/status", {"id": "a\x00b", "status": "DELIVERED"}, "id", id="generic-id-nul"
        ),
        pytest.param("/sms/kannel/status", {"id": "\u00b2", "status": "1"}, "id", id="kannel-superscript-2"),
        pytest.param("/sms/kannel/status", {"id": str(2**63), "status": "1"}, "id", id="kannel-2-63"),
        pytest.param("/sms/kannel/status", {"id": str(2**31), "status": "1"}, "id", id="kannel-2-31"),
        pytest.param("/sms/kannel/status", {"id": "0", "status": "1"}, "id", id="kannel-0"),
    ],
)
def test_hostile_dlr_ids_are_a_400_naming_the_field(client, rt, path, data, field):
    assert_refused(client.post(path, data=data, headers=AUTH), field)


def test_a_kannel_dlr_for_the_largest_possible_id_is_accepted(client, rt):
    resp = client.get(f"/sms/kannel/status?id={2**31 - 1}&status=1&token={INBOUND_TOKEN}")
    assert resp.status_code == 200


# -- the admin API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("since=0001-01-01", "since", id="since-year-1"),
        pytest.param("until=9999-12-31", "until", id="until-year-9999"),
        pytest.param("page=" + "9" * 5000, "page", id="page-5000-digits"),
        pytest.param("per_page=" + "1" * 5000, "per_page", id="per-page-5000-digits"),
    ],
)
def test_hostile_admin_query_parameters_are_a_400(client, rt, query, field):
    assert_refused(client.get(f"/api/v1/reports?{query}", headers=bearer(rt, "viewer")), field)


@pytest.mark.parametrize("outbound_id", [2**31, 2**63, 10**30])
def test_requeue_of_an_id_beyond_the_schema_is_a_404(client, rt, outbound_id):
    resp = client.post(f"/api/v1/outbound/{outbound_id}/requeue", headers=bearer(rt, "admin"))
    assert resp.status_code == 404


def test_a_token_name_longer_than_an_actor_can_hold_is_a_cli_error(client, rt, run_jobs, fake_aggregator):
    app = client.application
    runner = app.test_cli_runner()
    result = runner.invoke(args=["token", "create", "--name", "n" * 59, "--role", "admin"])
    assert result.exit_code == 2 and "--name" in result.output and "58" in result.output
    result = runner.invoke(args=["token", "create", "--name", "bad\x00name"])
    assert result.exit_code == 2 and "--name" in result.output
    # 58 characters is the real limit: "token:<name>" is the timeline's actor, String(64).
    result = runner.invoke(args=["token", "create", "--name", "n" * 58, "--role", "admin"])
    assert result.exit_code == 0, result.output
    no_quiet_hours(rt)
    tracking = file_report(client, rt, run_jobs, fake_aggregator)
    resp = client.post(
        f"/api/v1/reports/{tracking}/follow-ups",
        json={"text": "Sudah kami teruskan ke dinas PU"},
        headers={"Authorization": f"Bearer {result.output.strip()}"},
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)


# -- JSON nested deeper than any real payload --------------------------------------------------


def _signed_event(body: bytes) -> dict:
    ts = int(time.time())
    return {"X-Lapor-Timestamp": str(ts), "X-Lapor-Signature": sign(SECRET, ts, body)}


LONE_SURROGATE = (
    b'{"from": "081234567890", "to": "1708", "text": "LAPOR x\\ud800", "id": "s-1", "x": "\\udc00"}'
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(DEEP_ARRAY, id="array"),
        pytest.param(DEEP_OBJECT, id="object"),
        pytest.param(LONE_SURROGATE, id="lone-surrogate"),
    ],
)
@pytest.mark.parametrize(
    "route",
    [
        "/sms/generic/inbound",
        "/sms/generic/status",
        "/ussd/generic",
        "follow-ups",
        "status",
        "replies",
        "events",
    ],
)
def test_json_bodies_no_parser_or_database_can_hold_are_a_400_on_every_json_route(
    client, rt, run_jobs, fake_aggregator, route, body
):
    headers = dict(AUTH)
    if route in ("follow-ups", "status", "replies"):
        tracking = file_report(client, rt, run_jobs, fake_aggregator)
        route, headers = f"/api/v1/reports/{tracking}/{route}", bearer(rt, "admin")
    elif route == "events":
        rt.settings = rt.settings.replace(upstream_secret=SECRET)
        route, headers = "/api/v1/events", _signed_event(body)
    resp = client.post(route, data=body, content_type="application/json", headers=headers)
    assert_refused(resp, "body")


# -- liveness: after every hostile case, a normal MO still gets its reply -----------------------


def test_after_every_hostile_case_a_normal_lapor_gets_its_reply(client, rt, run_jobs, fake_aggregator):
    for n, case in enumerate(HOSTILE_MO):
        fields, _field = case.values
        post_mo(client, "LAPOR hostile", **({"id": f"h-{n}"} | fields))
    for query in ("text=hi&charset=uu", "text=hi&charset=bz2", "text=hi&ts=-62135596800"):
        kannel_mo(client, query)
    client.post("/sms/kannel/status", data={"id": str(2**63), "status": "1"}, headers=AUTH)
    client.post("/sms/kannel/status", data={"id": "\u00b2", "status": "1"}, headers=AUTH)
    client.post("/sms/generic/inbound", data=DEEP_ARRAY, content_type="application/json", headers=AUTH)
    client.post("/sms/generic/inbound", data=LONE_SURROGATE, content_type="application/json", headers=AUTH)
    resp = post_mo(client, "LAPOR jalan rusak parah di depan sekolah", sender="085711112222", msg_id="ok-1")
    assert resp.status_code == 202
    run_jobs()
    replies = [m for m in fake_aggregator.sent() if m["to"] == "+6285711112222"]
    assert len(replies) == 1 and "No. laporan" in replies[0]["text"]
    assert [row.status for row in stored(rt)] == ["DONE"]
    json.dumps([row.sent_at.isoformat() for row in stored(rt) if row.sent_at])  # every row readable


def test_a_kannel_text_that_decodes_to_a_lone_surrogate_is_stored_with_a_replacement(client, rt):
    """utf-7 is a text encoding, but "+2AA-" decodes to U+D800, which neither database driver
    can encode: it was a 500. The character is replaced, like any undecodable byte."""
    assert kannel_mo(client, "text=LAPOR+a%2B2AA-b&charset=utf-7").status_code in (200, 202)
    [row] = stored(rt)
    assert row.text == "LAPOR a\ufffdb"


def test_a_form_body_whose_charset_decodes_to_a_lone_surrogate_is_a_400(client, rt):
    """A generic form body in utf-7 whose text decodes to a lone surrogate: it was a 500
    (UnicodeEncodeError) on both databases; now the surrogate becomes U+FFFD like any invalid
    byte, which the generic contract refuses naming the field."""
    body = b"from=081234567890&to=1708&id=u7-1&text=LAPOR+a%2B2AA-b"
    resp = client.post(
        "/sms/generic/inbound",
        data=body,
        content_type="application/x-www-form-urlencoded; charset=utf-7",
        headers=AUTH,
    )
    assert_refused(resp, "text")
    assert stored(rt) == []
