"""Talking to Baton: /baton, mentions, DMs and the App Home; Events API retries never act twice."""

from __future__ import annotations

from typing import Any

from tests.slack.conftest import ALICE, SlackDriver, offer


def _mention(text: str, ts: str = "1764000000.000100") -> dict[str, Any]:
    return {"type": "app_mention", "user": ALICE, "text": text, "channel": "C0SOMEWHERE", "ts": ts}


async def test_baton_help_lists_what_baton_can_do(slack: SlackDriver) -> None:
    response = await slack.command(ALICE, "help")
    assert response.status == 200
    answer = slack.fake.responses[-1].body
    assert answer["response_type"] == "ephemeral" and "`my`" in str(answer["blocks"])


async def test_an_unknown_subcommand_gets_a_helpful_answer(slack: SlackDriver) -> None:
    await slack.command(ALICE, "frobnicate the leads")
    text = str(slack.fake.responses[-1].body["blocks"])
    assert "frobnicate" in text and "help" in text


async def test_a_failing_query_engine_still_gets_an_answer(slack: SlackDriver, monkeypatch: Any) -> None:
    import handlers.queries

    async def broken(*_args: Any) -> None:
        raise RuntimeError("the stats query broke")

    monkeypatch.setattr(handlers.queries, "answer", broken)
    response = await slack.command(ALICE, "stats")
    assert response.status == 200
    text = str(slack.fake.responses[-1].body["blocks"])
    assert "Sorry, I couldn't answer that just now." in text and "the stats query broke" not in text


async def test_a_mention_is_answered_in_its_thread_without_the_mention(slack: SlackDriver) -> None:
    response = await slack.event(_mention("<@U0BATONBOT> help"))
    assert response.status == 200
    (reply,) = slack.fake.calls_to("chat.postMessage")
    assert reply.body["channel"] == "C0SOMEWHERE" and reply.body["thread_ts"] == "1764000000.000100"
    assert "What you can ask Baton" in reply.body["text"]


async def test_a_dm_gets_the_same_answer(slack: SlackDriver) -> None:
    await slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "user": ALICE,
            "text": "help",
            "channel": "D0ALICE001",
            "ts": "1764000000.000200",
        }
    )
    (reply,) = slack.fake.calls_to("chat.postMessage")
    assert reply.body["channel"] == "D0ALICE001" and "What you can ask Baton" in reply.body["text"]


async def test_messages_from_bots_are_ignored(slack: SlackDriver) -> None:
    await slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "bot_id": "B0OTHER",
            "user": "U0OTHERBOT",
            "text": "help",
            "channel": "D0ALICE001",
            "ts": "1764000000.000300",
        }
    )
    assert not slack.fake.calls_to("chat.postMessage")


async def test_an_events_api_retry_never_repeats_the_answer(slack: SlackDriver) -> None:
    await slack.event(_mention("<@U0BATONBOT> help"), event_id="Ev42")
    retried = await slack.event(_mention("<@U0BATONBOT> help"), event_id="Ev42", retry=1)
    assert retried.status == 200
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_the_same_event_twice_without_a_retry_header_is_answered_once(slack: SlackDriver) -> None:
    await slack.event(_mention("<@U0BATONBOT> help"), event_id="Ev43")
    await slack.event(_mention("<@U0BATONBOT> help"), event_id="Ev43")
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_app_home_shows_the_reps_open_offers(slack: SlackDriver) -> None:
    data = await offer(slack.runtime, first_name="Grace", last_name="Hopper", company="Navy Labs")
    await slack.event({"type": "app_home_opened", "user": ALICE, "tab": "home", "channel": "D0ALICE001"})
    (published,) = slack.fake.calls_to("views.publish")
    assert published.body["user_id"] == ALICE and published.body["view"]["type"] == "home"
    text = str(published.body["view"]["blocks"])
    assert "*Grace Hopper* at Navy Labs" in text and data.pack() in text and "Accept by" in text
    assert "0 touches logged this week" in text


async def test_app_home_for_a_stranger_says_how_to_get_added(slack: SlackDriver) -> None:
    await slack.event({"type": "app_home_opened", "user": "U0STRANGER", "tab": "home"})
    (published,) = slack.fake.calls_to("views.publish")
    assert "not in Baton's configuration" in str(published.body["view"]["blocks"])
