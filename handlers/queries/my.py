"""``my``: a rep's open offers and accepted leads with their deadlines (also the Slack App Home)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select

from handlers.followup import sla
from handlers.queries.periods import local_week
from handlers.queries.render import when
from handlers.queries.stats import zone_for
from handlers.services import Services
from handlers.text import _, n_
from handlers.views.notice import Notice, Table
from scoring.agreement import Agreement, Stage
from store.models import Handoff, HandoffState, Lead, Touch

LIMIT = 25


@dataclass(frozen=True)
class MyLead:
    """One line of a rep's list: ``due_at`` is an offer's accept-by time, or an accepted lead's
    first-touch deadline (None when the policy has no first-touch steps)."""

    lead_id: int
    handoff_id: int
    name: str
    company: str | None
    score: int
    due_at: datetime | None
    first_touch_at: datetime | None = None


@dataclass
class MyLeads:
    offers: list[MyLead] = field(default_factory=list)
    accepted: list[MyLead] = field(default_factory=list)
    touches_this_week: int = 0


def _item(lead: Lead, handoff: Handoff, due_at: datetime | None) -> MyLead:
    data = lead.data
    name = " ".join(str(p) for p in (data.get("first_name"), data.get("last_name")) if p)
    return MyLead(
        lead.id,
        handoff.id,
        name or lead.email or lead.external_id,
        data.get("company"),
        lead.score,
        due_at,
        lead.first_touch_at,
    )


def first_touch_due(agreement: Agreement, lead: Lead, handoff: Handoff) -> datetime | None:
    """The first-touch deadline of an accepted lead, from the SLA policy frozen on its handoff."""
    if lead.accepted_at is None or not handoff.policy:
        return None
    return sla.deadline(
        lead.accepted_at,
        sla.frozen_policy(handoff),
        "first_touch",
        sla.calendar_for(agreement, handoff.rep or handoff.decided_by),
    )


async def my_leads(services: Services, email: str) -> MyLeads:
    """Open offers to ``email`` (soonest deadline first) and the SAL leads they own, plus this week's touches."""
    email = email.lower()
    start, _end, _key = local_week(services.clock.now(), zone_for(services.agreement, email))
    async with services.db.read() as session:
        offers = (
            await session.execute(
                select(Lead, Handoff)
                .join(Handoff, Handoff.lead_id == Lead.id)
                .where(Handoff.rep == email, Handoff.state == HandoffState.OFFERED)
                .order_by(Handoff.due_at.is_(None), Handoff.due_at, Handoff.id)
                .limit(LIMIT)
            )
        ).all()
        accepted = (
            await session.execute(
                select(Lead, Handoff)
                .join(Handoff, and_(Handoff.lead_id == Lead.id, Handoff.state == HandoffState.ACCEPTED))
                .where(Lead.owner == email, Lead.stage == Stage.SAL)
                .order_by(Lead.accepted_at.desc(), Handoff.id.desc())
                .limit(LIMIT)
            )
        ).all()
        touches = await session.scalar(
            select(func.count()).select_from(Touch).where(Touch.rep == email, Touch.created_at >= start)
        )
    seen: set[int] = set()
    accepted_items = []
    for lead, handoff in accepted:
        # A lead re-offered and accepted twice by the same rep shows once, with its latest handoff.
        if lead.id not in seen:
            seen.add(lead.id)
            accepted_items.append(_item(lead, handoff, first_touch_due(services.agreement, lead, handoff)))
    return MyLeads([_item(lead, h, h.due_at) for lead, h in offers], accepted_items, int(touches or 0))


def _label(item: MyLead) -> str:
    if item.company:
        return _("my.lead_at", id=item.lead_id, name=item.name, company=item.company)
    return _("my.lead", id=item.lead_id, name=item.name)


def _touch_text(agreement: Agreement, email: str, item: MyLead) -> str:
    if item.first_touch_at:
        return _("my.touch_done", when=when(agreement, email, item.first_touch_at))
    return _("my.touch_due", when=when(agreement, email, item.due_at)) if item.due_at else _("my.not_yet")


async def answer_my(services: Services, email: str) -> Notice:
    mine = await my_leads(services, email)
    agreement = services.agreement
    notice = Notice(title=_("my.title"), context=n_("home.touches_this_week", mine.touches_this_week))
    if not mine.offers and not mine.accepted:
        notice.lines = [_("my.nothing")]
        return notice
    if mine.offers:
        notice.tables.append(
            Table(
                columns=[_("my.offered_to_you"), _("my.score"), _("my.accept_by")],
                rows=[
                    [_label(i), str(i.score), when(agreement, email, i.due_at) if i.due_at else _("home.no_deadline")]
                    for i in mine.offers
                ],
            )
        )
    if mine.accepted:
        notice.tables.append(
            Table(
                columns=[_("my.accepted"), _("my.score"), _("my.first_touch")],
                rows=[[_label(i), str(i.score), _touch_text(agreement, email, i)] for i in mine.accepted],
            )
        )
    return notice
