"""The durable state of Baton. One class per table; behaviour lives in ``handlers/``.

Every table a later query filters or sorts on carries the index for it, named
after the question it answers.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, orm_insert_sentinel

from store.types import UTCDateTime

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Tables written in bulk carry an insert sentinel (``_sentinel``): without it SQLite cannot
# return generated ids in order, and the ORM would insert a batch one row at a time.


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class HandoffState(StrEnum):
    """An offer of a lead to a rep (or a team channel)."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REASSIGNED = "reassigned"
    WITHDRAWN = "withdrawn"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class TimerStatus(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    data: Mapped[dict[str, Any]]
    stage: Mapped[str] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer, default=0)
    fast_track: Mapped[bool] = mapped_column(default=False)
    explanation: Mapped[dict[str, Any]]
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    team: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(320))
    source: Mapped[str | None] = mapped_column(String(200))
    campaign: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    qualified_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    first_touch_at: Mapped[datetime | None]
    sql_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    forgotten_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_leads_stage_updated", "stage", "updated_at"),
        Index("ix_leads_qualified_at", "qualified_at"),
        Index("ix_leads_owner_stage", "owner", "stage"),
        Index("ix_leads_team_qualified", "team", "qualified_at"),
        # Covering index for the stats queries (migration 0002): answered from the index alone.
        Index("ix_leads_qualified_cover", "qualified_at", "team", "owner", "accepted_at", "first_touch_at", "sql_at"),
    )


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    # The event's identity within its lead (handlers/intake/input.py): "id:<client id>",
    # "at:<type>@<UTC time>" or "n:<type>#<n>"; a resent event collides and is ignored.
    key: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime]

    __table_args__ = (Index("uq_activities_lead_key", "lead_id", "key", unique=True),)


class IdempotencyKey(Base):
    """A POST's ``Idempotency-Key``: the request it named (a hash) and the answer it got.

    ``status`` is NULL while the first request is being processed (since ``created_at``)."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_idempotency_keys_expires", "expires_at"),)


class SeenSignature(Base):
    """An HMAC signature already used: the primary key refuses its replay on every replica."""

    __tablename__ = "seen_signatures"

    signature: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_seen_signatures_expires", "expires_at"),)


class RepState(Base):
    """What Baton learns about a rep at run time; who the rep is lives in the agreement."""

    __tablename__ = "reps"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    team: Mapped[str] = mapped_column(String(64))
    out_of_office: Mapped[bool] = mapped_column(default=False)
    rr_credit: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class Handoff(Base):
    """One offer of a lead. ``fence`` grows on every change so stale timers can tell."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(64))
    rep: Mapped[str | None] = mapped_column(String(320))
    mode: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=HandoffState.OFFERED)
    fence: Mapped[int] = mapped_column(Integer, default=1)
    policy: Mapped[dict[str, Any]]
    previous_reps: Mapped[list[Any]]
    offered_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(320))

    __table_args__ = (
        Index("ix_handoffs_rep_state", "rep", "state"),
        Index("ix_handoffs_lead", "lead_id"),
        Index("ix_handoffs_state_offered", "state", "offered_at"),
        Index("ix_handoffs_offered_cover", "state", "offered_at", "team", "rep", "decided_by", "decided_at", "due_at"),
        # At most one open offer per lead: the database enforces "exactly one owner".
        Index(
            "uq_handoffs_open_per_lead",
            "lead_id",
            unique=True,
            sqlite_where=text("state = 'offered'"),
            postgresql_where=text("state = 'offered'"),
        ),
    )


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="SET NULL"))
    rep: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200))
    campaign: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_feedback_created_reason", "created_at", "reason"),)


class Touch(Base):
    __tablename__ = "touches"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    rep: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # Touches logged through the API or a source (issue 15): the CRM's outcome ("connected",
    # "left voicemail") and its id for the touch, which makes a resent touch a duplicate.
    outcome: Mapped[str | None] = mapped_column(String(200), default=None)
    external_id: Mapped[str | None] = mapped_column(String(128), default=None)

    __table_args__ = (
        Index("ix_touches_rep_created", "rep", "created_at"),
        Index("uq_touches_lead_external", "lead_id", "external_id", unique=True),
    )


class AuditEvent(Base):
    """Append-only: who did what to which lead, with the state before and after."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_audit_lead_at", "lead_id", "at"),
        Index("ix_audit_action_at", "action", "at"),
    )


class OutboxMessage(Base):
    """A message to deliver, written in the transaction that caused it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    message_key: Mapped[str | None] = mapped_column(String(200))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # Higher goes first under a backlog (a fast-track lead's card); then the oldest.
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set while a worker holds the row (claimed, not yet settled); a row claimed again while it
    # is still set was never settled, so the earlier send may have happened (``doubtful``).
    claimed_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(64))  # the platform's code for last_error
    pace_scope: Mapped[str | None] = mapped_column(String(300))  # first rate-limit scope, once known

    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_platform_key", "platform", "message_key"),
        # The claim's order (priority first, then the oldest), over pending rows only.
        Index(
            "ix_outbox_pending_order",
            text("priority DESC"),
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class DeliveryScope(Base):
    """One rate-limit scope (``slack:channel:C1``): a Retry-After pause and the pacing state,
    shared by every worker and replica. ``tats`` holds one GCRA theoretical arrival time per
    configured limit (epoch seconds); ``free_at`` is when the scope takes its next call."""

    __tablename__ = "delivery_scopes"

    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    paused_until: Mapped[datetime | None]
    free_at: Mapped[datetime | None]
    tats: Mapped[list[Any]]
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class SentMessage(Base):
    """Where a delivered message landed, so it can be updated later (Slack channel+ts, Teams activity)."""

    __tablename__ = "sent_messages"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime]


class NoticeSent(Base):
    """A nudge or escalation posted about an offer (one row per outbox message key), so that when
    the offer is accepted, taken over, reassigned or closed every such notice can be updated."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"))
    message_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_notices_handoff", "handoff_id"),)


class Timer(Base):
    """A pending SLA step. It fires only while ``fence`` equals its handoff's fence."""

    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"))
    chain: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(Integer)
    fence: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=TimerStatus.PENDING)
    fired_at: Mapped[datetime | None]

    __table_args__ = (
        # Partial: a sweep reads only what is pending, however many timers have fired.
        Index(
            "ix_timers_pending_due",
            "due_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class PeriodicRun(Base):
    """One row per job and period: the primary key makes a second replica's run a no-op."""

    __tablename__ = "periodic_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime]
    instance: Mapped[str] = mapped_column(String(128))


class Conversation(Base):
    """Where a platform lets Baton speak proactively: a Teams ConversationReference, by person or channel.

    ``key`` is an AAD object id, a lower-case email or a channel/conversation id; one reference
    may be stored under several keys. ``gone`` marks a conversation the bot was removed from.
    """

    __tablename__ = "conversations"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    reference: Mapped[dict[str, Any]]
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    gone: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]


class Welcome(Base):
    """A place Baton has welcomed itself in, once per install (``handlers.welcome``)."""

    __tablename__ = "welcomes"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    place: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime]


class Outcome(Base):
    """What became of a lead after SQL, as the CRM reports it: one row per lead and kind.

    ``kind`` is ``opportunity``, ``won`` or ``lost``; a resend of the same kind corrects the row
    instead of adding one, so amounts are never counted twice. ``amount`` is a decimal kept as
    text (exact on every database; summed with ``decimal.Decimal``)."""

    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str | None] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("uq_outcomes_lead_kind", "lead_id", "kind", unique=True),
        Index("ix_outcomes_kind_occurred", "kind", "occurred_at"),
    )


class IntakeFailure(Base):
    """A record a source sent that could not be taken as a lead, with its problems (issue 15).

    ``fingerprint`` (a hash of the source and the record) makes a resent record the same row,
    seen again. ``record`` is the payload as the mapping saw it, kept until the retention job
    purges it (``purged_at``); ``email`` lets a person's erasure find it. A replay that stores
    the lead sets ``resolved_at`` and ``lead_id``.
    """

    __tablename__ = "intake_failures"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(320))
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    problems: Mapped[list[Any]]
    seen: Mapped[int] = mapped_column(Integer, default=1)
    replays: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    purged_at: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_intake_failures_source_fingerprint", "source", "fingerprint", unique=True),
        Index("ix_intake_failures_open", "resolved_at", "created_at"),
        Index("ix_intake_failures_email", "email"),
    )


class AgreementVersion(Base):
    """One content of the agreement as it ran (issue 16): recorded at start and by
    ``baton config check --record`` whenever the content hash differs from the latest record.

    ``changes`` holds the change from the previous record, as data (kind and values) and words;
    ``changed_on`` is the day this content took effect, which ``definition.last_changed`` shows."""

    __tablename__ = "agreement_versions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]]
    changes: Mapped[list[Any]]
    changed_on: Mapped[date]
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(128))

    __table_args__ = (Index("ix_agreement_versions_hash", "content_hash"),)


class AgreementSignoff(Base):
    """A reviewer's "Agree" to one content of the agreement (by its hash; issue 16)."""

    __tablename__ = "agreement_signoffs"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str] = mapped_column(String(320))
    side: Mapped[str] = mapped_column(String(16))  # sales, marketing or other
    source: Mapped[str] = mapped_column(String(16))
    signed_at: Mapped[datetime]

    __table_args__ = (Index("uq_agreement_signoffs_hash_reviewer", "content_hash", "reviewer", unique=True),)
