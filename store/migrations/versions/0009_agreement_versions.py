"""Agreement versions and sign-offs (issue 16): each content of the agreement that ran, with its
change, and each reviewer's "Agree" to a content (by its hash).

Revision ID: 0009
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agreement_versions_hash", "agreement_versions", ["content_hash"])
    op.create_table(
        "agreement_signoffs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("reviewer", sa.String(length=320), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_agreement_signoffs_hash_reviewer", "agreement_signoffs", ["content_hash", "reviewer"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_agreement_signoffs_hash_reviewer", table_name="agreement_signoffs")
    op.drop_table("agreement_signoffs")
    op.drop_index("ix_agreement_versions_hash", table_name="agreement_versions")
    op.drop_table("agreement_versions")
