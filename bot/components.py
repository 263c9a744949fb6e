"""Which integrations a process runs, from its settings."""

from __future__ import annotations

import logging

from bot.runtime import Runtime
from bot.webhooks import add_webhooks

log = logging.getLogger(__name__)


def add_components(runtime: Runtime) -> None:
    """Plug in every chat platform and integration the settings enable."""
    settings = runtime.settings
    del settings  # platforms are added here as they are built (Slack, Teams, webhooks)
    if runtime.agreement.webhooks:
        add_webhooks(runtime)
    if runtime.settings.slack_enabled:
        from bot.slack.component import SlackComponent

        runtime.add(SlackComponent(runtime.settings, runtime.services))
    else:
        log.warning("Slack is not configured (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN "
                    "for Socket Mode): Slack messages stay in the outbox until it is")
    if runtime.settings.teams_enabled:
        from bot.teams.component import TeamsComponent  # botbuilder is loaded only when Teams is on

        runtime.add(TeamsComponent(runtime.settings, runtime.services))
