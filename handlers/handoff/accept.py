"""What happens when a rep clicks Accept (direct offer) or Claim (team channel offer).

Accepting is a compare-and-set on the handoff's state: however many clicks race,
retried requests included, exactly one wins and its side effects happen once.
"""

from __future__ import annotations

from handlers.handoff import lifecycle
from handlers.handoff.access import OfferContext, closed_offer, decide, load_offer, may_take
from handlers.handoff.outcome import Outcome
from handlers.services import Services
from handlers.text import _
from handlers.views.actions import ButtonData
from scoring.agreement import Stage
from store.models import HandoffState


async def accept(services: Services, data: ButtonData, actor_email: str, source: str) -> Outcome:
    actor = actor_email.lower()
    async with services.db.transaction() as session:
        found = await load_offer(session, services, data)
        if not isinstance(found, OfferContext):
            return found
        lead, handoff = found.lead, found.handoff
        if handoff.state != HandoffState.OFFERED:
            return await closed_offer(session, services, handoff, actor)
        refusal = may_take(services, handoff, actor)
        if refusal:
            return refusal
        now = services.clock.now()
        if not await decide(session, handoff, lifecycle.Transition.ACCEPT, actor, now):
            return await closed_offer(session, services, handoff, actor)
        before = {"stage": lead.stage, "owner": lead.owner}
        to = lifecycle.accepted_stage(services.agreement.stages.skip_sal)
        lead.owner, lead.accepted_at, lead.updated_at = actor, now, now
        if to == Stage.SQL:
            lead.sql_at = now
        after = {"stage": to, "owner": actor, "handoff_id": handoff.id, "source": source}
        move = lifecycle.Move(lifecycle.Transition.ACCEPT, lead, handoff, actor, to=to, before=before, after=after)
        await lifecycle.apply(session, services, move)
        label = services.agreement.stages.text[Stage(lead.stage)].label
    services.wake_delivery()
    return Outcome.done(_("done.accepted", name=lead.data.get("first_name") or _("lead.the_lead"), stage=label))
