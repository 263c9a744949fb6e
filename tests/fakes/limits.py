"""Token buckets for the fakes' rate limits, read from the fake's own clock.

Slack and the Bot Framework both describe their limits as a steady rate with a short burst
("1 per second, short bursts allowed"; "7 per second per conversation"); a token bucket is
the usual way to enforce exactly that. A call refused by a bucket does not consume a token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Bucket:
    rate: float  # tokens per second
    burst: float  # bucket size: how many calls may arrive at once
    tokens: float = -1.0
    at: float | None = None

    def wait(self, now: float) -> float:
        """Seconds until a call may pass (0: now); consumes nothing."""
        if self.at is None or self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = max(self.at, now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> float:
        """Consume a token and return 0, or return the seconds until one is free (nothing consumed)."""
        wait = self.wait(now)
        if wait == 0.0:
            self.tokens -= 1.0
        return wait


@dataclass(frozen=True)
class Limit:
    """A rate limit: ``rate`` calls per second, ``burst`` at once; Retry-After in whole seconds
    as the platforms send it, or fractional (``whole_seconds=False``) for time-scaled benchmarks."""

    rate: float
    burst: float = 1.0
    whole_seconds: bool = True

    def bucket(self) -> Bucket:
        return Bucket(self.rate, self.burst)

    def retry_after(self, wait: float) -> str:
        if self.whole_seconds:
            return str(max(1, math.ceil(wait)))
        return f"{max(wait, 0.001):.3f}"
