"""Offers reach Slack: a DM card for direct teams, a team-channel card with Claim for channel teams."""

from __future__ import annotations

from sqlalchemy import select

from store.models import SentMessage
from tests.slack.conftest import ALICE, EMEA_CHANNEL, SlackDriver, offer


def _buttons(blocks: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]  # type: ignore[attr-defined]


async def test_a_direct_offer_is_a_dm_card_with_accept_and_reject(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    assert await slack.deliver() == 1
    (opened,) = slack.fake.calls_to("conversations.open")
    (posted,) = slack.fake.calls_to("chat.postMessage")
    assert opened.body["users"] == ALICE and posted.body["channel"] == "D0ALICE001"
    buttons = _buttons(posted.body["blocks"])
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("baton:accept", data.pack()),
        ("baton:reject", data.pack()),
    ]
    async with slack.runtime.db.transaction() as session:
        sent = (await session.scalars(select(SentMessage))).one()
    assert (sent.channel, sent.message_id) == ("D0ALICE001", "1764000000.000001")


async def test_a_channel_offer_goes_to_the_team_channel_with_claim(slack: SlackDriver) -> None:
    data = await offer(slack.runtime, country="DE")
    await slack.deliver()
    (posted,) = slack.fake.calls_to("chat.postMessage")
    assert posted.body["channel"] == EMEA_CHANNEL and not slack.fake.calls_to("conversations.open")
    assert [b["action_id"] for b in _buttons(posted.body["blocks"])] == ["baton:claim", "baton:reject"]
    assert _buttons(posted.body["blocks"])[0]["value"] == data.pack()
    assert "*emea* team" in str(posted.body["blocks"])


async def test_the_card_explains_the_score_rule_by_rule(slack: SlackDriver) -> None:
    await offer(slack.runtime, first_name="Ada", last_name="Lovelace")
    await slack.deliver()
    (posted,) = slack.fake.calls_to("chat.postMessage")
    text = str(posted.body["blocks"])
    assert "*Ada Lovelace*" in text and "Senior title: +20" in text and "threshold 50" in text
    assert "respond by" in text
