"""Build the slack-bolt ``AsyncApp`` and register every listener on it.

Slack's signature is checked by ``component`` on the raw bytes before anything parses
the body (``inbound.verify``), so bolt's own check, which runs after bolt has parsed the
body and logs the whole body when it fails, is switched off. Socket Mode needs no signing
secret; then the HTTP endpoint is not mounted at all (see ``component``).

An error bolt catches (in a middleware or a listener) is logged as one line, and the
request is answered 200: Slack shows the person an error and retries an event on any other
status, and a retry would only fail the same way.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import log_failure
from bot.settings import Settings
from bot.slack import actions, commands, events, home, modals, welcome
from bot.slack.context import Deps

log = logging.getLogger(__name__)


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client, pointed at ``SLACK_API_URL`` (a local fake in tests)."""
    return AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)


class _SameToken(logging.Filter):
    """Bolt reads ``SLACK_BOT_TOKEN`` from the environment itself and, given a client too, warns on
    every start that the token will be unused; Baton's client is built from that very token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "token` will be unused" not in record.getMessage()


_BOLT_LOG = logging.getLogger("bot.slack.bolt")
_BOLT_LOG.addFilter(_SameToken())


def build_app(settings: Settings, deps: Deps, client: AsyncWebClient) -> AsyncApp:
    app = AsyncApp(
        name="baton",
        logger=_BOLT_LOG,
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        # Verified before dispatch (``inbound.verify``); bolt gets the parsed body re-encoded.
        request_verification_enabled=False,
        # Listeners ack first and work after; bolt returns the HTTP answer on ack().
        process_before_response=False,
    )
    for module in (events, actions, modals, commands, home, welcome):
        module.register(app, deps)
    app.error(_on_error)
    return app


async def _on_error(error: Exception, response: BoltResponse | None) -> BoltResponse | None:
    """One log line per failure (the traceback only at debug); never a 500 to Slack."""
    log_failure(log, "Slack: a listener failed", error, logging.ERROR)
    # ``response`` is None once the listener had acked: the answer already went out.
    return BoltResponse(status=200, body="") if response is not None else None
