"""``stats`` and ``sla``: the shared metrics for a period, for the scope the asker may see."""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.queries import roles
from handlers.queries.conversion import add_conversion
from handlers.queries.figures import Figures, Scope, gather, handoff_scope
from handlers.queries.parser import StatsQuery
from handlers.queries.periods import Period, quarter_period, resolve, span_text
from handlers.queries.render import duration, offers_text, pct, reasons_text, rep_table
from handlers.queries.roles import Access, Viewer
from handlers.queries.targets import find_rep, find_team
from handlers.services import Services
from handlers.text import _
from handlers.text.words import version_words
from handlers.views.notice import Field, Notice
from scoring.agreement import Agreement
from store.models import Handoff, HandoffState


def zone_for(agreement: Agreement, email: str | None) -> str:
    """The asker's timezone if the agreement sets one, else the digest's."""
    person = agreement.person_by(email=email) if email else None
    if person is not None and "timezone" in person.model_fields_set:
        return person.timezone
    return agreement.digest.timezone


def pacing_text(agreement: Agreement, period: Period, mqls: int) -> str | None:
    """Delivered vs the commitment pro-rated to the elapsed part of the period (None if no commitment)."""
    per_quarter = agreement.commitment.mqls_per_quarter
    if per_quarter <= 0:
        return None
    quarter = quarter_period(period.start, period.zone)
    quarter_seconds = (quarter.end - quarter.start).total_seconds()
    expected = round(per_quarter * (period.until - period.start).total_seconds() / quarter_seconds)
    weekly = round(per_quarter * 7 * 86400 / quarter_seconds)
    gap = mqls - expected
    if gap == 0:
        verdict = _("stats.on_pace")
    else:
        verdict = _("stats.ahead_by", n=gap) if gap > 0 else _("stats.behind_by", n=-gap)
    return _("stats.pacing", expected=expected, per_quarter=per_quarter, weekly=weekly, verdict=verdict)


def figure_fields(agreement: Agreement, figures: Figures) -> list[Field]:
    decided = figures.accepted + figures.rejected
    return [
        Field(label=_("stats.offers"), value=offers_text(figures)),
        Field(
            label=_("stats.acceptance_rate"),
            value=_(
                "stats.acceptance", accepted=pct(figures.accepted, decided), rejected=pct(figures.rejected, decided)
            ),
        ),
        *_speed_fields(figures),
        _attainment(figures),
        Field(label=_("stats.escalations"), value=str(figures.escalations)),
        Field(
            label=_("stats.conversion"),
            value=_(
                "stats.conversion_value",
                sal_rate=pct(figures.sals, figures.mqls),
                sals=figures.sals,
                mqls=figures.mqls,
                sql_rate=pct(figures.sqls, figures.sals),
                sqls=figures.sqls,
            ),
        ),
        Field(label=_("stats.top_reasons"), value=reasons_text(agreement, figures.reasons)),
    ]


def _speed_fields(figures: Figures) -> list[Field]:
    accept = _("stats.median_p90", median=duration(figures.accept_p50), p90=duration(figures.accept_p90))
    touch = _("stats.median_p90", median=duration(figures.touch_p50), p90=duration(figures.touch_p90))
    return [
        Field(label=_("stats.time_to_accept"), value=accept),
        Field(label=_("stats.time_to_first_touch"), value=touch),
    ]


def _attainment(figures: Figures) -> Field:
    value = _(
        "stats.attainment_value",
        rate=pct(figures.on_time, figures.accepted),
        on_time=figures.on_time,
        accepted=figures.accepted,
    )
    return Field(label=_("stats.sla_attainment"), value=value)


def scope_for(agreement: Agreement, viewer: Viewer, query: StatsQuery) -> Access | Notice:
    """The access decision for the query's target, or a notice saying the target is unknown."""
    if query.team is not None:
        team = find_team(agreement, query.team)
        if team is None:
            known = ", ".join(t.name for t in agreement.teams)
            return Notice(title=_("stats.unknown_team", team=query.team), lines=[_("stats.known_teams", teams=known)])
        return roles.team_access(agreement, viewer, team)
    if query.rep is not None:
        rep = find_rep(agreement, query.rep, query.slack_id)
        if rep is None:
            return Notice(title=_("stats.unknown_rep", rep=query.rep), lines=[_("stats.how_to_name_a_rep")])
        return roles.rep_access(agreement, viewer, rep.email)
    return roles.default_access(agreement, viewer)


async def overdue_offers(services: Services, scope: Scope) -> int:
    async with services.db.read() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Handoff)
                .where(
                    Handoff.state == HandoffState.OFFERED, Handoff.due_at < services.clock.now(), *handoff_scope(scope)
                )
            )
            or 0
        )


async def answer_stats(services: Services, query: StatsQuery, viewer: Viewer) -> Notice:
    agreement = services.agreement
    decided = scope_for(agreement, viewer, query)
    if isinstance(decided, Notice):
        return decided
    if decided.refusal or decided.scope is None:
        return Notice(title=_("answer.refused"), lines=[decided.refusal or ""])
    scope = decided.scope
    period = resolve(query.period, services.clock.now(), zone_for(agreement, viewer.email))
    async with services.db.read() as session:
        figures = await gather(session, scope, period.start, period.end, period.until, with_reps=decided.rep_rows)
    if query.kind == "sla":
        title = _("stats.sla_title", scope=scope.label, period=period.label)
    else:
        title = _("stats.title", scope=scope.label, period=period.label)
    version = version_words(agreement.definition.version)
    notice = Notice(title=title, context=_("stats.context", span=span_text(period), zone=period.zone, version=version))
    if query.kind == "sla":
        return await _sla_notice(services, notice, scope, figures)
    mql_text = str(figures.mqls)
    pacing = pacing_text(agreement, period, figures.mqls) if scope.teams is None and scope.rep is None else None
    if pacing:
        mql_text += f" ({pacing})"
    notice.fields = [
        Field(label=_("stats.mqls_delivered") if scope.rep is None else _("stats.leads_owned"), value=mql_text),
        *figure_fields(agreement, figures),
    ]
    if scope.rep is not None and figures.reps:
        notice.fields.append(Field(label=_("stats.touches_logged"), value=str(figures.reps[0].touches)))
        if query.rep is None and query.team is None:
            await _own_team_line(services, notice, viewer, period)
    elif decided.rep_rows and figures.reps:
        notice.tables = [rep_table(agreement, figures.reps)]
    await add_conversion(services, notice, scope, period.start, period.end, tables=decided.rep_rows)
    return notice


async def _own_team_line(services: Services, notice: Notice, viewer: Viewer, period: Period) -> None:
    """A rep asking plain ``stats`` also sees their team's totals (never colleagues' rows)."""
    team = services.agreement.team(viewer.own_team or "")
    if team is None:
        return
    scope = roles.team_scope(services.agreement, [team], f"team {team.name}")
    async with services.db.read() as session:
        totals = await gather(session, scope, period.start, period.end, period.until, with_reps=False)
    notice.fields.append(
        Field(
            label=_("stats.team", team=team.name),
            value=_(
                "stats.team_value",
                mqls=totals.mqls,
                offers=totals.offers,
                rate=pct(totals.accepted, totals.accepted + totals.rejected),
                median=duration(totals.accept_p50),
            ),
        )
    )


async def _sla_notice(services: Services, notice: Notice, scope: Scope, figures: Figures) -> Notice:
    notice.fields = [
        _attainment(figures),
        *_speed_fields(figures),
        Field(label=_("stats.escalations"), value=str(figures.escalations)),
        Field(label=_("stats.overdue_now"), value=str(await overdue_offers(services, scope))),
    ]
    notice.lines = [_("stats.what_was_agreed")]
    return notice
