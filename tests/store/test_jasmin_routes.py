"""Jasmin through the app on SQLite and PostgreSQL: recorded MOs and DLRs posted to
/sms/jasmin/..., answered `ACK/Jasmin`; the reply sent to a Jasmin `/send` played by a real
server on 127.0.0.1; hostile pushes refused naming the field while a LAPOR still gets its reply."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import pytest
from sqlalchemy import select

from config.settings import load_settings
from gateway.models import InboundMessage
from tests.conftest import INBOUND_TOKEN, TEST_REDIS_URL, _database_url
from tests.store.helpers import outbox, reports
from tests.support.recorded import body_of, load

SEND_ID = "07033084-5cfd-4812-90a4-e4d24ffb6e3d"


@pytest.fixture
def settings(backend, tmp_path, redis_db, fake_aggregator):
    """The gateway sending through Jasmin, whose /send answers `Success "<id>"`."""
    fake_aggregator.on_send = lambda req: (200, f'Success "{SEND_ID}"', {"Content-Type": "text/plain"})
    env = {
        "DATABASE_URL": _database_url(backend, tmp_path),
        "REDIS_URL": TEST_REDIS_URL,
        "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
        "GATEWAY_OUTBOUND": "jasmin",
        "GATEWAY_JASMIN_BASE_URL": fake_aggregator.url.removesuffix("/send"),
        "GATEWAY_JASMIN_USERNAME": "gateway",
        "GATEWAY_JASMIN_PASSWORD": "pw",
        "GATEWAY_PUBLIC_URL": "https://gw.example.id",
        "GATEWAY_SEND_BACKOFF_BASE": "0.01",
        "GATEWAY_SEND_BACKOFF_MAX": "0.05",
        "GATEWAY_SEND_TIMEOUT": "2",
    }
    return load_settings(env, dotenv_path=None)


def push(client, name: str, **changes):
    """POST a recorded Jasmin push as Jasmin sends it (token in the URL), fields changed."""
    fx = load("jasmin", name)
    body = body_of(fx)
    if changes:
        fields = {
            k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True, encoding="latin-1").items()
        }
        body = urlencode({**fields, **changes}, encoding="latin-1").encode()
    return client.open(
        fx["path"], method=fx["method"], query_string=fx["query_string"], data=body, headers=fx["headers"]
    )


def sent_forms(fake) -> list[dict[str, str]]:
    return [{k: v[0] for k, v in parse_qs(r.body.decode()).items()} for r in fake.requests]


def inbox_texts(rt) -> list[str]:
    with rt.sessions() as s:
        return list(s.scalars(select(InboundMessage.text).order_by(InboundMessage.id)))


def test_an_mo_is_acked_replied_to_and_its_dlr_applied(client, rt, run_jobs, fake_aggregator):
    for _ in range(2):  # Jasmin throws again when unsure: acknowledged, filed once
        resp = push(client, "mo_gsm7")
        assert (resp.status_code, resp.get_data(as_text=True)) == (200, "ACK/Jasmin")
    run_jobs()
    assert inbox_texts(rt) == [load("jasmin", "mo_gsm7")["expected_text"]]
    [form] = sent_forms(fake_aggregator)
    assert (fake_aggregator.requests[0].method, fake_aggregator.requests[0].path) == ("POST", "/send")
    assert (form["to"], form["coding"], form["dlr-level"], form["dlr-method"]) == (
        "6281234567890",
        "0",
        "3",
        "POST",
    )
    assert form["dlr-url"] == f"https://gw.example.id/sms/jasmin/status?token={INBOUND_TOKEN}"
    assert reports(rt)[0].tracking_no in form["content"]
    [out] = outbox(rt)
    assert (out.aggregator, out.status, out.external_id, out.encoding, out.segments) == (
        "jasmin",
        "ACCEPTED",
        SEND_ID,
        "GSM-7",
        1,
    )

    for name in ("dlr_level1_ok", "dlr_level2_delivered", "dlr_level1_ok"):  # a late level 1 last
        resp = push(client, name)
        assert (resp.status_code, resp.get_data(as_text=True)) == (200, "ACK/Jasmin")
    assert outbox(rt)[0].status == "DELIVERED"  # never moved back by the late one


def test_ucs2_and_long_mos_are_stored_as_their_text(client, rt):
    for name in ("mo_ucs2", "mo_long_joined"):
        assert push(client, name).status_code == 200
    assert inbox_texts(rt) == [load("jasmin", n)["expected_text"] for n in ("mo_ucs2", "mo_long_joined")]


def test_parts_with_a_16bit_udh_file_one_complaint(client, rt, run_jobs, fake_aggregator):
    for name in ("mo_part2_udh16", "mo_part1_udh16", "mo_part2_udh16"):  # out of order, once again
        resp = push(client, name)
        assert (resp.status_code, resp.get_data(as_text=True)) == (200, "ACK/Jasmin")
    run_jobs()
    assert inbox_texts(rt) == [load("jasmin", "mo_long_joined")["expected_text"]]
    assert len(reports(rt)) == 1 and len(fake_aggregator.requests) == 1


@pytest.mark.parametrize(
    ("name", "changes", "field"),
    [
        pytest.param("mo_binary_coding", {}, "coding", id="mo-8bit-binary"),
        pytest.param("mo_gsm7", {"binary": "4c41504f52zz"}, "binary", id="mo-binary-not-hex"),
        pytest.param("mo_gsm7", {"coding": "\x00\x00\x00\x00"}, "coding", id="mo-coding-garbage"),
        pytest.param("mo_gsm7", {"id": "x" * 129}, "id", id="mo-id-too-long"),
        pytest.param(
            "dlr_level2_delivered", {"message_status": "<script>"}, "message_status", id="dlr-status"
        ),
        pytest.param("dlr_level2_delivered", {"id": "a\r\nb"}, "id", id="dlr-id-control-chars"),
    ],
)
def test_a_hostile_push_is_refused_naming_the_field_and_a_lapor_still_gets_its_reply(
    client, rt, run_jobs, fake_aggregator, name, changes, field
):
    resp = push(client, name, **changes)
    assert (resp.status_code, resp.get_json()["field"]) == (400, field)
    assert push(client, "mo_gsm7").status_code == 200
    run_jobs()
    assert len(reports(rt)) == 1 and len(fake_aggregator.requests) == 1


def test_without_the_token_nothing_is_stored(client, rt):
    fx = load("jasmin", "mo_gsm7")
    resp = client.post(fx["path"], data=body_of(fx), headers=fx["headers"])
    assert resp.status_code == 401 and inbox_texts(rt) == []
