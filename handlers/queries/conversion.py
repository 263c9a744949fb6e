"""The whole funnel, MQL → SAL → SQL → opportunity → won, what was won, and which scoring rules buy.

Definitions (``stats`` and the digest show them; the README's "Outcomes" section says the same):

- The funnel is the period's MQLs (``qualified_at`` in the period, the cohort ``figures.funnel``
  counts) and how far each got. A stage reached implies every stage before it: a lead the CRM
  reports won without an opportunity first counts as an opportunity, an SQL and a SAL too.
- Won amount: ``won`` outcomes dated (``occurred_at``) in the period, summed per currency, by the
  lead's source and campaign; a won outcome without an amount counts as a deal, not as money.
- Per scoring rule (explicit rules, by name, from each lead's stored explanation): of the
  cohort's leads the rule fired on, how many sales accepted and how many were won.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.queries.figures import Scope, lead_scope
from handlers.queries.periods import Period
from handlers.queries.render import pct
from handlers.services import Services
from handlers.text import _, n_
from handlers.views.notice import Field, Notice, Table
from scoring.agreement import Agreement, Stage
from store.models import Lead, Outcome

_LATER = {Stage.OPPORTUNITY, Stage.WON, Stage.LOST}
Money = dict[str, Decimal]  # currency ("" when the CRM gave none) → amount


@dataclass
class RuleRow:
    rule: str
    leads: int = 0
    accepted: int = 0
    won: int = 0


@dataclass
class SourceRow:
    source: str
    campaign: str
    won: int = 0
    amount: Money = field(default_factory=dict)


@dataclass
class Conversion:
    mqls: int = 0
    sals: int = 0
    sqls: int = 0
    opportunities: int = 0
    won: int = 0
    lost: int = 0
    rules: list[RuleRow] = field(default_factory=list)
    # Won in the period (by the outcome's date), whatever the cohort.
    won_deals: int = 0
    won_amount: Money = field(default_factory=dict)
    by_source: list[SourceRow] = field(default_factory=list)


def _add(money: Money, currency: str | None, amount: str | None) -> None:
    if amount is None:
        return
    try:
        value = Decimal(amount)
    except InvalidOperation:
        return
    money[currency or ""] = money.get(currency or "", Decimal(0)) + value


async def conversion(session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> Conversion:
    """The funnel and per-rule rates of the MQLs qualified in ``[start, end)``, and what was won then."""
    out = Conversion()
    cohort = (
        await session.execute(
            select(Lead.id, Lead.accepted_at, Lead.sql_at, Lead.stage, Lead.explanation).where(
                Lead.qualified_at >= start, Lead.qualified_at < end, *lead_scope(scope)
            )
        )
    ).all()
    ids = [row.id for row in cohort]
    kinds: dict[int, set[str]] = defaultdict(set)
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        for lead_id, kind in (
            await session.execute(select(Outcome.lead_id, Outcome.kind).where(Outcome.lead_id.in_(part)))
        ).all():
            kinds[int(lead_id)].add(str(kind))
    rules: dict[str, RuleRow] = {}
    for row in cohort:
        reported = kinds.get(row.id, set())
        won = "won" in reported or row.stage == Stage.WON
        opportunity = won or "opportunity" in reported or row.stage == Stage.OPPORTUNITY
        sql = opportunity or row.sql_at is not None
        sal = sql or row.accepted_at is not None or row.stage in _LATER
        out.mqls += 1
        out.sals += sal
        out.sqls += sql
        out.opportunities += opportunity
        out.won += won
        out.lost += "lost" in reported or row.stage == Stage.LOST
        fired = {
            str(line.get("rule"))
            for line in (row.explanation or {}).get("lines", [])
            if line.get("kind") == "explicit" and line.get("rule")
        }
        for name in fired:
            rule = rules.setdefault(name, RuleRow(name))
            rule.leads += 1
            rule.accepted += sal
            rule.won += won
    out.rules = sorted(rules.values(), key=lambda r: (-r.leads, r.rule))
    sources: dict[tuple[str, str], SourceRow] = {}
    for source, campaign, amount, currency in (
        await session.execute(
            select(Lead.source, Lead.campaign, Outcome.amount, Outcome.currency)
            .join(Lead, Lead.id == Outcome.lead_id)
            .where(Outcome.kind == "won", Outcome.occurred_at >= start, Outcome.occurred_at < end, *lead_scope(scope))
        )
    ).all():
        key = (source or "", campaign or "")
        entry = sources.setdefault(key, SourceRow(*key))
        entry.won += 1
        out.won_deals += 1
        _add(entry.amount, currency, amount)
        _add(out.won_amount, currency, amount)
    out.by_source = sorted(sources.values(), key=lambda s: (-s.won, s.source, s.campaign))
    return out


def money_text(money: Money) -> str:
    if not money:
        return _("conversion.no_amount")
    parts = []
    for currency in sorted(money):
        amount = f"{money[currency]:,.2f}".removesuffix(".00")
        parts.append(f"{currency} {amount}" if currency else amount)
    return ", ".join(parts)


def funnel_fields(agreement: Agreement, c: Conversion) -> list[Field]:
    """The funnel with each step's rate, and the period's won deals and amount."""
    text = agreement.stages.text
    steps = [
        (text[Stage.MQL].label, c.mqls),
        (text[Stage.SAL].label, c.sals),
        (text[Stage.SQL].label, c.sqls),
        (text[Stage.OPPORTUNITY].label, c.opportunities),
        (text[Stage.WON].label, c.won),
    ]
    arrows = " → ".join(f"{label} {count}" for label, count in steps)
    rates = ", ".join(
        _("conversion.step_rate", frm=a[0], to=b[0], rate=pct(b[1], a[1]))
        for a, b in zip(steps, steps[1:], strict=False)
    )
    return [
        Field(label=_("conversion.funnel_label"), value=f"{arrows} ({rates}; {text[Stage.LOST].label} {c.lost})"),
        Field(
            label=_("conversion.won_label"),
            value=n_("conversion.won_value", c.won_deals, amount=money_text(c.won_amount)),
        ),
    ]


def source_table(c: Conversion) -> Table:
    return Table(
        columns=[
            _("conversion.col_source"),
            _("conversion.col_campaign"),
            _("conversion.col_won"),
            _("conversion.col_amount"),
        ],
        rows=[[s.source or "–", s.campaign or "–", str(s.won), money_text(s.amount)] for s in c.by_source],
    )


def rule_table(c: Conversion) -> Table:
    """Per explicit scoring rule: how often sales accepted, and bought, the leads it fired on."""
    return Table(
        columns=[
            _("conversion.col_rule"),
            _("conversion.col_leads"),
            _("conversion.col_accepted"),
            _("conversion.col_win_rate"),
        ],
        rows=[[r.rule, str(r.leads), pct(r.accepted, r.leads), pct(r.won, r.leads)] for r in c.rules],
    )


async def add_conversion(
    services: Services, notice: Notice, scope: Scope, start: datetime, end: datetime, *, tables: bool = True
) -> None:
    """``stats``: the funnel and won amount; with ``tables`` (those who may see per-rep rows, the
    managers and marketing), what was won by source and campaign and per scoring rule."""
    async with services.db.read() as session:
        found = await conversion(session, scope, start, end)
    notice.fields += funnel_fields(services.agreement, found)
    if tables and scope.rep is None:
        notice.tables += [t for t in (source_table(found), rule_table(found)) if t.rows]


async def add_marketing_conversion(
    session: AsyncSession, agreement: Agreement, notice: Notice, scope: Scope, week: Period, quarter: Period
) -> None:
    """The marketing digest: the week's funnel and wins by source and campaign; per scoring rule the
    quarter to date (a week holds too few wins to tell which rules predict buying)."""
    found = await conversion(session, scope, week.start, week.end)
    notice.fields += funnel_fields(agreement, found)
    notice.tables.append(source_table(found))
    rules = await conversion(session, scope, quarter.start, quarter.until)
    if rules.rules:
        notice.tables.append(rule_table(rules))
