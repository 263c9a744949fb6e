"""Build the slack-bolt ``AsyncApp`` and register every listener on it.

HTTP mode verifies Slack's signature (bolt answers 401 to an unsigned, wrongly signed
or over-5-minutes-old request before any listener runs). Socket Mode needs no signing
secret; then the HTTP endpoint is not mounted at all (see ``component``).
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from bot.slack import actions, commands, events, home, modals
from bot.slack.context import Deps


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client, pointed at ``SLACK_API_URL`` (a local fake in tests)."""
    return AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)


def build_app(settings: Settings, deps: Deps, client: AsyncWebClient) -> AsyncApp:
    app = AsyncApp(
        name="baton",
        logger=logging.getLogger("bot.slack.bolt"),
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        # No signing secret means Socket Mode only: requests come over our own websocket.
        request_verification_enabled=bool(settings.slack_signing_secret),
        # Listeners ack first and work after; bolt returns the HTTP answer on ack().
        process_before_response=False,
    )
    for module in (events, actions, modals, commands, home):
        module.register(app, deps)
    return app
