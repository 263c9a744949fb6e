"""Erasure and retention: remove a person's contact details everywhere, keep the anonymous facts.

What identifies a person: the lead's email, names, phone, website and title.
They are removed from ``leads.data`` and, wherever they were copied (score
explanation, routing trace, feedback notes, outcome reasons, audit before/after, outbox payloads
and errors, webhook bodies), replaced by ``[forgotten]``. Cards already posted
in Slack or Teams are re-rendered without them. What stats need stays: stage,
score, team, owner (a rep), times, source, campaign, company facts.

``leads.forgotten_at`` records when; the audit event ``lead.forgotten`` records
who and why, with a SHA-256 of the email instead of the email.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.audit import AuditAction
from handlers.handoff.cards import refresh_card
from handlers.handoff.outcome import Outcome
from handlers.intake.failures import forget_email as forget_failures
from handlers.messaging import events
from handlers.services import Services
from handlers.text import _, n_
from handlers.text.refusals import RefusalCode, refuse
from store.models import AuditEvent, Feedback, Handoff, Lead, OutboxMessage
from store.models import Outcome as LeadOutcome

IDENTIFYING_FIELDS = ("email", "first_name", "last_name", "phone", "website", "title")
FORGOTTEN = "[forgotten]"
# Leads erased per transaction by the retention purge: bounded locks, bounded memory.
CHUNK = 50
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MIN_PHONE_DIGITS = 6


def email_digest(email: str) -> str:
    """What the audit trail keeps of a forgotten email: enough to answer "was X forgotten?"."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def identifying_values(lead: Lead) -> list[str]:
    """The strings to erase for ``lead``: contact fields, and the full name as written on cards."""
    data = lead.data
    values = [str(data[f]) for f in IDENTIFYING_FIELDS if isinstance(data.get(f), str | int)]
    if lead.email:
        values.append(lead.email)
    full = " ".join(str(data[f]) for f in ("first_name", "last_name") if data.get(f))
    values.append(full)
    return sorted({v.strip() for v in values if len(v.strip()) >= 2}, key=len, reverse=True)


def eraser(values: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern matching any of ``values`` as a whole word, any case; phones in any layout."""
    parts = []
    for value in values:
        digits = re.sub(r"\D", "", value)
        if len(digits) >= _MIN_PHONE_DIGITS and not re.search(r"[A-Za-z@]", value):
            parts.append(r"\+?" + r"[\s().-]*".join(digits))
        else:
            parts.append(r"\s+".join(re.escape(word) for word in value.split()))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE) if parts else None


def scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    """``value`` (JSON-like) with every match of ``pattern`` in its strings replaced."""
    if isinstance(value, str):
        return pattern.sub(FORGOTTEN, value)
    if isinstance(value, dict):
        return {k: scrub(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, pattern) for v in value]
    return value


async def forget(services: Services, email: str, actor: str) -> Outcome:
    """Erase the lead with this email; refused with ``not_found`` (changing nothing) if there is none."""
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        return refuse(RefusalCode.NOT_AN_EMAIL, email=email or _("email.empty"))
    async with services.db.transaction() as session:
        # Refused leads kept as intake failures carry the person's details too (issue 15).
        failures = await forget_failures(session, services, email)
        lead = await session.scalar(select(Lead).where(Lead.email == email).with_for_update())
        if lead is None:
            if failures:
                return Outcome.done(n_("done.forgot_intake_failures", failures, email=email))
            return refuse(RefusalCode.NO_LEAD_WITH_EMAIL, email=email)
        changed = await erase(session, services, [lead], actor, "request")
        external_id = lead.external_id
    services.wake_delivery()
    return Outcome.done(n_("done.forgot_lead", changed, lead=external_id))


async def purge_expired(services: Services) -> int:
    """Erase contact details of leads finished longer ago than ``retention.contact_details_after``.

    Returns how many leads were erased. Safe to run on several replicas at once
    (rows are locked with SKIP LOCKED on PostgreSQL) and to re-run.
    """
    keep_for = services.agreement.retention.contact_details_after
    if keep_for is None:
        return 0
    cutoff = services.clock.now() - keep_for
    total = 0
    while True:
        async with services.db.transaction() as session:
            query = (
                select(Lead)
                .where(Lead.finished_at < cutoff, Lead.forgotten_at.is_(None))
                .order_by(Lead.id)
                .limit(CHUNK)
            )
            if services.db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            leads = list((await session.scalars(query)).all())
            if leads:
                await erase(session, services, leads, "retention", "retention")
        if not leads:
            return total
        total += len(leads)
        services.wake_delivery()


@dataclass
class _Person:
    """One lead being erased: what to erase, and how to recognise rows that are about them."""

    lead: Lead
    pattern: re.Pattern[str]
    needles: set[str]  # strong identifiers as they appear in stored JSON, lower-case
    event_ids: set[int] = field(default_factory=set)

    def owns(self, row: OutboxMessage) -> bool:
        if row.message_key and row.message_key.startswith(f"lead:{self.lead.id}:"):
            return True
        if row.dedupe_key and row.dedupe_key.startswith("webhook:"):
            event_id = row.dedupe_key.split(":")[1]
            if event_id.isdigit() and int(event_id) in self.event_ids:
                return True
        text = json.dumps(row.payload).lower() + " " + (row.last_error or "").lower()
        return any(n in text for n in self.needles)


def _strong(lead: Lead) -> set[str]:
    """Values that single a person out on their own: email, phone, full name."""
    data = lead.data
    full = " ".join(str(data[f]) for f in ("first_name", "last_name") if data.get(f))
    values = [v for v in (lead.email, data.get("phone"), full if " " in full else None) if isinstance(v, str) and v]
    return {json.dumps(v)[1:-1].lower() for v in values} | {json.dumps(v.lower())[1:-1].lower() for v in values}


async def erase(session: AsyncSession, services: Services, leads: Sequence[Lead], actor: str, reason: str) -> int:
    """Erase ``leads`` in the caller's transaction; returns how many rows were changed."""
    now = services.clock.now()
    people: list[_Person] = []
    for lead in leads:
        pattern = eraser(identifying_values(lead))
        if pattern is not None:
            people.append(_Person(lead, pattern, _strong(lead)))
        digest = email_digest(lead.email) if lead.email else None
        removed = sorted(f for f in IDENTIFYING_FIELDS if f in lead.data)
        data = {k: v for k, v in lead.data.items() if k not in IDENTIFYING_FIELDS}
        if pattern is not None:
            data = scrub(data, pattern)
            lead.explanation = scrub(lead.explanation, pattern)
            lead.routing = scrub(lead.routing, pattern)
        lead.data, lead.email, lead.forgotten_at = data, None, now
        await events.record(
            session,
            services,
            lead,
            actor,
            AuditAction.FORGOTTEN,
            None,
            {"reason": reason, "email_sha256": digest, "fields": removed},
        )
    changed = len(leads)
    for person in people:
        lead_id = person.lead.id
        notes = (await session.scalars(select(Feedback).where(Feedback.lead_id == lead_id))).all()
        changed += _scrub_rows(notes, [person.pattern], ("note",))
        reported = (await session.scalars(select(LeadOutcome).where(LeadOutcome.lead_id == lead_id))).all()
        changed += _scrub_rows(reported, [person.pattern], ("reason",))
        audit = (await session.scalars(select(AuditEvent).where(AuditEvent.lead_id == lead_id))).all()
        person.event_ids = {event.id for event in audit}
        changed += _scrub_rows(audit, [person.pattern], ("before", "after"))
    for row in await _outbox_candidates(session, people):
        changed += _scrub_rows([row], [p.pattern for p in people if p.owns(row)], ("payload", "last_error"))
    await session.flush()
    # Cards already in Slack or Teams still show the person: re-render them from the erased lead.
    for lead in leads:
        for handoff in (await session.scalars(select(Handoff).where(Handoff.lead_id == lead.id))).all():
            await refresh_card(session, services, lead, handoff)
    return changed


async def _outbox_candidates(session: AsyncSession, people: Sequence[_Person]) -> Sequence[OutboxMessage]:
    """Outbox rows that may be about ``people``: their cards, their webhooks, any text naming them."""
    if not people:
        return []
    payload, error = func.lower(cast(OutboxMessage.payload, Text)), func.lower(OutboxMessage.last_error)
    conditions = []
    for person in people:
        conditions.append(OutboxMessage.message_key.startswith(f"lead:{person.lead.id}:", autoescape=True))
        conditions += [OutboxMessage.dedupe_key.startswith(f"webhook:{e}:") for e in person.event_ids]
        conditions += [
            c
            for n in person.needles
            for c in (payload.contains(n, autoescape=True), error.contains(n, autoescape=True))
        ]
    return (await session.scalars(select(OutboxMessage).where(or_(*conditions)))).all()


def _scrub_rows(rows: Sequence[Any], patterns: Sequence[re.Pattern[str]], columns: tuple[str, ...]) -> int:
    changed = 0
    for row in rows:
        touched = False
        for column in columns:
            old = new = getattr(row, column)
            for pattern in patterns:
                new = scrub(new, pattern)
            if new != old:
                # A new object, so SQLAlchemy sees the JSON column change.
                setattr(row, column, new)
                touched = True
        changed += touched
    return changed
