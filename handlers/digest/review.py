"""The quarterly review reminder: the definition is a contract, revisited every few months.

Once the agreement's ``definition.last_changed`` is ``review_every_months`` old,
each reviewer gets a DM with the rejection reasons since the last change, once
per calendar quarter (the ``periodic_runs`` row for ("review", "2027-Q1") is
written in the same transaction as the messages).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.digest.weekly import DigestMessage
from handlers.messaging import outbox
from handlers.messaging.periodic import once_per_period
from handlers.queries import roles
from handlers.queries.definitions import version_line
from handlers.queries.figures import rejection_reasons
from handlers.queries.periods import quarter_key
from handlers.queries.render import reason_label
from handlers.services import Services
from handlers.text import _, n_
from handlers.views.notice import Notice, Table
from scoring.agreement import Agreement

JOB = "review"


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    # 31 Jan + 1 month is the last day of February, not an error.
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def review_due(agreement: Agreement, today: date) -> date | None:
    """The day the review fell due if it is due by ``today``, else None. No ``last_changed`` means due now."""
    definition = agreement.definition
    if definition.last_changed is None:
        return today
    due = add_months(definition.last_changed, definition.review_every_months)
    return due if due <= today else None


async def build_reminders(services: Services) -> tuple[str, list[DigestMessage]]:
    agreement = services.agreement
    zone = ZoneInfo(agreement.digest.timezone)
    now = services.clock.now()
    today = now.astimezone(zone).date()
    key = quarter_key(today)
    due = review_due(agreement, today)
    if due is None or not agreement.definition.reviewers:
        return key, []
    since_day = agreement.definition.last_changed or add_months(today, -agreement.definition.review_every_months)
    since = datetime.combine(since_day, time(0), zone).astimezone(UTC)
    async with services.db.transaction() as session:
        reasons = await rejection_reasons(session, roles.everyone(agreement), since, now, limit=20)
    total = sum(n for _code, n in reasons)
    notice = Notice(
        title=_("review.title"),
        lines=[
            _("review.due", version=version_line(agreement), due=f"{due:%-d %b %Y}"),
            n_("review.rejected_since", total, since=f"{since_day:%-d %b %Y}"),
            _("review.see"),
        ],
        tables=[
            Table(
                columns=[_("feedback.reason"), _("feedback.leads")],
                rows=[[reason_label(agreement, code), str(n)] for code, n in reasons],
            )
        ]
        if reasons
        else [],
    )
    # Each reviewer signs off from their own reminder; both sides must agree (issue 16).
    from handlers.agreement.signoff import agree_button, status_line

    notice.lines.append(await status_line(services))
    notice.buttons.append(agree_button(agreement))
    messages = [
        DigestMessage(f"reviewer:{email.lower()}", key, notice, b"", to_person=email.lower())
        for email in agreement.definition.reviewers
    ]
    return key, messages


async def run_review_reminder(services: Services, *, dry_run: bool = False) -> list[DigestMessage]:
    """Remind the reviewers if the review is due and they were not reminded this quarter."""
    key, messages = await build_reminders(services)
    if dry_run or not messages:
        return messages

    async def enqueue(session: AsyncSession) -> None:
        for message in messages:
            await outbox.post(
                session,
                services,
                message.notice,
                to_person=message.to_person,
                dedupe=f"review:{key}:{message.audience}",
            )

    return messages if await once_per_period(services, JOB, key, enqueue) else []
