"""``feedback [period] [source <name>]``: why reps rejected marketing's leads, with their notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.queries import roles
from handlers.queries.figures import Scope, feedback_scope, rejection_reasons
from handlers.queries.parser import FeedbackQuery
from handlers.queries.periods import resolve, span_text
from handlers.queries.render import pct, person_name, reason_label
from handlers.queries.roles import Viewer
from handlers.queries.stats import zone_for
from handlers.services import Services
from handlers.text import _
from handlers.views.notice import Field, Notice, Table
from store.models import Feedback


@dataclass(frozen=True)
class FeedbackNote:
    reason: str
    rep: str
    note: str
    source: str | None
    at: datetime


async def recent_notes(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime, source: str | None = None, limit: int = 5
) -> list[FeedbackNote]:
    """The latest notes reps wrote in the period (the reasons' words, for marketing)."""
    conditions = [
        Feedback.created_at >= start,
        Feedback.created_at < end,
        Feedback.note.is_not(None),
        Feedback.note != "",
        *feedback_scope(scope),
    ]
    if source is not None:
        conditions.append(func.lower(Feedback.source) == source.lower())
    rows = (
        await session.execute(
            select(Feedback.reason, Feedback.rep, Feedback.note, Feedback.source, Feedback.created_at)
            .where(*conditions)
            .order_by(Feedback.created_at.desc(), Feedback.id.desc())
            .limit(limit)
        )
    ).all()
    return [FeedbackNote(str(r[0]), str(r[1]), str(r[2]), r[3], r[4]) for r in rows]


async def by_source(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime, limit: int = 8
) -> list[tuple[str, int]]:
    # Group by the bare column: PostgreSQL would see two coalesce() calls with separate bind
    # parameters as different expressions.
    rows = (
        await session.execute(
            select(Feedback.source, func.count())
            .where(Feedback.created_at >= start, Feedback.created_at < end, *feedback_scope(scope))
            .group_by(Feedback.source)
            .order_by(func.count().desc(), Feedback.source.asc().nulls_last())
            .limit(limit)
        )
    ).all()
    return [(s or "(none)", int(n)) for s, n in rows]


async def answer_feedback(services: Services, query: FeedbackQuery, viewer: Viewer) -> Notice:
    agreement = services.agreement
    access = roles.feedback_access(agreement, viewer)
    if access.scope is None:
        return Notice(title=_("answer.refused"), lines=[access.refusal or ""])
    scope = access.scope
    period = resolve(query.period, services.clock.now(), zone_for(agreement, viewer.email))
    async with services.db.read() as session:
        reasons = await rejection_reasons(session, scope, period.start, period.end, query.source, limit=20)
        notes = await recent_notes(session, scope, period.start, period.end, query.source)
        sources = [] if query.source else await by_source(session, scope, period.start, period.end)
    total = sum(n for _code, n in reasons)
    if query.source:
        title = _("feedback.title_source", scope=scope.label, source=query.source, period=period.label)
    else:
        title = _("feedback.title", scope=scope.label, period=period.label)
    notice = Notice(title=title, context=_("answer.span", span=span_text(period), zone=period.zone))
    if total == 0:
        notice.lines = [_("feedback.none")]
        return notice
    notice.fields = [Field(label=_("feedback.rejected_leads"), value=str(total))]
    notice.tables = [
        Table(
            columns=[_("feedback.reason"), _("feedback.leads"), _("feedback.share")],
            rows=[[reason_label(agreement, code), str(n), pct(n, total)] for code, n in reasons],
        )
    ]
    if sources:
        notice.fields.append(Field(label=_("feedback.by_source"), value=", ".join(f"{s} {n}" for s, n in sources)))
    notice.lines = [
        _("feedback.note", note=n.note, reason=reason_label(agreement, n.reason), rep=person_name(agreement, n.rep))
        for n in notes
    ]
    return notice
