"""Indexes for the admin API's report list (GET /api/v1/reports, gateway.services.admin
.list_reports): newest first (ORDER BY created_at DESC, id DESC, LIMIT one page), optionally
filtered by status or a date range. Without an index every page read the whole reports table
and sorted it, and the table only grows (every complaint since launch). (created_at, id)
serves the unfiltered list and date ranges, read backwards; (status, created_at, id) the list
of one status (the triage view: RECEIVED, newest first) and its count. Writing a report
touches two more index entries, once per complaint, not per MO.

Building them takes a share lock on reports (writes wait): about a second at 100,000 reports
(bench/migration.py measures it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_created", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_reports_status_created", ["status", "created_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_status_created")
        batch_op.drop_index("ix_reports_created")
