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

from scoring.agreement import Agreement, Person
from scoring.platforms import BUILT_IN, ChatPlatform

PLATFORMS = tuple(p.name for p in BUILT_IN)


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
) -> str | None:
    """Why no enabled platform reaches ``person``, or None when one does.

    ``installed``: per by-email platform, the lower-case emails holding a live conversation."""
    holding = _installed(teams_installed, installed)
    email = person.email.lower()
    for platform in platforms:
        if platform.name in enabled and (
            person.chat_ids.get(platform.name) or (platform.by_email and email in holding.get(platform.name, ()))
        ):
            return None
    why: list[str] = []
    for platform in platforms:
        if platform.name in enabled:
            why.append(platform.missing_reason)
        elif person.chat_ids.get(platform.name):
            why.append(f"has a {platform.id_key} but {platform.title} is not {platform.off}")
    if not enabled:
        why.append("no chat platform is configured")
    return f"reachable on no enabled chat platform ({'; '.join(why)})"


def unreachable_reps(
    agreement: Agreement,
    enabled: Collection[str],
    teams_installed: Collection[str] = (),
    *,
    installed: Mapping[str, Collection[str]] | None = None,
    platforms: Sequence[ChatPlatform] = BUILT_IN,
) -> Mapping[str, str]:
    """Every rep (lower-case email) no enabled platform reaches, with the reason."""
    holding = _installed(teams_installed, installed)
    found: dict[str, str] = {}
    for _, rep in agreement.reps():
        reason = unreachable_reason(rep, enabled, installed=holding, platforms=platforms)
        if reason is not None:
            found.setdefault(rep.email.lower(), reason)
    return found
