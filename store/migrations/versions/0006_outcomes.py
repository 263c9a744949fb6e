"""Outcomes after SQL (issue 15): opportunity, won and lost, one row per lead and kind.

Revision ID: 0006
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("lead_id", _ID, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.String(40), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("uq_outcomes_lead_kind", "outcomes", ["lead_id", "kind"], unique=True)
    op.create_index("ix_outcomes_kind_occurred", "outcomes", ["kind", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_outcomes_kind_occurred", table_name="outcomes")
    op.drop_index("uq_outcomes_lead_kind", table_name="outcomes")
    op.drop_table("outcomes")
