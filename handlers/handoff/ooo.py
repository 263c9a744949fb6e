"""Out of office (``/baton ooo on|off``): routing skips the rep, and their open offers move on.

Dates in the configuration (``out_of_office`` on a rep) are read by routing
directly; this is the switch a rep flips themselves.
"""

from __future__ import annotations

from handlers.audit import AuditAction
from handlers.handoff.outcome import Outcome
from handlers.handoff.reassign import move_on, open_direct_offers
from handlers.intake.routing_state import ensure_reps
from handlers.messaging import events
from handlers.services import Services
from handlers.text import _, n_
from handlers.text.refusals import RefusalCode, refuse
from store.models import RepState


async def set_out_of_office(services: Services, email: str, on: bool, source: str) -> Outcome:
    """Turn the rep's out-of-office flag on or off; turning it on reassigns their open direct offers."""
    email = email.strip().lower()
    found = services.agreement.rep(email) if email else None
    if found is None:
        return refuse(RefusalCode.NOT_A_REP, who=email or _("person.that_person"))
    moved = 0
    async with services.db.transaction() as session:
        state = await session.get(RepState, email, with_for_update=services.db.is_postgres)
        if state is None:
            await ensure_reps(session, services)
            state = await session.get(RepState, email)
        assert state is not None  # ensure_reps writes a row for every configured rep
        changed = state.out_of_office != on
        if changed:
            state.out_of_office, state.updated_at = on, services.clock.now()
            await events.record(
                session,
                services,
                None,
                email,
                AuditAction.OUT_OF_OFFICE,
                {"out_of_office": not on},
                {"out_of_office": on, "source": source},
            )
        if on:
            # Also on a repeated "on": an offer made meanwhile (e.g. by a manager) must not wait.
            for lead, handoff in await open_direct_offers(session, email):
                await move_on(
                    session, services, lead, handoff, email, _("audit.note.out_of_office", name=found[1].name)
                )
                moved += 1
    services.wake_delivery()
    if not on:
        return Outcome.done(_("done.ooo_back") if changed else _("done.ooo_was_not_away"))
    head = _("done.ooo_away") if changed else _("done.ooo_already_away")
    if moved:
        head += " " + n_("done.ooo_offers_moved", moved)
    return Outcome.done(head)
