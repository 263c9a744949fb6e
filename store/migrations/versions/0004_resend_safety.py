"""Resending is safe (issue 12): activity identities, Idempotency-Key answers, seen HMAC signatures.

``activities.key`` identifies an event within its lead, and a unique index on (lead_id, key)
makes a resent event an ignored duplicate. Existing rows get the key their type and time give
them ("at:<type>@<UTC time>"); rows that an earlier resend duplicated keep their place (scores
are not rewritten by a migration) under "legacy:<id>".

``idempotency_keys`` holds each POST's Idempotency-Key with the answer it got, until it expires;
``seen_signatures`` holds HMAC signatures already used, until their timestamp leaves the window.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _aware(value: datetime | str) -> datetime:
    # SQLite hands back text (stored as UTC without an offset); PostgreSQL an aware datetime.
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _backfill() -> None:
    activities = sa.table(
        "activities",
        sa.column("id", sa.Integer()),
        sa.column("lead_id", sa.Integer()),
        sa.column("type", sa.String()),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("key", sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(activities.c.id, activities.c.lead_id, activities.c.type, activities.c.occurred_at).order_by(
            activities.c.id
        )
    ).all()
    seen: set[tuple[int, str]] = set()
    updates = []
    for row_id, lead_id, kind, occurred_at in rows:
        key = f"at:{kind}@{_aware(occurred_at).isoformat(timespec='microseconds')}"
        if (lead_id, key) in seen:
            key = f"legacy:{row_id}"
        seen.add((lead_id, key))
        updates.append({"row_id": row_id, "new_key": key})
    if updates:
        connection.execute(
            activities.update().where(activities.c.id == sa.bindparam("row_id")).values(key=sa.bindparam("new_key")),
            updates,
        )


def upgrade() -> None:
    with op.batch_alter_table("activities") as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=200), nullable=True))
    _backfill()
    with op.batch_alter_table("activities") as batch_op:
        batch_op.alter_column("key", existing_type=sa.String(length=200), nullable=False)
        batch_op.create_index("uq_activities_lead_key", ["lead_id", "key"], unique=True)

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_idempotency_keys_expires", "idempotency_keys", ["expires_at"])
    op.create_table(
        "seen_signatures",
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature"),
    )
    op.create_index("ix_seen_signatures_expires", "seen_signatures", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_signatures_expires", table_name="seen_signatures")
    op.drop_table("seen_signatures")
    op.drop_index("ix_idempotency_keys_expires", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("activities") as batch_op:
        batch_op.drop_index("uq_activities_lead_key")
        batch_op.drop_column("key")
