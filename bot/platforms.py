"""The chat platforms Baton can run, each registered once by its package.

A platform is a package (``bot/<name>/``) with a ``platform.py`` holding one ``Platform``: what
routing knows of it (``scoring.platforms.ChatPlatform``), whether the settings switch it on, and a
factory for its ``Component`` (which imports the platform's SDK only when called). Adding a
platform is that package plus one line in ``built_in``; the outbox, routing, reach warnings,
the runtime and the agreement's validation all read the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scoring.platforms import ChatPlatform

if TYPE_CHECKING:
    from bot.runtime import Component, Runtime
    from bot.settings import Settings


@dataclass(frozen=True)
class Platform:
    chat: ChatPlatform
    enabled: Callable[[Settings], bool]
    component: Callable[[Runtime], Component]
    # Logged at start when the platform is not switched on; empty for an optional platform.
    not_configured: str = ""

    @property
    def name(self) -> str:
        return self.chat.name


class Registry:
    """Registered platforms in fan-out order (a message's rows are written in this order)."""

    def __init__(self, platforms: Iterable[Platform] = ()) -> None:
        self._platforms: dict[str, Platform] = {}
        for platform in platforms:
            self.register(platform)

    def register(self, platform: Platform) -> Registry:
        if platform.name in self._platforms or platform.name in {"none", "webhook", "crm"}:
            raise ValueError(f"a platform named {platform.name!r} is already registered")
        self._platforms[platform.name] = platform
        return self

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._platforms.values())

    @property
    def chat(self) -> tuple[ChatPlatform, ...]:
        return tuple(p.chat for p in self)

    def names(self) -> tuple[str, ...]:
        return tuple(self._platforms)

    def enabled(self, settings: Settings) -> frozenset[str]:
        """The platforms these settings configure."""
        return frozenset(p.name for p in self if p.enabled(settings))


def built_in() -> Registry:
    """Every platform this release ships; each package's entry is imported without its SDK."""
    from bot.slack.platform import SLACK
    from bot.teams.platform import TEAMS

    return Registry([SLACK, TEAMS])
