"""Teams' entry in the platform registry (``bot/platforms.py``); botbuilder loads only in the factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.platforms import Platform
from scoring import platforms

if TYPE_CHECKING:
    from bot.runtime import Component, Runtime
    from bot.settings import Settings


def _enabled(settings: Settings) -> bool:
    return settings.teams_enabled


def _component(runtime: Runtime) -> Component:
    from bot.teams.component import TeamsComponent  # botbuilder is loaded only when Teams is on

    return TeamsComponent(runtime.settings, runtime.services)


TEAMS = Platform(chat=platforms.TEAMS, enabled=_enabled, component=_component)
