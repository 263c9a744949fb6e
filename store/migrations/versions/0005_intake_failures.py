"""Nothing lost at the front door, touches from the CRM (issue 15).

``intake_failures`` keeps each record a source sent that could not be taken as a lead, with its
problems, until it is replayed or its payload is purged by the retention job. ``touches`` gains
the CRM's ``outcome`` and ``external_id`` for touches logged through the API; a unique index on
(lead_id, external_id) makes a resent touch a duplicate.

Revision ID: 0005
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "intake_failures",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("replays", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lead_id", _Id, nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_intake_failures_source_fingerprint", "intake_failures", ["source", "fingerprint"], unique=True
    )
    op.create_index("ix_intake_failures_open", "intake_failures", ["resolved_at", "created_at"])
    op.create_index("ix_intake_failures_email", "intake_failures", ["email"])
    with op.batch_alter_table("touches") as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
        batch_op.create_index("uq_touches_lead_external", ["lead_id", "external_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("touches") as batch_op:
        batch_op.drop_index("uq_touches_lead_external")
        batch_op.drop_column("external_id")
        batch_op.drop_column("outcome")
    op.drop_index("ix_intake_failures_email", table_name="intake_failures")
    op.drop_index("ix_intake_failures_open", table_name="intake_failures")
    op.drop_index("uq_intake_failures_source_fingerprint", table_name="intake_failures")
    op.drop_table("intake_failures")
