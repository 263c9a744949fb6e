"""What the fake Slack keeps of posted messages, and ``conversations.history`` answered from it.

As Slack documents the method: newest first; ``oldest`` and ``latest`` bound the range and are
excluded unless ``inclusive``; ``limit`` (default 100, at most 999) may return fewer, with
``has_more`` and ``response_metadata.next_cursor`` for the next page; a message's ``metadata``
(``event_type``, ``event_payload``) is returned only with ``include_all_metadata``.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from typing import Any

TRUE = {"1", "true", "True", True}


def _ts(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class History:
    def __init__(self) -> None:
        self.channels: dict[str, list[dict[str, Any]]] = defaultdict(list)  # oldest first

    def add(self, channel: str, message: dict[str, Any]) -> None:
        self.channels[channel].append(message)

    def find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.channels.get(channel, []) if m["ts"] == ts), None)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        return list(self.channels.get(channel, []))

    def with_metadata(self, event_type: str, key: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
        """Every stored message whose metadata carries ``key: value`` (for asserting "exactly once")."""
        return [
            (channel, m)
            for channel, stored in self.channels.items()
            for m in stored
            if (m.get("metadata") or {}).get("event_type") == event_type
            and (m["metadata"].get("event_payload") or {}).get(key) == value
        ]

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        inclusive = body.get("inclusive") in TRUE
        oldest, latest = _ts(body.get("oldest"), 0.0), _ts(body.get("latest"), float("inf"))
        try:
            limit = min(max(int(body.get("limit") or 100), 1), 999)
        except (TypeError, ValueError):
            return {"ok": False, "error": "invalid_limit"}
        start = 0
        if body.get("cursor"):
            try:
                start = int(base64.b64decode(str(body["cursor"])).decode().removeprefix("next_ts:"))
            except ValueError:
                return {"ok": False, "error": "invalid_cursor"}

        def within(m: dict[str, Any]) -> bool:
            ts = float(m["ts"])
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        matching = [m for m in reversed(self.channels.get(channel, [])) if within(m)]
        page = matching[start : start + limit]
        metadata = body.get("include_all_metadata") in TRUE
        out = [m if metadata else {k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(matching)
        cursor = base64.b64encode(f"next_ts:{start + limit}".encode()).decode() if more else ""
        return {
            "ok": True,
            "messages": out,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }
