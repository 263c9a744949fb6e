"""The weekly digest: each manager's team numbers, and marketing's volume and feedback, with a chart.

Exactly once per week and audience, however many replicas run the job or how
often it is retried: the ``periodic_runs`` row for ("digest", week) is inserted
in the same transaction as the outbox rows, so either the claim and every
message commit together or neither does (a crash in between loses nothing and
sends nothing twice). Outbox dedupe keys ``digest:<week>:<audience>`` are a
second guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.digest.chart import digest_chart
from handlers.messaging import outbox
from handlers.messaging.periodic import once_per_period
from handlers.queries import roles
from handlers.queries.conversion import add_marketing_conversion, conversion, funnel_fields
from handlers.queries.feedback import recent_notes
from handlers.queries.figures import Figures, gather, rejection_reasons
from handlers.queries.lists import OfferLine, acceptance_by_source, sla_misses, still_open
from handlers.queries.periods import Period, local_week, quarter_period, span_text
from handlers.queries.render import duration, offers_text, pct, person_name, reason_label, rep_table, when
from handlers.queries.stats import pacing_text
from handlers.services import Services
from handlers.text import _
from handlers.views.notice import Field, Notice, Table
from scoring.agreement import Agreement, ChannelRef, Stage

JOB = "digest"


@dataclass(frozen=True)
class DigestMessage:
    """One digest for one audience (``manager:<email>`` or ``marketing``), with its chart."""

    audience: str
    period: str
    notice: Notice
    image: bytes
    to_person: str | None = None
    to_channel: ChannelRef | None = None

    @property
    def dedupe(self) -> str:
        return f"digest:{self.period}:{self.audience}"


def digest_week(services: Services) -> tuple[Period, str]:
    """The previous Monday-to-Monday week in the digest timezone, and its key (``2026-W47``)."""
    zone = services.agreement.digest.timezone
    start, end, key = local_week(services.clock.now(), zone, weeks_back=1)
    week = key.split("-W")[1]
    return Period(start, end, end, f"week {int(week)}", zone), key


def _funnel(agreement: Agreement, figures: Figures) -> list[tuple[str, int]]:
    text = agreement.stages.text
    return [
        (text[Stage.MQL].label, figures.mqls),
        (text[Stage.SAL].label, figures.sals),
        (text[Stage.SQL].label, figures.sqls),
    ]


def _chart(agreement: Agreement, title: str, figures: Figures) -> bytes:
    return digest_chart(
        title, _funnel(agreement, figures), [(reason_label(agreement, code), n) for code, n in figures.reasons]
    )


def _paced(mqls: int, pace: str | None) -> str:
    return _("digest.paced", mqls=mqls, pace=pace) if pace else str(mqls)


def _offer_text(agreement: Agreement, line: OfferLine, now: datetime, reader: str) -> str:
    """One offer for the digest, its times in the reader's timezone."""
    who = person_name(agreement, line.rep) if line.rep else _("roles.team", team=line.team)
    if line.state == "accepted":
        status = _("digest.accepted_late")
    elif line.state == "reassigned":
        status = _("digest.reassigned_late")
    elif line.due_at is not None and line.due_at < now:
        status = _("digest.overdue", when=when(agreement, reader, line.due_at))
    else:
        status = _("my.touch_due", when=when(agreement, reader, line.due_at)) if line.due_at else _("home.no_deadline")
    return _("digest.offer", id=line.lead_id, name=line.name, who=who, status=status)


async def _manager_digest(
    session: AsyncSession, services: Services, email: str, period: Period, key: str
) -> DigestMessage:
    agreement = services.agreement
    now = services.clock.now()
    teams = agreement.managed_teams(email)
    scope = roles.team_scope(agreement, teams, _("roles.and").join(t.name for t in teams))
    figures = await gather(session, scope, period.start, period.end, period.end)
    figures.reasons = await rejection_reasons(session, scope, period.start, period.end, limit=6)
    missed, missed_lines = await sla_misses(session, scope, period.start, period.end, now)
    waiting, waiting_lines = await still_open(session, scope)
    title = _("digest.manager_title", scope=scope.label, period=period.label)
    attainment = _(
        "digest.attainment",
        rate=pct(figures.on_time, figures.accepted),
        on_time=figures.on_time,
        accepted=figures.accepted,
    )
    notice = Notice(
        title=title,
        context=_("answer.span", span=span_text(period), zone=period.zone),
        fields=[
            Field(label=_("digest.mqls"), value=str(figures.mqls)),
            Field(label=_("stats.offers"), value=offers_text(figures, rate_of_accepted=True)),
            Field(
                label=_("stats.time_to_accept"),
                value=_("stats.median_p90", median=duration(figures.accept_p50), p90=duration(figures.accept_p90)),
            ),
            Field(label=_("stats.sla_attainment"), value=attainment),
            Field(label=_("digest.sla_misses"), value=str(missed)),
            Field(label=_("stats.escalations"), value=str(figures.escalations)),
            Field(label=_("digest.still_unaccepted"), value=str(waiting)),
        ],
        tables=[rep_table(agreement, figures.reps)],
        image_title=_("digest.chart_title"),
    )
    notice.fields += funnel_fields(agreement, await conversion(session, scope, period.start, period.end))
    notice.lines = [_("digest.missed", offer=_offer_text(agreement, line, now, email)) for line in missed_lines]
    notice.lines += [_("digest.waiting", offer=_offer_text(agreement, line, now, email)) for line in waiting_lines]
    return DigestMessage(
        f"manager:{email.lower()}", key, notice, _chart(agreement, title, figures), to_person=email.lower()
    )


async def _marketing_digest(
    session: AsyncSession, services: Services, channel: ChannelRef, period: Period, key: str
) -> DigestMessage:
    agreement = services.agreement
    scope = roles.everyone(agreement)
    figures = await gather(session, scope, period.start, period.end, period.end, with_reps=False)
    figures.reasons = await rejection_reasons(session, scope, period.start, period.end, limit=10)
    quarter = quarter_period(services.clock.now(), period.zone)
    quarter_figures = await gather(session, scope, quarter.start, quarter.end, quarter.until, with_reps=False)
    notes = await recent_notes(session, scope, period.start, period.end, limit=10)
    sources = await acceptance_by_source(session, scope, period.start, period.end)
    title = _("digest.marketing_title", period=period.label)
    week_pace = pacing_text(agreement, period, figures.mqls)
    quarter_pace = pacing_text(agreement, quarter, quarter_figures.mqls)
    rejected = sum(n for _code, n in figures.reasons)
    notice = Notice(
        title=title,
        context=_("answer.span", span=span_text(period), zone=period.zone),
        fields=[
            Field(label=_("digest.mqls_this_week"), value=_paced(figures.mqls, week_pace)),
            Field(
                label=_("digest.mqls_to_date", quarter=quarter.label),
                value=_paced(quarter_figures.mqls, quarter_pace),
            ),
            Field(
                label=_("digest.accepted_by_sales"),
                value=_(
                    "digest.accepted_of",
                    accepted=figures.accepted,
                    offers=figures.offers,
                    rate=pct(figures.accepted, figures.accepted + figures.rejected),
                ),
            ),
            Field(label=_("reps.rejected"), value=str(rejected)),
        ],
        image_title=_("digest.chart_title"),
    )
    notice.tables = [
        Table(
            columns=[_("feedback.reason"), _("feedback.leads")],
            rows=[[reason_label(agreement, c), str(n)] for c, n in figures.reasons],
        ),
        Table(
            columns=[
                _("card.fact.source"),
                _("card.fact.campaign"),
                _("reps.offers"),
                _("reps.accepted"),
                _("reps.rejected"),
            ],
            rows=[[s.source, s.campaign, str(s.offers), pct(s.accepted, s.offers), str(s.rejected)] for s in sources],
        ),
    ]
    await add_marketing_conversion(session, agreement, notice, scope, period, quarter)
    notice.lines = [
        _("feedback.note", note=n.note, reason=reason_label(agreement, n.reason), rep=person_name(agreement, n.rep))
        for n in notes
    ]
    return DigestMessage("marketing", key, notice, _chart(agreement, title, figures), to_channel=channel)


async def build_digests(services: Services) -> tuple[str, list[DigestMessage]]:
    """Every digest for last week, without sending anything."""
    period, key = digest_week(services)
    agreement = services.agreement
    managers = sorted({m.email.lower() for t in agreement.teams for m in t.managers})
    messages = []
    async with services.db.read() as session:
        for email in managers:
            messages.append(await _manager_digest(session, services, email, period, key))
        if agreement.channels.marketing_feedback is not None:
            messages.append(
                await _marketing_digest(session, services, agreement.channels.marketing_feedback, period, key)
            )
    # A running agreement that both sides have not signed off is flagged in every digest (issue 16).
    from handlers.agreement.signoff import unsigned_flag

    flag = await unsigned_flag(services) if messages else None
    for message in messages if flag else []:
        message.notice.context = f"{message.notice.context} · {flag}" if message.notice.context else flag
    return key, messages


async def run_weekly_digest(services: Services, *, dry_run: bool = False) -> list[DigestMessage]:
    """Build last week's digests and, unless ``dry_run``, enqueue them once.

    Returns what was enqueued (or would be, for a dry run); an empty list when
    another run already sent this week's digest.
    """
    key, messages = await build_digests(services)
    if dry_run:
        return messages

    async def enqueue(session: AsyncSession) -> None:
        for message in messages:
            await outbox.post(
                session,
                services,
                message.notice,
                to_person=message.to_person,
                to_channel=message.to_channel,
                dedupe=message.dedupe,
                image=message.image,
                image_name=f"baton-digest-{key}.png",
            )

    return messages if await once_per_period(services, JOB, key, enqueue) else []
