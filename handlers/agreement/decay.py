"""Keep stored scores current: re-score leads whose behaviour points have faded since they were stored.

Chosen over computing the score on every read because every view (the card, ``lead``, stats,
the digest, the CRM's read-back) already reads ``leads.score`` and its explanation: refreshing
the stored score keeps them all current with one job instead of a re-score in each. The job
changes the score and its breakdown only, never the stage: qualifying and offering stay with
intake (``handlers/intake/leads.py``), which scores with the events' ages at the time, so a lead
whose points have faded below the threshold is not offered when a later event arrives. A card
already posted shows the new score the next time it is refreshed (an update per decayed lead
would spend the chat platform's rate limit on nothing a rep acts on).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select, update

from handlers.intake.leads import explanation_record
from handlers.services import Services
from handlers.simulation import stored_lead_data
from scoring.agreement import Stage
from scoring.decay import decays, refreshed
from scoring.lead import Activity
from store.models import Activity as ActivityRow
from store.models import Lead

CHUNK = 1000
# Stages in which a lead's score is still read (disqualified and unreachable leads are done).
OPEN = (Stage.CAPTURED, Stage.MQL, Stage.SAL, Stage.SQL, Stage.RECYCLED)


async def refresh_scores(services: Services, chunk: int = CHUNK) -> int:
    """Store today's score for every open lead whose score has decayed; returns how many changed.
    One short transaction per chunk of leads, so intake is never held up for long."""
    agreement = services.agreement
    if not decays(agreement):
        return 0
    changed, last = 0, 0
    while True:
        now = services.clock.now()
        async with services.db.transaction() as session:
            rows = (
                await session.execute(
                    select(Lead.id, Lead.data, Lead.score)
                    .where(Lead.id > last, Lead.stage.in_(OPEN), Lead.forgotten_at.is_(None))
                    .order_by(Lead.id)
                    .limit(chunk)
                )
            ).all()
            if not rows:
                return changed
            last = rows[-1].id
            history: dict[int, list[Activity]] = defaultdict(list)
            events = await session.execute(
                select(ActivityRow.lead_id, ActivityRow.type, ActivityRow.occurred_at).where(
                    ActivityRow.lead_id.between(rows[0].id, last)
                )
            )
            for lead_id, kind, at in events.all():
                history[lead_id].append(Activity(kind, at))
            updates = []
            for row in rows:
                result = refreshed(row.score, stored_lead_data(row.data), history.get(row.id, []), agreement, now)
                if result is not None:
                    updates.append({"id": row.id, "score": result.total, "explanation": explanation_record(result)})
            if updates:
                await session.execute(update(Lead), updates)
                changed += len(updates)
