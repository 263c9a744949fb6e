"""Slack's entry in the platform registry (``bot/platforms.py``); slack-bolt loads only in the factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.platforms import Platform
from scoring import platforms

if TYPE_CHECKING:
    from bot.runtime import Component, Runtime
    from bot.settings import Settings


def _enabled(settings: Settings) -> bool:
    return settings.slack_enabled


def _component(runtime: Runtime) -> Component:
    from bot.slack.component import SlackComponent

    return SlackComponent(runtime.settings, runtime.services)


SLACK = Platform(
    chat=platforms.SLACK,
    enabled=_enabled,
    component=_component,
    not_configured=(
        "Slack is not configured (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN "
        "for Socket Mode): Slack messages stay in the outbox until it is"
    ),
)
