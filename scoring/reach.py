"""Whether a person can be reached on a chat platform this deployment has switched on.

Pure: which platforms are on, and who holds a conversation with Baton, are passed in.

- A platform reaches a person by their id there (``slack_id``, ``teams_id``: ``Person.chat_ids``),
  and only when it is configured.
- A platform that resolves people by email (Teams, ``ChatPlatform.by_email``) also reaches a
  person without an id when Baton holds a live conversation with them (they installed the app
  or wrote to it, stored under their email). An email alone is not enough: until that person
  installs the app, a card for them would wait in the outbox until it is too old and is parked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from scoring.agreement import Agreement, Person
from scoring.platforms import BUILT_IN, ChatPlatform

PLATFORMS = tuple(p.name for p in BUILT_IN)


class Gap(StrEnum):
    """Why one platform misses a person; ``handlers/text/reach.py`` words it."""

    NO_ID = "no_id"  # the platform is on, the person has no id there
    NOT_INSTALLED = "not_installed"  # a by-email platform: no id and no conversation with Baton
    SWITCHED_OFF = "switched_off"  # the person has an id, the platform is not on
    NO_PLATFORM = "no_platform"  # no platform is on at all


@dataclass(frozen=True)
class PlatformGap:
    gap: Gap
    platform: str = ""  # the platform's name ("slack"); its id key is "<name>_id"
    title: str = ""  # "Slack"
    switch: str = "configured"  # ChatPlatform.switch: how the platform is turned on

    def as_json(self) -> dict[str, Any]:
        return {"gap": self.gap.value, "platform": self.platform, "title": self.title, "switch": self.switch}


@dataclass(frozen=True)
class Unreachable:
    """No enabled platform reaches a person, and each platform's reason."""

    gaps: tuple[PlatformGap, ...]

    def as_json(self) -> dict[str, Any]:
        return {"gaps": [g.as_json() for g in self.gaps]}


def _installed(
    teams_installed: Collection[str], installed: Mapping[str, Collection[str]] | None
) -> Mapping[str, Collection[str]]:
    # ``teams_installed`` is the older spelling of ``installed={"teams": ...}``.
    return installed if installed is not None else {"teams": teams_installed}


def unreachable_reason(
    person: Person,
    enabled: Collection[str],
    teams_installed: Collection[str] = (),
    *,
    installed: Mapping[str, Collection[str]] | None = None,
    platforms: Sequence[ChatPlatform] = BUILT_IN,
) -> Unreachable | None:
    """Why no enabled platform reaches ``person``, or None when one does.

    ``installed``: per by-email platform, the lower-case emails holding a live conversation."""
    holding = _installed(teams_installed, installed)
    email = person.email.lower()
    for platform in platforms:
        if platform.name in enabled and (
            person.chat_ids.get(platform.name) or (platform.by_email and email in holding.get(platform.name, ()))
        ):
            return None
    why: list[PlatformGap] = []
    for platform in platforms:
        if platform.name in enabled:
            gap = Gap.NOT_INSTALLED if platform.by_email else Gap.NO_ID
            why.append(PlatformGap(gap, platform.name, platform.title, platform.switch))
        elif person.chat_ids.get(platform.name):
            why.append(PlatformGap(Gap.SWITCHED_OFF, platform.name, platform.title, platform.switch))
    if not enabled:
        why.append(PlatformGap(Gap.NO_PLATFORM))
    return Unreachable(tuple(why))


def unreachable_reps(
    agreement: Agreement,
    enabled: Collection[str],
    teams_installed: Collection[str] = (),
    *,
    installed: Mapping[str, Collection[str]] | None = None,
    platforms: Sequence[ChatPlatform] = BUILT_IN,
) -> Mapping[str, Unreachable]:
    """Every rep (lower-case email) no enabled platform reaches, with the reason."""
    holding = _installed(teams_installed, installed)
    found: dict[str, Unreachable] = {}
    for _, rep in agreement.reps():
        reason = unreachable_reason(rep, enabled, installed=holding, platforms=platforms)
        if reason is not None:
            found.setdefault(rep.email.lower(), reason)
    return found
