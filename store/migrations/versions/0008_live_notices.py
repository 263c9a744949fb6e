"""Live notices (issue 14): the nudges and escalations posted about an offer, by message key.

When the offer is accepted, taken over, reassigned or closed, Baton updates every notice listed
here to say what happened (and drops its buttons).

Revision ID: 0008
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("_sentinel", sa.Integer(), nullable=True),
        sa.Column("lead_id", Id, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("handoff_id", Id, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_notices_handoff", "notices", ["handoff_id"])


def downgrade() -> None:
    op.drop_index("ix_notices_handoff", table_name="notices")
    op.drop_table("notices")
