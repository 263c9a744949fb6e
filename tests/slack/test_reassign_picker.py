"""The Reassign picker: the option carries the offer; pickers posted before carried it in the block id."""

from __future__ import annotations

import pytest

from handlers.views.actions import Action, ButtonData, InvalidButton, ReassignChoice
from store.models import Handoff
from tests.slack.conftest import SlackDriver, offer
from tests.timers.conftest import rows

MORGAN = "U0MANAGER1"


async def _reassigned_to(slack: SlackDriver) -> list[tuple[str | None, str]]:
    return [(h.rep, h.state) for h in await rows(slack.runtime.services, Handoff, order=Handoff.id)]


async def test_the_picker_option_carries_the_offer_and_the_rep(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    selected = ReassignChoice(data, "bob@example.com").pack()
    await slack.click(MORGAN, Action.REASSIGN, "", block_id="baton_reassign", selected=selected)
    assert await _reassigned_to(slack) == [("alice@example.com", "reassigned"), ("bob@example.com", "offered")]


async def test_a_picker_posted_before_still_works_from_its_block_id(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    block_id = f"baton_reassign|{data.pack()}"
    await slack.click(MORGAN, Action.REASSIGN, "", block_id=block_id, selected="bob@example.com")
    assert await _reassigned_to(slack) == [("alice@example.com", "reassigned"), ("bob@example.com", "offered")]


async def test_a_forged_option_changes_nothing(slack: SlackDriver) -> None:
    await offer(slack.runtime)
    await slack.click(MORGAN, Action.REASSIGN, "", block_id="baton_reassign", selected="v1:x:y:bob@example.com")
    assert await _reassigned_to(slack) == [("alice@example.com", "offered")]


def test_the_choice_round_trips_and_refuses_junk() -> None:
    choice = ReassignChoice(ButtonData(3, 4), "bob@example.com")
    assert ReassignChoice.unpack(choice.pack()) == choice
    for junk in (None, "", "bob@example.com", "v1:3:4", "v2:3:4:bob@example.com", "v1:3:4:" + "x" * 300):
        with pytest.raises(InvalidButton):
            ReassignChoice.unpack(junk)
