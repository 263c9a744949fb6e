"""Cards share the component's connection pool: a burst does not open (and, against the real
Slack, TLS-handshake) one connection per message."""

from __future__ import annotations

from handlers.messaging import outbox
from handlers.views.notice import Notice
from scoring.agreement import ChannelRef
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import SlackDriver


async def test_a_burst_of_cards_reuses_the_started_components_connections(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    await slack.component.start()
    try:
        async with slack.runtime.db.transaction() as session:
            for i in range(12):
                await outbox.post(
                    session,
                    slack.runtime.services,
                    Notice(title=f"Card {i}", lines=["x"]),
                    to_channel=ChannelRef(slack=f"C0REUSE{i:03d}"),
                )
        await slack.deliver()
    finally:
        await slack.component.stop()
    posts = fake_slack.calls_to("chat.postMessage", ok=True)
    assert len(posts) == 12
    connections = {call.peer for call in posts}
    # At most one connection per concurrent send (the worker's concurrency), not one per card.
    assert len(connections) <= slack.runtime.settings.outbox_concurrency < len(posts)
