"""What a use case tells the person who asked: done, or refused and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """``message`` is shown to the actor only (Slack ephemeral, Teams card-level message)."""

    ok: bool
    message: str
    code: str = "ok"  # machine-readable: ok, not_found, finished, not_allowed, already_taken, invalid

    @classmethod
    def done(cls, message: str) -> Outcome:
        return cls(True, message)

    @classmethod
    def refused(cls, code: str, message: str) -> Outcome:
        return cls(False, message, code)
