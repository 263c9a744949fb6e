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
from handlers.queries.feedback import recent_notes
from handlers.queries.figures import Figures, gather, rejection_reasons
from handlers.queries.lists import OfferLine, acceptance_by_source, sla_misses, still_open
from handlers.queries.periods import Period, local_week, quarter_period, span_text
from handlers.queries.render import duration, pct, person_name, reason_label, rep_table, when
from handlers.queries.stats import pacing_text
from handlers.services import Services
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


def _offer_text(agreement: Agreement, line: OfferLine, now: datetime, reader: str) -> str:
    """One offer for the digest, its times in the reader's timezone."""
    who = person_name(agreement, line.rep) if line.rep else f"team {line.team}"
    if line.state == "accepted":
        status = "accepted after the deadline"
    elif line.state == "reassigned":
        status = "reassigned: not accepted in time"
    elif line.due_at is not None and line.due_at < now:
        status = f"still open, was due {when(agreement, reader, line.due_at)}"
    else:
        status = f"due {when(agreement, reader, line.due_at)}" if line.due_at else "no deadline"
    return f"#{line.lead_id} {line.name}: {who}, {status}"


async def _manager_digest(
    session: AsyncSession, services: Services, email: str, period: Period, key: str
) -> DigestMessage:
    agreement = services.agreement
    now = services.clock.now()
    teams = agreement.managed_teams(email)
    scope = roles.team_scope(agreement, teams, " and ".join(t.name for t in teams))
    figures = await gather(session, scope, period.start, period.end, period.end)
    figures.reasons = await rejection_reasons(session, scope, period.start, period.end, limit=6)
    missed, missed_lines = await sla_misses(session, scope, period.start, period.end, now)
    waiting, waiting_lines = await still_open(session, scope)
    title = f"Weekly digest for {scope.label}, {period.label}"
    decided = figures.accepted + figures.rejected
    notice = Notice(
        title=title,
        context=f"{span_text(period)} · {period.zone}",
        fields=[
            Field(label="MQLs", value=str(figures.mqls)),
            Field(
                label="Offers",
                value=f"{figures.offers}: {figures.accepted} accepted "
                f"({pct(figures.accepted, decided)}), {figures.rejected} rejected",
            ),
            Field(
                label="Time to accept",
                value=f"median {duration(figures.accept_p50)}, p90 {duration(figures.accept_p90)}",
            ),
            Field(
                label="SLA attainment",
                value=f"{pct(figures.on_time, figures.accepted)} ({figures.on_time} of {figures.accepted})",
            ),
            Field(label="SLA misses", value=str(missed)),
            Field(label="Escalations", value=str(figures.escalations)),
            Field(label="Still unaccepted now", value=str(waiting)),
        ],
        tables=[rep_table(agreement, figures.reps)],
        image_title="Funnel and rejection reasons",
    )
    notice.lines = [f"SLA missed: {_offer_text(agreement, line, now, email)}" for line in missed_lines]
    notice.lines += [f"Waiting: {_offer_text(agreement, line, now, email)}" for line in waiting_lines]
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
    title = f"Weekly marketing digest, {period.label}"
    week_pace = pacing_text(agreement, period, figures.mqls)
    quarter_pace = pacing_text(agreement, quarter, quarter_figures.mqls)
    rejected = sum(n for _, n in figures.reasons)
    notice = Notice(
        title=title,
        context=f"{span_text(period)} · {period.zone}",
        fields=[
            Field(label="MQLs this week", value=f"{figures.mqls}" + (f" ({week_pace})" if week_pace else "")),
            Field(
                label=f"MQLs {quarter.label} to date",
                value=f"{quarter_figures.mqls}" + (f" ({quarter_pace})" if quarter_pace else ""),
            ),
            Field(
                label="Accepted by sales",
                value=f"{figures.accepted} of {figures.offers} offers "
                f"({pct(figures.accepted, figures.accepted + figures.rejected)})",
            ),
            Field(label="Rejected", value=str(rejected)),
        ],
        image_title="Funnel and rejection reasons",
    )
    notice.tables = [
        Table(columns=["Reason", "Leads"], rows=[[reason_label(agreement, c), str(n)] for c, n in figures.reasons]),
        Table(
            columns=["Source", "Campaign", "Offers", "Accepted", "Rejected"],
            rows=[[s.source, s.campaign, str(s.offers), pct(s.accepted, s.offers), str(s.rejected)] for s in sources],
        ),
    ]
    notice.lines = [f"“{n.note}” ({reason_label(agreement, n.reason)}, {person_name(agreement, n.rep)})" for n in notes]
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
