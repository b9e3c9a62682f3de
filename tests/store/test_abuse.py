"""Abuse and hostile input: flood control, signatures, SQL/HTML and control characters,
and arbitrary bytes at the receiver (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gateway import replies
from gateway.models import DeliveryReport, InboundMessage, Report
from gateway.web.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.store.helpers import AUTH, outbox, post_mo, reports, table_away

FLOODER = "081311112222"


def test_a_flooding_number_gets_one_warning_then_silence(client, rt, run_jobs, fake_aggregator, caplog):
    limit = rt.settings.flood_limit
    for n in range(limit + 5):
        assert (
            post_mo(client, f"LAPOR jalan rusak parah nomor {n} di desa", sender=FLOODER).status_code == 202
        )
    run_jobs()
    texts = [m["text"] for m in fake_aggregator.sent()]
    assert len(texts) == limit + 1
    assert texts[-1] == replies.flood_warning()
    assert len(reports(rt)) == limit
    with rt.sessions() as s:
        rows = s.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        # Every text is kept for the record, the flooded ones marked as such.
        assert [r.command for r in rows[limit:]] == ["FLOOD"] * 5
        assert all(r.status == "DONE" for r in rows)
    # Each flood line carries its MO's correlation id, as the MO's other lines do.
    flood_lines = [r for r in caplog.records if r.getMessage().startswith("flood from")]
    assert [r.correlation_id for r in flood_lines] == [f"mo-{r.id}" for r in rows[limit:]]


def test_other_numbers_are_not_affected_by_a_flood(client, rt, run_jobs, fake_aggregator):
    for n in range(rt.settings.flood_limit + 3):
        post_mo(client, f"tes {n}", sender=FLOODER)
    post_mo(client, "LAPOR lampu jalan mati di gang mawar", sender="081399998888")
    run_jobs()
    assert any(m["to"] == "+6281399998888" and "No. laporan" in m["text"] for m in fake_aggregator.sent())


def test_flood_count_is_idempotent_when_a_job_reruns(client, rt, run_jobs, fake_aggregator):
    from gateway.services.flood import texts_in_window

    ids = [post_mo(client, "tes", sender=FLOODER).get_json()["ids"][0] for _ in range(3)]
    with rt.sessions() as s:
        row = s.get(InboundMessage, ids[0])
        received = row.received_at
    from gateway.models import as_utc

    first = texts_in_window(rt, [("+6281311112222", ids[0], as_utc(received))])
    again = texts_in_window(rt, [("+6281311112222", ids[0], as_utc(received))])
    assert first == again == [1]


def test_a_batch_counts_each_text_at_its_own_time(rt):
    """One round trip for a drain's batch gives the same counts as one call per text: a
    text's count covers only texts up to its own time, not the later ones of the batch."""
    from datetime import UTC, datetime, timedelta

    from gateway.services.flood import check_floods, texts_in_window

    t0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    limit = rt.settings.flood_limit
    batch = [("+6281311112222", n, t0 + timedelta(seconds=n)) for n in range(1, limit + 3)]
    assert texts_in_window(rt, batch) == list(range(1, limit + 3))
    assert check_floods(rt, batch)[limit - 1 :] == ["OK", "WARN", "SILENT"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("LAPOR '); DROP TABLE reports; -- jalan rusak", id="sql"),
        pytest.param("LAPOR <script>alert('x')</script> jalan <b>rusak</b>", id="html"),
        pytest.param("LAPOR jalan rusak %s %d {0} ${HOME} $(rm -rf /)", id="format-strings"),
    ],
)
def test_sql_and_html_are_stored_verbatim(client, rt, run_jobs, fake_aggregator, text):
    post_mo(client, text)
    run_jobs()
    [report] = reports(rt)
    assert report.text == text[len("LAPOR ") :]
    assert "No. laporan" in fake_aggregator.sent()[0]["text"]


def test_control_characters_are_removed_but_newlines_kept(client, rt, run_jobs, fake_aggregator):
    post_mo(client, "LAPOR jalan\x00 rusak\x07 di\r\ndesa\x1b kami")
    run_jobs()
    with rt.sessions() as s:
        stored = s.scalars(select(InboundMessage.text)).one()
    assert "\x00" not in stored and "\x07" not in stored and "\x1b" not in stored
    assert reports(rt)[0].text.startswith("jalan rusak di")


class TestSignedGeneric:
    SECRET = "signing-secret"

    @pytest.fixture
    def signed_client(self, rt):
        from gateway.app import create_app

        signed = rt.__class__(
            **{**rt.__dict__, "settings": rt.settings.with_aggregator("generic", signing_secret=self.SECRET)}
        )
        app = create_app(runtime=signed)
        return app.test_client()

    BODY = b"from=081234567890&to=1708&text=LAPOR+jalan+rusak&id=sig-1"
    FORM = {**AUTH, "Content-Type": "application/x-www-form-urlencoded"}

    def post(self, client, body, ts, signature):
        headers = {**self.FORM, TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: signature}
        return client.post("/sms/generic/inbound", data=body, headers=headers)

    def stored(self, rt) -> int:
        with rt.sessions() as s:
            return len(s.scalars(select(InboundMessage.id)).all())

    def test_a_signed_request_retried_after_a_202_is_a_duplicate(self, signed_client, rt):
        """The aggregator did not see our 202 (a timeout) and sends the same request again:
        the normal duplicate answer, not a 401 that makes it give up."""
        now = int(time.time())
        good = sign(self.SECRET, now, self.BODY)
        assert self.post(signed_client, self.BODY, now, good).status_code == 202
        for _ in range(2):
            replay = self.post(signed_client, self.BODY, now, good)
            assert (replay.status_code, replay.get_json()["status"]) == (200, "duplicate")
        assert self.stored(rt) == 1

    def test_a_signed_request_that_got_a_503_can_be_retried(self, signed_client, rt):
        """The database could not store it (503): the aggregator's retry of the very same
        signed request is stored, not refused as a replay (the MO would be lost)."""
        now = int(time.time())
        good = sign(self.SECRET, now, self.BODY)
        with table_away(rt, "inbound_messages"):
            assert self.post(signed_client, self.BODY, now, good).status_code == 503
        retry = self.post(signed_client, self.BODY, now, good)
        assert retry.status_code == 202 and self.stored(rt) == 1

    @pytest.mark.parametrize(
        ("skew", "tamper", "reason"),
        [
            pytest.param(0, True, "bad signature", id="tampered-body"),
            pytest.param(-3600, False, "window", id="too-old"),
            pytest.param(3600, False, "window", id="from-the-future"),
        ],
    )
    def test_bad_signatures_are_refused(self, signed_client, rt, skew, tamper, reason):
        ts = int(time.time()) + skew
        signature = sign(self.SECRET, ts, self.BODY)
        body = self.BODY.replace(b"rusak", b"bagus") if tamper else self.BODY
        resp = self.post(signed_client, body, ts, signature)
        assert resp.status_code == 401 and reason in resp.get_json()["reason"]
        with rt.sessions() as s:
            assert s.scalar(select(InboundMessage.id)) is None

    def test_a_signed_status_retried_after_a_503_is_applied(self, signed_client, rt):
        body = b"id=agg-404&status=DELIVERED"
        now = int(time.time())
        good = sign(self.SECRET, now, body)
        headers = {**self.FORM, TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: good}
        with table_away(rt, "delivery_reports"):
            assert signed_client.post("/sms/generic/status", data=body, headers=headers).status_code == 503
        assert signed_client.post("/sms/generic/status", data=body, headers=headers).status_code == 200
        assert signed_client.post("/sms/generic/status", data=body, headers=headers).status_code == 200
        with rt.sessions() as s:
            assert len(s.scalars(select(DeliveryReport.id)).all()) == 1

    def test_unsigned_request_is_refused(self, signed_client):
        resp = signed_client.post("/sms/generic/inbound", data=self.BODY, headers=self.FORM)
        assert resp.status_code == 401 and "missing signature" in resp.get_json()["reason"]


FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "from": st.text(max_size=30),
        "to": st.text(max_size=10),
        "text": st.text(max_size=300),
        "id": st.text(max_size=140),
        "timestamp": st.text(max_size=30),
    },
)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=FIELDS, as_json=st.booleans(), route=st.sampled_from(["inbound", "status"]))
def test_no_input_makes_the_receiver_fail(client, rt, fields, as_json, route):
    """Whatever an aggregator sends, the answer is an acknowledgement or a clear 4xx, never a 500."""
    url = f"/sms/generic/{route}"
    resp = (
        client.post(url, json=fields, headers=AUTH)
        if as_json
        else client.post(url, data=fields, headers=AUTH)
    )
    assert resp.status_code in (200, 202, 400), (resp.status_code, resp.data)
    if resp.status_code == 400:
        assert resp.get_json()["field"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=400),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
    ),
)
def test_arbitrary_bytes_never_make_the_receiver_fail(client, rt, body, content_type):
    for route in ("/sms/generic/inbound", "/sms/kannel/inbound", "/sms/kannel/status"):
        resp = client.post(route, data=body, headers={**AUTH, "Content-Type": content_type})
        assert resp.status_code in (200, 202, 400), (route, resp.status_code, resp.data)


def test_reports_table_survives_the_injection_attempt(client, rt, run_jobs, fake_aggregator):
    post_mo(client, "LAPOR x'); DELETE FROM reports; --")
    post_mo(client, "LAPOR jalan rusak di depan balai desa")
    run_jobs()
    with rt.sessions() as s:
        assert len(s.scalars(select(Report)).all()) == 2
    assert len(outbox(rt)) == 2
