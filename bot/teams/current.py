"""The lead card as it stands now, for an invoke's answer and for Teams' card refresh."""

from __future__ import annotations

from handlers.handoff.access import OfferContext, load_offer
from handlers.handoff.cards import build_card, card_notes
from handlers.services import Services
from handlers.views.actions import ButtonData
from handlers.views.lead_card import LeadCard


async def current_card(services: Services, data: ButtonData) -> LeadCard | None:
    """``None`` when the button does not name a stored lead and offer."""
    async with services.db.read() as session:
        found = await load_offer(session, services, data)
        if not isinstance(found, OfferContext):
            return None
        notes = await card_notes(session, services.agreement, found.handoff)
        return build_card(services.agreement, found.lead, found.handoff, notes)
