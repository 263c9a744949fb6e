"""Covering indexes for the stats queries (issue 5).

``stats this quarter`` scans a quarter of offers and of MQLs several times; with
every column those scans read inside the index, SQLite and PostgreSQL answer
them from the index alone instead of visiting each table row. The handoffs index
leads with ``state`` (a superset of ``ix_handoffs_state_offered``), so both
"accepted offers in the period" and "all offers in the period" (queried as
``state IN (every state)``) are index range scans.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_handoffs_offered_cover", "handoffs",
                    ["state", "offered_at", "team", "rep", "decided_by", "decided_at", "due_at"])
    op.create_index("ix_leads_qualified_cover", "leads",
                    ["qualified_at", "team", "owner", "accepted_at", "first_touch_at", "sql_at"])


def downgrade() -> None:
    op.drop_index("ix_leads_qualified_cover", table_name="leads")
    op.drop_index("ix_handoffs_offered_cover", table_name="handoffs")
