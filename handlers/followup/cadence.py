"""The cadence SLA: a minimum of calls and emails within a window after acceptance.

``cadence_met`` answers "has the rep made the agreed attempts?" both for the
check at the end of the window (``handlers.followup.timers``) and for the Unreachable
button (``handlers.handoff.touch``), so the two can never disagree.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.followup import sla
from handlers.text import _, n_
from scoring.agreement import Agreement
from store.models import Handoff, Lead, Touch

# Touch kinds as ``handlers.handoff.touch`` records them.
CALL, EMAIL = "call", "email"


def _calls(done: int, wanted: int) -> str:
    return n_("cadence.calls", wanted, done=done)


def _emails(done: int, wanted: int) -> str:
    return n_("cadence.emails", wanted, done=done)


async def cadence_met(session: AsyncSession, agreement: Agreement, lead: Lead, handoff: Handoff) -> tuple[bool, str]:
    """(met?, progress such as "2 of 3 calls and 3 of 3 emails logged") under the handoff's frozen policy.

    Touches on the lead since the acceptance count, whoever logged them (a manager's call
    is an attempt too). No cadence in the policy means there is nothing to meet.
    """
    cadence = sla.frozen_policy(handoff).cadence
    if cadence is None or (cadence.calls == 0 and cadence.emails == 0):
        return True, _("cadence.none_agreed")
    since = handoff.decided_at or handoff.offered_at
    rows = await session.execute(
        select(Touch.kind, func.count()).where(Touch.lead_id == lead.id, Touch.created_at >= since).group_by(Touch.kind)
    )
    counts = {str(kind): int(n) for kind, n in rows.all()}
    calls, emails = counts.get(CALL, 0), counts.get(EMAIL, 0)
    parts = []
    if cadence.calls:
        parts.append(_calls(calls, cadence.calls))
    if cadence.emails:
        parts.append(_emails(emails, cadence.emails))
    return calls >= cadence.calls and emails >= cadence.emails, _("cadence.logged", parts=_("roles.and").join(parts))
