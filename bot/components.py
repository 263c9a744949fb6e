"""Which integrations a process runs, from its settings."""

from __future__ import annotations

from bot.runtime import Runtime


def add_components(runtime: Runtime) -> None:
    """Plug in every chat platform and integration the settings enable."""
    settings = runtime.settings
    del settings  # platforms are added here as they are built (Slack, Teams, webhooks)
