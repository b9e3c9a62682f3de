"""Multipart MO (issue 14): a long SMS whose parts an aggregator delivers separately.

`multipart_messages`: one row per long SMS, OPEN while its parts arrive; `open_key` (unique,
set only while OPEN) lets exactly one receiver open it, and closing it (COMPLETE, or
INCOMPLETE after the timeout) makes its one inbox MO (`inbound_id`, unique).
`multipart_parts`: each part as received, unique by the aggregator's id and by its index in
its message, so a repeated part is acknowledged and not stored twice.

Two new tables: nothing existing is rewritten, so the upgrade takes no lock on the busy ones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "multipart_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("aggregator", sa.String(length=32), nullable=False),
        sa.Column("msisdn", sa.String(length=20), nullable=False),
        sa.Column("to", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_key", sa.String(length=96), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound_messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("inbound_id"),
        sa.UniqueConstraint("open_key"),
    )
    op.create_index("ix_multipart_sender_ref", "multipart_messages", ["aggregator", "msisdn", "ref"])
    op.create_index("ix_multipart_status_opened", "multipart_messages", ["status", "opened_at"])
    op.create_table(
        "multipart_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("aggregator", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("part_index", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["multipart_messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("aggregator", "external_id", name="uq_multipart_part_external_id"),
        sa.UniqueConstraint("message_id", "part_index", name="uq_multipart_part_index"),
    )


def downgrade() -> None:
    op.drop_table("multipart_parts")
    op.drop_index("ix_multipart_status_opened", table_name="multipart_messages")
    op.drop_index("ix_multipart_sender_ref", table_name="multipart_messages")
    op.drop_table("multipart_messages")
