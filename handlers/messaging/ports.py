"""The port through which handlers reach a chat platform or a webhook receiver.

``bot/slack`` and ``bot/teams`` implement ``Sender``; the delivery worker calls
it for each outbox row and records where the message landed.

Rate limits have scopes. A sender names, for each delivery, the scopes the call
will consume (``pacing_scopes``: for example ``slack:channel:C123`` and
``slack:workspace``), and a ``RetryLater`` raised for a 429 names the scopes the
platform's ``Retry-After`` applies to. The worker keeps one "not before" and one
pacing bucket per scope in the database, so every sweep and every replica sees
them. A scope is ``"<platform>:<kind>:<key>"`` or ``"<platform>:<kind>"``; the
kind selects the pacing rate in the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

# A platform cannot park a scope for longer than this with Retry-After.
MAX_RETRY_AFTER = 3600.0


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
    # An earlier attempt was claimed and never settled (the process died, or the commit that
    # would have recorded its result was lost): the message may already be there. A sender
    # that can look (Slack: message metadata in conversations.history) reconciles first.
    doubtful: bool = False
    # When that earlier attempt was claimed: where to look from.
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class Delivered:
    """Where a posted message landed, so it can be updated later."""

    channel: str
    message_id: str


class RetryLater(Exception):
    """A transient failure: rate limited (429), the platform unavailable (5xx, transient ok:false),
    a timeout or a dropped connection. Retried with backoff until the message is too old.

    ``uncertain``: the request may have reached the platform and been acted on (the connection
    dropped, a 5xx or an unreadable answer after a post was sent). The row stays doubtful, so
    the next attempt, by this worker or any replica, looks before posting again. ``None``: the
    sender cannot tell; the worker then assumes a post may have landed."""

    def __init__(
        self,
        after: float | None,
        reason: str,
        *,
        rate_limited: bool = False,
        scopes: tuple[str, ...] = (),
        uncertain: bool | None = False,
    ) -> None:
        super().__init__(reason)
        self.after = after  # seconds the platform asked for (Retry-After), or None to back off
        self.reason = reason
        self.rate_limited = rate_limited
        # The scopes the platform's Retry-After applies to: nothing is sent into them until it ends.
        self.scopes = scopes
        self.uncertain = uncertain


class PermanentFailure(Exception):
    """Retrying cannot help (unknown channel, bad payload, revoked token): park the row at once.

    ``code`` is the platform's own error (``channel_not_found``, ``403``...) for the alert and metrics.
    ``alerted``: the sender has already told the admins (Teams' "removed from a conversation"
    notice), so the worker parks the row without its own alert."""

    def __init__(self, reason: str = "", *, code: str | None = None, alerted: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.alerted = alerted


class ConversationGone(PermanentFailure):
    """The bot was removed from the conversation; stop sending there."""


class Sender(Protocol):
    platform: str

    def pacing_scopes(self, delivery: Delivery) -> tuple[str, ...]:
        """The rate-limit scopes this delivery consumes, known before any I/O (from the row alone)."""
        ...

    async def send(self, delivery: Delivery) -> Delivered | None:
        """Deliver one message; raise ``RetryLater`` or ``PermanentFailure`` when it cannot."""
        ...


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), capped at
    ``MAX_RETRY_AFTER``; None when absent or unreadable. The one parser for every sender."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
