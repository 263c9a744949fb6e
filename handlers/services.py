"""What every use case is given: the store, the agreement, the clock and a way to wake delivery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handlers.audit import AuditAction
from handlers.clock import Clock, SystemClock
from scoring.agreement import Agreement
from scoring.platforms import BUILT_IN, ChatPlatform
from store.db import Database


@dataclass(frozen=True)
class RecordedEvent:
    """What observers of the audit trail are told of a committed event."""

    action: AuditAction
    actor: str
    after: dict[str, Any] | None


def _nothing() -> None:
    return None


def _ignore(event: RecordedEvent) -> None:
    return None


@dataclass
class Services:
    """Injected into handlers; the delivery layer builds exactly one per process."""

    db: Database
    agreement: Agreement
    clock: Clock = field(default_factory=SystemClock)
    # Called after a commit that enqueued messages, so delivery need not wait for its next poll.
    wake_delivery: Callable[[], None] = _nothing
    instance: str = "baton"
    # The registered chat platforms (``bot/platforms.py``), in fan-out order: the outbox writes a
    # row for each on which a person or channel has an id.
    chat: tuple[ChatPlatform, ...] = BUILT_IN
    # Chat platforms this process delivers to; a person without an id on a platform that
    # resolves people by email (Teams) is still reached there once they have installed the app.
    platforms: frozenset[str] = frozenset({"slack"})
    # Chat platforms this deployment has configured, for routing: a rep none of them reaches gets
    # no leads. None when none is configured (every message waits in the outbox alike, so there is
    # nobody better to choose) or when the caller does not say.
    reachable_on: frozenset[str] | None = None
    # Told of every audit event once its transaction has committed (metrics count them);
    # never called for work that was rolled back.
    on_event: Callable[[RecordedEvent], None] = _ignore
