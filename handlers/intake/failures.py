"""Intake failures: what a source sent that could not be taken as a lead, kept until it is fixed.

A refused record is kept with its problems (``intake_failures``), once: the same record sent
again is the same row, seen again. ``baton intake failures`` lists them; ``baton intake replay``
checks each again through the source's *current* mapping and, when it maps, takes it exactly as
the request would have (``handlers.intake.leads.ingest``, idempotent by external id) and marks
the failure resolved. The admins hear of refusals in the ops (else managers) channel once per
source and hour, however many leads the burst refused. The retention job drops a failure's
payload and contact details after ``[retention] intake_failures_for`` (sooner when
``contact_details_after`` is shorter); a person's erasure drops those with their email at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.intake import leads as intake
from handlers.intake.source_records import Checked, check_record, identity
from handlers.intake.touches import TouchRefused, log_touches
from handlers.messaging import outbox
from handlers.messaging.alerts import ALERT_DEDUPE
from handlers.services import Services
from handlers.text import _, n_
from handlers.views.notice import Field, Notice
from scoring.sources import Source
from store.models import IntakeFailure

log = logging.getLogger(__name__)
ALERT_PREFIX = f"{ALERT_DEDUPE}intake:"
PURGE_CHUNK = 500


def fingerprint(source: str, record: Any) -> str:
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{source}\n{canonical}".encode()).hexdigest()


def problem_list(problems: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"field": where, "message": message} for where, message in problems]


async def keep(services: Services, source: Source, refused: Sequence[Checked]) -> list[int]:
    """Keep each refused record (or count it seen again) and alert the admins; their ids, in order."""
    for attempt in range(2):
        try:
            async with services.db.transaction() as session:
                ids, new = await _keep(session, services, source, refused)
                if new:
                    await _alert(session, services, source.name, new)
            services.wake_delivery()
            return ids
        except IntegrityError:
            if attempt:  # two replicas keeping the same record at once: the second run finds it
                raise
    raise AssertionError("unreachable")


async def _keep(
    session: AsyncSession, services: Services, source: Source, refused: Sequence[Checked]
) -> tuple[list[int], int]:
    now = services.clock.now()
    prints = [fingerprint(source.name, c.record) for c in refused]
    found = {
        row.fingerprint: row
        for row in await session.scalars(
            select(IntakeFailure).where(IntakeFailure.source == source.name, IntakeFailure.fingerprint.in_(prints))
        )
    }
    rows: list[IntakeFailure] = []
    new = 0
    for checked, print_ in zip(refused, prints, strict=True):
        row = found.get(print_)
        if row is None:
            external_id, email = identity(checked.record, source)
            row = IntakeFailure(
                source=source.name,
                fingerprint=print_,
                external_id=external_id,
                email=email,
                record=checked.record,
                problems=problem_list(checked.problems),
                seen=1,
                replays=0,
                created_at=now,
                last_seen_at=now,
            )
            session.add(row)
            found[print_] = row
            new += 1
        elif row is not None and row not in rows:
            row.seen += 1
            row.last_seen_at = now
            row.problems = problem_list(checked.problems)
        rows.append(row)
    await session.flush()
    return [row.id for row in rows], new


async def _alert(session: AsyncSession, services: Services, source: str, new: int) -> None:
    channels = services.agreement.channels
    where = channels.ops or channels.managers
    if where is None:
        log.warning("%d leads from source %r refused and no [channels] ops or managers channel to tell", new, source)
        return
    now = services.clock.now()
    notice = Notice(
        title=_("intake.alert.title", source=source),
        lines=[
            n_("intake.alert.refused", new, source=source),
            _("intake.alert.next", source=source),
        ],
        fields=[Field(label=_("intake.alert.source"), value=source)],
        context=_("intake.alert.context", at=now.strftime("%Y-%m-%d %H:%M")),
    )
    # One alert per source and hour: the burst's later refusals find the key taken.
    dedupe = f"{ALERT_PREFIX}{source}:{now.strftime('%Y%m%d%H')}"
    await outbox.post(session, services, notice, to_channel=where, dedupe=dedupe)


async def failures(
    services: Services, *, source: str | None = None, resolved: bool = False, limit: int = 50
) -> list[IntakeFailure]:
    """Newest first: the open failures (``resolved``: every failure)."""
    query = select(IntakeFailure).order_by(IntakeFailure.id.desc()).limit(limit)
    if source is not None:
        query = query.where(IntakeFailure.source == source)
    if not resolved:
        query = query.where(IntakeFailure.resolved_at.is_(None))
    async with services.db.read() as session:
        return list((await session.scalars(query)).all())


@dataclass
class Replayed:
    id: int
    source: str
    status: str  # "stored", "refused", "purged", "no source", "resolved before", "unknown"
    external_id: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)


async def replay(
    services: Services, *, ids: Sequence[int] = (), source: str | None = None, every: bool = False
) -> list[Replayed]:
    """Check the chosen open failures again through their source's current mapping; store those
    that map (as their source's actor) and mark them resolved."""
    query = select(IntakeFailure).order_by(IntakeFailure.id)
    if ids:
        query = query.where(IntakeFailure.id.in_(ids))
    else:
        query = query.where(IntakeFailure.resolved_at.is_(None))
        if source is not None:
            query = query.where(IntakeFailure.source == source)
        elif not every:
            return []
    async with services.db.read() as session:
        rows = list((await session.scalars(query)).all())
    out = [Replayed(i, "", "unknown") for i in ids if i not in {r.id for r in rows}]
    for row in rows:
        out.append(await _replay_one(services, row))
    return sorted(out, key=lambda r: r.id)


async def _replay_one(services: Services, row: IntakeFailure) -> Replayed:
    result = Replayed(row.id, row.source, "refused", row.external_id)
    if row.resolved_at is not None:
        result.status = "resolved before"
        return result
    if row.purged_at is not None:
        result.status = "purged"
        return result
    source = services.agreement.source(row.source)
    if source is None:
        result.status = "no source"
        return result
    now = services.clock.now()
    checked = check_record(services.agreement, now, source, row.record)
    if checked.lead is None:
        result.problems = problem_list(checked.problems)
        async with services.db.transaction() as session:
            await session.execute(
                update(IntakeFailure)
                .where(IntakeFailure.id == row.id)
                .values(replays=IntakeFailure.replays + 1, problems=result.problems)
            )
        return result
    (outcome,) = await intake.ingest(services, [checked.lead], actor=f"source:{source.name}")
    if checked.touches:
        try:
            await log_touches(services, outcome.external_id, checked.touches)
        except TouchRefused as exc:  # the lead is stored; its touches are told, as the source's answer tells them
            result.problems = [{"field": f"touches{f}", "message": m} for f, m in exc.problems] or [
                {"field": "touches", "message": exc.error}
            ]
    async with services.db.transaction() as session:
        await session.execute(
            update(IntakeFailure)
            .where(IntakeFailure.id == row.id)
            .values(replays=IntakeFailure.replays + 1, resolved_at=now, lead_id=outcome.lead_id, problems=[])
        )
    result.status, result.external_id = "stored", outcome.external_id
    return result


def keep_for(services: Services) -> timedelta:
    """How long a failure's payload is kept: ``intake_failures_for``, or ``contact_details_after`` if sooner."""
    retention = services.agreement.retention
    after = retention.contact_details_after
    return min(retention.intake_failures_for, after) if after is not None else retention.intake_failures_for


async def purge_expired(services: Services) -> int:
    """Drop the payload and email of failures kept long enough (the problems name fields, not values)."""
    now = services.clock.now()
    cutoff = now - keep_for(services)
    purged = 0
    while True:
        async with services.db.transaction() as session:
            chosen = list(
                await session.scalars(
                    select(IntakeFailure.id)
                    .where(IntakeFailure.purged_at.is_(None), IntakeFailure.created_at <= cutoff)
                    .limit(PURGE_CHUNK)
                )
            )
            if not chosen:
                return purged
            await _purge(session, chosen, now)
            purged += len(chosen)


async def forget_email(session: AsyncSession, services: Services, email: str) -> int:
    """A person's erasure: drop every kept failure that carries their email, now: as the mapped
    email, or anywhere in the payload (a record is often refused because its email is not where
    the mapping looks)."""
    email = email.strip().lower()
    pattern = "%" + email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    chosen = list(
        await session.scalars(
            select(IntakeFailure.id).where(
                IntakeFailure.purged_at.is_(None),
                or_(IntakeFailure.email == email, cast(IntakeFailure.record, Text).ilike(pattern, escape="\\")),
            )
        )
    )
    if chosen:
        await _purge(session, chosen, services.clock.now())
    return len(chosen)


async def _purge(session: AsyncSession, ids: Sequence[int], now: Any) -> None:
    await session.execute(
        update(IntakeFailure).where(IntakeFailure.id.in_(ids)).values(record=None, email=None, purged_at=now)
    )
