"""The port through which handlers reach a chat platform or a webhook receiver.

``bot/slack`` and ``bot/teams`` implement ``Sender``; the delivery worker calls
it for each outbox row and records where the message landed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Delivery:
    """One outbox row, ready to send."""

    id: int
    op: str  # post | update | webhook
    payload: dict[str, Any]
    key: str | None
    # For an update: where the original landed (channel and message id on this platform).
    target_channel: str | None = None
    target_message: str | None = None


@dataclass(frozen=True)
class Delivered:
    """Where a posted message landed, so it can be updated later."""

    channel: str
    message_id: str


class RetryLater(Exception):
    """The platform asked us to slow down or is briefly unavailable (429, 5xx)."""

    def __init__(self, after: float | None, reason: str, *, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.after = after  # seconds the platform asked for (Retry-After), or None to back off
        self.reason = reason
        self.rate_limited = rate_limited


class PermanentFailure(Exception):
    """Retrying cannot help (unknown channel, bad payload, 4xx from a webhook receiver)."""


class ConversationGone(PermanentFailure):
    """The bot was removed from the conversation; stop sending there."""


class Sender(Protocol):
    platform: str

    async def send(self, delivery: Delivery) -> Delivered | None:
        """Deliver one message; raise ``RetryLater`` or ``PermanentFailure`` when it cannot."""
        ...
