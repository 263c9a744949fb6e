"""What the agreement and routing know of a chat platform: plain data, no I/O.

A platform package (``bot/<name>/platform.py``) hands one ``ChatPlatform`` to the registry in
``bot/platforms.py``; the agreement is validated against the registered names (passed in the
validation context as ``platforms``), and the built-in two are the default when none is given.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

NAME_PATTERN = r"^[a-z][a-z0-9]{1,19}$"


@dataclass(frozen=True)
class ChatPlatform:
    """A chat platform as routing words it: how a person is found there and why they may not be."""

    name: str  # the outbox row's platform, a channel table's key, and ``<name>_id`` on a person
    title: str  # "Slack"
    # Reaches a person the agreement gives no id once they hold a conversation with Baton (Teams:
    # Baton opens the chat by their email after they install the app).
    by_email: bool = False
    # How an admin turns it on, a message id suffix: "configured" (tokens) or "enabled" (a switch);
    # "has a slack_id but Slack is not configured".
    switch: str = "configured"

    @property
    def id_key(self) -> str:
        return f"{self.name}_id"


SLACK = ChatPlatform("slack", "Slack")
TEAMS = ChatPlatform("teams", "Teams", by_email=True, switch="enabled")
BUILT_IN: tuple[ChatPlatform, ...] = (SLACK, TEAMS)


def known_names(context: Any) -> tuple[str, ...]:
    """The platform names a validation may accept: the context's ``platforms``, else the built-in ones."""
    names = context.get("platforms") if isinstance(context, Mapping) else None
    if isinstance(names, Iterable) and not isinstance(names, str):
        return tuple(str(n.name if isinstance(n, ChatPlatform) else n) for n in names)
    return tuple(p.name for p in BUILT_IN)


def clean_ids(ids: Mapping[str, object], known: Collection[str], what: str) -> dict[str, str]:
    """Platform → id with empty ids dropped; an unknown platform or a non-string id is refused."""
    out: dict[str, str] = {}
    for platform, value in ids.items():
        if platform not in known:
            raise ValueError(f"unknown chat platform `{platform}` for {what} (known: {', '.join(known)})")
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(f"the {platform} {what} must be a string")
        if value:
            out[platform] = value
    return out
