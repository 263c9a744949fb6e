"""Block Kit building blocks with Slack's limits built in, and mrkdwn escaping.

Every string that reaches a ``mrkdwn`` object goes through ``escape`` unless Baton
wrote the markup itself (a ``<@U…>`` mention, ``*bold*``). Slack rejects a message
that breaks a limit, so each builder truncates instead of failing delivery.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.text import n_

Block = dict[str, Any]

MAX_BLOCKS = 50  # per message (100 in a modal or App Home view)
MAX_TEXT = 3000  # section and context text
MAX_FIELD = 2000  # one section field
MAX_FIELDS = 10  # fields per section
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_ACTIONS = 25  # elements in one actions block
MAX_FALLBACK = 4000  # the top-level ``text`` notifications fall back to

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def escape(text: object) -> str:
    """Slack's three control characters; a lead named ``<!channel>`` pings nobody."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Cut already-escaped text to ``limit`` characters without splitting an ``&lt;`` entity."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - 1])
    return cut + "…"


def mrkdwn(text: str, limit: int = MAX_TEXT) -> dict[str, str]:
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def plain(text: str, limit: int) -> dict[str, Any]:
    """Plain text is not parsed for mentions; still clipped to the element's limit."""
    return {
        "type": "plain_text",
        "text": (text[: limit - 1] + "…") if len(text) > limit else text or " ",
        "emoji": True,
    }


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def fields_sections(pairs: list[tuple[str, str]]) -> list[Block]:
    """``pairs`` are (label, escaped value); up to ten fields per section block."""
    items = [mrkdwn(f"*{escape(label)}*\n{value}", MAX_FIELD) for label, value in pairs]
    return [{"type": "section", "fields": items[i : i + MAX_FIELDS]} for i in range(0, len(items), MAX_FIELDS)]


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts if t][:MAX_CONTEXT_ELEMENTS]}


def divider() -> Block:
    return {"type": "divider"}


def mention(slack_id: str | None, name: str) -> str:
    """A real mention when Baton knows the Slack id, else the escaped name."""
    return f"<@{slack_id}>" if slack_id else escape(name)


def cap_blocks(blocks: list[Block], limit: int = MAX_BLOCKS) -> list[Block]:
    """Keep the first blocks and the last (the buttons) when a message would break the limit."""
    if len(blocks) <= limit:
        return blocks
    tail = [blocks[-1]] if blocks[-1].get("type") == "actions" else []
    keep = limit - 1 - len(tail)
    hidden = len(blocks) - keep - len(tail)
    return [*blocks[:keep], context(escape(n_("blocks.more_not_shown", hidden))), *tail]


def fallback(text: str) -> str:
    """The notification text: escaped like everything else, within Slack's limit."""
    return clip(escape(text), MAX_FALLBACK)
