"""Slack end to end: escalations mention the managers, and after a manager's Take over or
Reassign every notice (nudge DM, escalation DM, managers channel) is edited with chat.update,
after its post, to say what happened and without buttons; a later click gets the truth."""

from __future__ import annotations

from handlers.clock import ManualClock
from handlers.followup.timers import sweep
from handlers.views.actions import Action, ReassignChoice
from tests.fakes.slack_api import Call
from tests.slack.conftest import SlackDriver, offer
from tests.timers.conftest import at

MANAGERS_CHANNEL, MORGAN_DM, ALICE_DM = "C0SALESMGRS", "D0MANAGER1", "D0ALICE001"


def notices(slack: SlackDriver) -> list[Call]:
    """The nudge and escalation posts, oldest first (lead cards carry the score breakdown)."""
    return [
        c
        for c in slack.fake.calls_to("chat.postMessage", ok=True)
        if "Reminder" in str(c.body.get("blocks")) or "SLA missed" in str(c.body.get("blocks"))
    ]


async def escalated(slack: SlackDriver, clock: ManualClock) -> str:
    data = await offer(slack.runtime)
    await slack.deliver()
    for hh_mm in ("10:15", "10:30"):
        at(clock, hh_mm)
        await sweep(slack.runtime.services)
        await slack.deliver()
    return data.pack()


def assert_settled(slack: SlackDriver, words: str) -> None:
    posts = notices(slack)
    assert {p.channel for p in posts} == {ALICE_DM, MORGAN_DM, MANAGERS_CHANNEL}
    calls = slack.fake.calls
    for posted in posts:
        updates = [
            c
            for c in slack.fake.calls_to("chat.update", ok=True)
            if c.channel == posted.channel and words in str(c.body.get("blocks"))
        ]
        assert len(updates) == 1, (posted.channel, [u.body for u in updates])
        assert calls.index(updates[0]) > calls.index(posted)  # ordered after its post
        blocks = updates[0].body["blocks"]
        assert not any(b["type"] == "actions" for b in blocks)


async def test_the_escalation_mentions_the_managers(slack: SlackDriver, clock: ManualClock) -> None:
    await escalated(slack, clock)
    channel_post = next(c for c in notices(slack) if c.channel == MANAGERS_CHANNEL)
    assert "<@U0MANAGER1>" in str(channel_post.body["blocks"])


async def test_take_over_edits_every_notice(slack: SlackDriver, clock: ManualClock) -> None:
    value = await escalated(slack, clock)
    await slack.click("U0MANAGER1", Action.TAKE_OVER, value, channel=MANAGERS_CHANNEL)
    await slack.deliver()
    assert_settled(slack, "Taken over by Morgan Manager")
    await slack.click("U0MANAGER1", Action.TAKE_OVER, value, channel=MANAGERS_CHANNEL)
    assert slack.last_answer() == "Already accepted by you."


async def test_reassign_edits_every_notice_and_a_later_click_is_told_where_it_went(
    slack: SlackDriver, clock: ManualClock
) -> None:
    value = await escalated(slack, clock)
    chosen = next(
        o["value"]
        for c in notices(slack)
        if c.channel == MORGAN_DM
        for b in c.body["blocks"]
        if b.get("block_id") == "baton_reassign"
        for o in b["elements"][0]["options"]
    )
    assert ReassignChoice.unpack(chosen).to_rep == "bob@example.com"
    await slack.click(
        "U0MANAGER1", Action.REASSIGN, value, channel=MORGAN_DM, block_id="baton_reassign", selected=chosen
    )
    await slack.deliver()
    assert_settled(slack, "Reassigned to Bob Example by Morgan Manager")
    await slack.click("U0MANAGER1", Action.TAKE_OVER, value, channel=MANAGERS_CHANNEL)
    assert slack.last_answer() == "Morgan Manager already reassigned this lead to Bob Example."
