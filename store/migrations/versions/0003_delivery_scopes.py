"""Delivery against real limits (issue 11): rate-limit scopes, priority, in-flight claims.

``delivery_scopes`` holds, per rate-limit scope (``slack:channel:C123``, ``slack:workspace``...),
the "not before" a platform's Retry-After set (``paused_until``) and the pacing state: one GCRA
theoretical arrival time per configured limit (``tats``, epoch seconds) and ``free_at``, the
earliest moment the scope takes another call, which the claim query filters on. The outbox gains
``priority`` (fast-track cards first), ``claimed_at`` (in flight since; a row claimed again while
it is set was never settled, so its send is doubtful), ``error_code`` (the platform's code for the
last failure) and ``pace_scope`` (the row's first scope, remembered so the claim query can skip
rows whose conversation is paused or paced out).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_scopes",
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("free_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tats", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("error_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pace_scope", sa.String(length=300), nullable=True))
        batch_op.create_index("ix_outbox_pending_order", [sa.text("priority DESC"), "id"], unique=False,
                              sqlite_where=sa.text("status = 'pending'"),
                              postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending_order")
        batch_op.drop_column("pace_scope")
        batch_op.drop_column("error_code")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("priority")
    op.drop_table("delivery_scopes")
