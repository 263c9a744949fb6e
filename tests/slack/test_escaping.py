"""Text from a lead is escaped wherever Baton puts it in Slack: a lead named <!channel> pings nobody."""

from __future__ import annotations

import json
from typing import Any

from handlers.views.actions import Action
from tests.slack.conftest import ALICE, MARKETING_CHANNEL, SlackDriver, offer

NASTY = {
    "first_name": "<!channel>",
    "last_name": "<@U123>",
    "company": "Tom & Jerry <Inc>",
    "campaign": "<https://evil.example|click me>",
}
RAW = ["<!channel>", "<@U123>", "<Inc>", "<https://evil.example"]


def _texts(node: Any) -> list[str]:
    """Every ``text`` string in a Block Kit structure."""
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return own + [t for value in node.values() for t in _texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


async def test_lead_text_is_escaped_in_the_card_the_update_the_form_and_the_feedback(slack: SlackDriver) -> None:
    data = await offer(slack.runtime, **NASTY)
    await slack.deliver()
    await slack.click(ALICE, Action.REJECT, data.pack())
    view = {"id": "V00000001", **slack.fake.calls_to("views.update")[0].body["view"]}
    await slack.submit(ALICE, view, "no_fit", "Their name was <!channel> & <@U123>")
    await slack.deliver()
    sent = [
        *slack.fake.calls_to("chat.postMessage"),
        *slack.fake.calls_to("chat.update"),
        *slack.fake.calls_to("views.update"),
    ]
    assert {c.body.get("channel") for c in sent} >= {"D0ALICE001", MARKETING_CHANNEL}
    everything = json.dumps([c.body for c in slack.fake.calls + slack.fake.responses], ensure_ascii=False)
    assert not any(raw in everything for raw in RAW)
    for call in sent:  # every message and view that shows the lead shows it escaped
        texts = _texts(call.body.get("blocks") or call.body["view"]["blocks"])
        assert any("&lt;!channel&gt;" in t for t in texts), call.method
    assert "&lt;!channel&gt; &lt;@U123&gt;" in everything and "Tom &amp; Jerry &lt;Inc&gt;" in everything


async def test_the_notification_fallback_text_is_escaped_too(slack: SlackDriver) -> None:
    await offer(slack.runtime, **NASTY)
    await slack.deliver()
    (posted,) = slack.fake.calls_to("chat.postMessage")
    assert posted.body["text"].startswith("New lead: &lt;!channel&gt; &lt;@U123&gt; at Tom &amp; Jerry")
