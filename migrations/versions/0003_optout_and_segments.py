"""Opt-out and cost accounting (issue 15, items 4 and 5).

`opt_outs`: numbers that texted BERHENTI, STOP or UNREG. Notices (follow-ups, status
changes, admin replies, SLA closings, the USSD dead-draft SMS) to them are stored as
SUPPRESSED instead of sent; MULAI or START deletes the row. Keyed by the E.164 number (one
row however often a number asks), with when, through which channel and which MO asked.

`outbound_messages.segments` and `.encoding`: what each MT costs (SMS segments, GSM-7 or
UCS-2), counted when it is queued, so the admin API can report segments spent per report and
per day without recounting texts. Existing rows are counted here, a thousand at a time, with
the same functions the gateway uses (gateway.gsm7): one pass over outbound_messages, which
writes every row once (not measured at production size: bench/migration.py seeds no MTs).
Both columns stay nullable so adding them does not rebuild the table on SQLite.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gateway.gsm7 import encoding, segments

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "opt_outs",
        sa.Column("msisdn", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound_messages.id"]),
        sa.PrimaryKeyConstraint("msisdn"),
    )
    op.add_column("outbound_messages", sa.Column("segments", sa.Integer(), nullable=True))
    op.add_column("outbound_messages", sa.Column("encoding", sa.String(length=8), nullable=True))
    _count_existing()


def _count_existing() -> None:
    """Segments and encoding of every MT queued before this revision."""
    conn = op.get_bind()
    table = sa.table(
        "outbound_messages",
        sa.column("id", sa.Integer),
        sa.column("text", sa.Text),
        sa.column("segments", sa.Integer),
        sa.column("encoding", sa.String),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, table.c.text)
            .where(table.c.id > last, table.c.segments.is_(None))
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            table.update().where(table.c.id == sa.bindparam("row_id")),
            [{"row_id": i, "segments": segments(t), "encoding": encoding(t)} for i, t in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite has it since 3.35): a batch rebuild would drop
    # outbound_messages, which delivery_reports' foreign key forbids while rows point at it.
    op.drop_column("outbound_messages", "encoding")
    op.drop_column("outbound_messages", "segments")
    op.drop_table("opt_outs")
