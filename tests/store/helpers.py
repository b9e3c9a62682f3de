"""Small helpers for the pipeline tests: post an MO like an aggregator, read the outbox."""

from __future__ import annotations

import contextlib
import itertools

from sqlalchemy import select, text

from gateway.models import OutboundMessage, Report
from tests.conftest import INBOUND_TOKEN

AUTH = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
_ids = itertools.count(1)


def post_mo(client, text: str, sender: str = "081234567890", msg_id: str | None = None, **extra):
    """POST a generic MO (form-encoded) and return the response."""
    data = {"from": sender, "to": "1708", "text": text, "id": msg_id or f"mo-{next(_ids)}", **extra}
    return client.post("/sms/generic/inbound", data=data, headers=AUTH)


def outbox(rt) -> list[OutboundMessage]:
    with rt.sessions() as s:
        return list(s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def reports(rt) -> list[Report]:
    with rt.sessions() as s:
        return list(s.scalars(select(Report).order_by(Report.id)))


def last_reply_text(fake) -> str:
    return fake.sent()[-1]["text"]


def file_report(
    client, rt, run_jobs, fake, sender="081234567890", text="LAPOR jalan rusak di depan pasar"
) -> str:
    """File a report end to end and return its tracking number."""
    assert post_mo(client, text, sender).status_code == 202
    run_jobs()
    return reports(rt)[-1].tracking_no


@contextlib.contextmanager
def table_away(rt, table: str):
    """A real database failure for one table on either backend: it is renamed away (every
    statement on it fails, so the receiver answers 503) and back afterwards."""
    with rt.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        yield
    finally:
        rt.engine.dispose()  # PostgreSQL caches plans per connection: start clean
        with rt.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
