"""Enum members are stored as their values, byte for byte, on both databases (issue 16): read
back with raw SQL, not through the ORM, so a driver that adapted an enum by its name (psycopg
has such an adapter for `enum.Enum`) would show here. The members picked are those whose name
differs from their value."""

from __future__ import annotations

from sqlalchemy import text

from gateway.models import ApiRole, InboundMessage, InboundStatus, utcnow
from gateway.parsers.commands import CommandKind
from gateway.services.tokens import create_token
from tests.store.helpers import post_mo


def _raw(rt, sql: str) -> list[tuple]:
    with rt.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def test_a_stop_mo_is_stored_with_the_command_STOP(rt, client, run_jobs):
    assert post_mo(client, "STOP").status_code in (200, 202)
    run_jobs()
    assert _raw(rt, "SELECT status, command FROM inbound_messages") == [("DONE", "STOP")]


def test_an_admin_token_is_stored_with_the_role_admin(rt):
    create_token(rt, "ops", ApiRole.ADMIN)
    assert _raw(rt, "SELECT role FROM api_tokens") == [("admin",)]


def test_a_member_written_through_the_orm_reads_back_as_a_plain_string(rt):
    with rt.transaction() as s:
        s.add(
            InboundMessage(
                aggregator="generic",
                external_id="x-1",
                msisdn="+6281234567890",
                to="1708",
                text="STOP",
                status=InboundStatus.PENDING,
                command=CommandKind.OPT_OUT,
                received_at=utcnow(),
            )
        )
    [(status, command)] = _raw(rt, "SELECT status, command FROM inbound_messages")
    assert (type(status), status, type(command), command) == (str, "PENDING", str, "STOP")
