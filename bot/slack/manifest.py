"""The Slack app manifest, built here and written to ``manifests/slack/`` (a test keeps them equal).

Scopes are the minimum Baton uses; ``SCOPES`` says why each is needed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

EVENTS_PATH = "/slack/events"  # events, interactivity and slash commands share it
PLACEHOLDER_URL = "https://baton.example.com"

SCOPES: dict[str, str] = {
    "chat:write": "post lead cards, notices and ephemeral answers; update cards after Accept/Reject",
    "im:write": "open the DM with a rep (conversations.open) to send them their offers",
    "commands": "the /baton slash command",
    "app_mentions:read": "answer questions when someone @mentions Baton in a channel",
    "im:history": "receive the messages people send Baton in its DM (message.im)",
    "files:write": "attach the chart to the weekly digest",
    # conversations.history needs the history scope of the conversation's type; Baton reads it
    # only to check, after a crash, whether a card already landed (bot/slack/reconcile.py).
    "channels:history": "after a crash, check whether a card already landed in a channel before posting it again",
    "groups:history": "the same check in a private channel Baton was invited to",
    # member_joined_channel reaches a bot only with the read scope of the channel's type.
    "channels:read": "hear that Baton was added to a public channel (member_joined_channel), to welcome it once",
    "groups:read": "the same for a private channel Baton was invited to",
}
BOT_EVENTS = ["app_home_opened", "app_mention", "member_joined_channel", "member_left_channel", "message.im"]


def events_url(base_url: str) -> str:
    """``https://host`` (or a URL already ending in the path) → ``https://host/slack/events``."""
    parts = urlsplit(base_url.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"Slack needs a public https:// URL, got {base_url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(EVENTS_PATH):
        path += EVENTS_PATH
    return f"https://{parts.netloc}{path}"


def slack_manifest(base_url: str | None = None, *, socket: bool = False) -> dict[str, Any]:
    """The manifest for HTTP mode (request URLs filled in) or Socket Mode (no URLs)."""
    url = None if socket else events_url(base_url or PLACEHOLDER_URL)
    command: dict[str, Any] = {
        "command": "/baton",
        "description": "Ask Baton: help, define, stats, sla, my…",
        "usage_hint": "help | define mql | stats this week | my",
        "should_escape": False,
    }
    events: dict[str, Any] = {"bot_events": BOT_EVENTS}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if url:
        command["url"] = url
        events["request_url"] = url
        interactivity["request_url"] = url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Baton",
            "description": "Hands marketing-qualified leads to sales, with the reasons, and brings feedback back.",
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "Baton", "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket,
            "token_rotation_enabled": False,
        },
    }
