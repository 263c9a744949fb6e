"""Live notices: when an offer is taken over, reassigned, accepted or closed, every nudge and
escalation about it is updated in place to say so and loses its buttons; a later click on one
gets the truth; the SLA's own reassignment is credited to "Baton (SLA)"."""

from __future__ import annotations

from typing import Any

from handlers.clock import ManualClock
from handlers.followup.timers import sweep
from handlers.handoff.accept import accept
from handlers.handoff.reassign import reassign, take_over
from handlers.handoff.reject import reject
from handlers.services import Services
from handlers.views import load_view
from handlers.views.actions import Action, ButtonData
from handlers.views.lead_card import LeadCard
from handlers.views.notice import Notice
from store.models import Handoff, NoticeSent, OutboxMessage
from tests.timers.conftest import at, offer, posts, rows

MORGAN, MIA = "morgan.manager@example.com", "mia.manager@example.com"
ALICE, BOB = "alice@example.com", "bob@example.com"


async def escalated(services: Services, clock: ManualClock) -> ButtonData:
    """Alice's offer, nudged at 10:15 and escalated at 10:30 (DM to Morgan, managers channel)."""
    data = await offer(services)
    for hh_mm in ("10:15", "10:30"):
        at(clock, hh_mm)
        assert await sweep(services) == 1
    return data


async def notice_posts(services: Services) -> list[OutboxMessage]:
    keys = {n.message_key for n in await rows(services, NoticeSent)}
    return [p for p in await posts(services) if p.message_key in keys]


async def updates_of(services: Services, message: OutboxMessage) -> list[OutboxMessage]:
    return await rows(
        services,
        OutboxMessage,
        OutboxMessage.message_key == message.message_key,
        OutboxMessage.platform == message.platform,
        OutboxMessage.kind == "update",
        order=OutboxMessage.id,
    )


async def last_views(services: Services) -> dict[str, Notice]:
    """Each notice as it reads now (its last update), by where it was posted."""
    found: dict[str, Notice] = {}
    for post in await notice_posts(services):
        updates = await updates_of(services, post)
        assert updates, f"the notice to {post.payload} was never updated"
        assert all(u.id > post.id for u in updates)  # an update goes after its post
        view = load_view(updates[-1].payload["view"])
        assert isinstance(view, Notice)
        found[str(post.payload.get("user") or post.payload.get("channel"))] = view
    return found


async def test_nudges_carry_the_cards_buttons(services: Services, clock: ManualClock) -> None:
    data = await offer(services)
    at(clock, "10:15")
    await sweep(services)
    (nudge_post,) = await notice_posts(services)
    nudge = load_view(nudge_post.payload["view"])
    assert isinstance(nudge, Notice)
    assert [(b.action, b.value) for b in nudge.buttons] == [(Action.ACCEPT, data.pack()), (Action.REJECT, data.pack())]
    assert [p.email for p in nudge.notify] == [ALICE]


async def test_escalations_notify_the_managers(services: Services, clock: ManualClock) -> None:
    await escalated(services, clock)
    escalations = [load_view(p.payload["view"]) for p in await notice_posts(services)][1:]
    assert len(escalations) == 2  # Morgan's DM and the managers channel
    assert all(isinstance(e, Notice) and [p.email for p in e.notify] == [MORGAN] for e in escalations)


async def test_after_a_take_over_every_notice_says_so_and_loses_its_buttons(
    services: Services, clock: ManualClock
) -> None:
    data = await escalated(services, clock)
    assert (await take_over(services, data, MORGAN, source="test")).ok
    views = await last_views(services)
    assert set(views) == {"U0ALICE001", "U0MANAGER1", "C0SALESMGRS"}  # nudge, escalation DM, channel
    for view in views.values():
        assert view.buttons == []
        assert view.resolved == "Taken over by Morgan Manager at Mon 10:30 EST."


async def test_after_a_manual_reassign_every_notice_names_the_new_rep_and_the_manager(
    services: Services, clock: ManualClock
) -> None:
    data = await escalated(services, clock)
    assert (await reassign(services, data, MORGAN, BOB, source="test")).ok
    views = await last_views(services)
    assert len(views) == 3
    for view in views.values():
        assert view.buttons == []
        assert view.resolved is not None and view.resolved.startswith("Reassigned to Bob Example by Morgan Manager")


async def test_after_accept_the_nudge_says_who_accepted(services: Services, clock: ManualClock) -> None:
    data = await offer(services)
    at(clock, "10:15")
    await sweep(services)
    assert (await accept(services, data, ALICE, source="test")).ok
    (view,) = (await last_views(services)).values()
    assert view.buttons == [] and view.resolved is not None and view.resolved.startswith("Accepted by Alice Example")


async def test_after_reject_the_notices_say_so(services: Services, clock: ManualClock) -> None:
    data = await escalated(services, clock)
    result = await reject(services, data, ALICE, "no_budget", None, source="test")
    assert result.ok, result
    assert {v.resolved.split(" by ")[0] for v in (await last_views(services)).values() if v.resolved} == {"Rejected"}


async def test_the_slas_own_reassignment_is_credited_to_baton(services: Services, clock: ManualClock) -> None:
    data = await escalated(services, clock)
    at(clock, "11:00")  # the reassign step: to Bob
    assert await sweep(services) == 1
    views = await last_views(services)
    assert {v.resolved.split(" at ")[0] for v in views.values() if v.resolved} == {
        "Reassigned to Bob Example by Baton (SLA)"
    }
    card_updates = await rows(
        services,
        OutboxMessage,
        OutboxMessage.message_key == f"lead:{data.lead_id}:card:{data.handoff_id}",
        OutboxMessage.kind == "update",
        order=OutboxMessage.id,
    )
    card = load_view(card_updates[-1].payload["view"])
    assert isinstance(card, LeadCard) and card.status == "reassigned"
    assert card.status_by is not None and card.status_by.name == "Baton (SLA)"


async def test_a_later_click_on_a_stale_notice_gets_the_truth_and_changes_nothing(
    services: Services, clock: ManualClock
) -> None:
    data = await escalated(services, clock)
    assert (await reassign(services, data, MORGAN, BOB, source="test")).ok
    before = len(await rows(services, OutboxMessage)), [(h.id, h.state) for h in await rows(services, Handoff)]
    stale = await take_over(services, data, MORGAN, source="test")
    assert (stale.ok, stale.code) == (False, "finished")
    assert stale.message == "Morgan Manager already reassigned this lead to Bob Example."
    again = await reassign(services, data, MORGAN, BOB, source="test")
    assert again.message == stale.message
    assert (await accept(services, data, ALICE, source="test")).message == stale.message
    after = len(await rows(services, OutboxMessage)), [(h.id, h.state) for h in await rows(services, Handoff)]
    assert after == before


async def test_a_stale_click_after_the_slas_reassignment_names_baton(services: Services, clock: ManualClock) -> None:
    data = await escalated(services, clock)
    at(clock, "11:00")
    await sweep(services)
    stale = await take_over(services, data, MORGAN, source="test")
    assert stale.message == "Baton (SLA) already reassigned this lead to Bob Example."


async def test_a_stale_click_after_a_take_over_says_who_has_it(services: Services, clock: ManualClock) -> None:
    data = await escalated(services, clock)
    assert (await take_over(services, data, MORGAN, source="test")).ok
    late: Any = await accept(services, data, ALICE, source="test")
    assert (late.ok, late.message) == (False, "Already accepted by Morgan Manager.")
