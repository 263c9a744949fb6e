"""Pacing arithmetic for rate-limit scopes: the generic cell rate algorithm (GCRA), pure.

A *limit* is written ``N/PERIOD`` (``1/s``, ``60/30s``, ``1800/1h``), optionally followed by
``burst B``: calls are spaced ``PERIOD / N`` apart, except that up to ``B`` (default 1) may go at
once after a quiet spell. Without a burst no window of ``PERIOD`` ever sees more than ``N``
calls, so a platform's documented window can be written as it is documented; with one, a window
may see up to ``B + N - 1``. A scope kind may have several limits, separated by commas (Teams:
``7/1s, 8/2s, 60/30s, 1800/1h``); a call must fit every one. ``off`` means unpaced.

GCRA keeps one number per limit, the *theoretical arrival time* (TAT): a call at ``now`` is
allowed when ``tat - now <= tolerance`` (``tolerance = (burst - 1) * interval``), and then
``tat = max(tat, now) + interval``. One number per limit is the whole state, so it can live in
one database row that every worker and replica shares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h)?\s*(?:burst\s+(\d+))?\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
HOW = "write it like 1/s, 60/30s, 1/s burst 3 or several separated by commas (7/1s, 60/30s), or off"


class PacingError(ValueError):
    """A pacing setting that cannot be read; the message says what is wrong and how to write it."""


@dataclass(frozen=True)
class Limit:
    """``count`` calls per ``period`` seconds, ``burst`` of them at once."""

    count: int
    period: float
    burst: int

    @property
    def interval(self) -> float:
        return self.period / self.count

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval

    def __str__(self) -> str:
        period = f"{self.period:g}s"
        return f"{self.count}/{period}" + (f" burst {self.burst}" if self.burst != 1 else "")


def parse_limits(text: str) -> tuple[Limit, ...]:
    """``"1/s burst 3"`` -> (Limit(1, 1.0, 3),); ``"off"`` or ``""`` -> () (unpaced)."""
    if text.strip().lower() in ("", "off", "none"):
        return ()
    limits = []
    for part in text.split(","):
        found = _LIMIT.match(part)
        if not found:
            raise PacingError(f"{part.strip()!r} is not a rate; {HOW}")
        count, number, unit, burst = found.groups()
        period = float(number or 1) * _UNIT[(unit or "s").lower()]
        if int(count) < 1 or period <= 0:
            raise PacingError(f"{part.strip()!r}: the count and the period must be above zero")
        if burst is not None and int(burst) < 1:
            raise PacingError(f"{part.strip()!r}: a burst must be at least 1")
        limits.append(Limit(int(count), period, int(burst) if burst is not None else 1))
    return tuple(limits)


def parse_duration(text: str | float | int) -> float:
    """Seconds from ``120``, ``"120"``, ``"90s"``, ``"15m"``, ``"4h"`` or ``"3d"``."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        found = _DURATION.match(text)
        if not found:
            raise PacingError(f"{text!r} is not a duration; write seconds (120) or 90s, 15m, 4h, 3d")
        seconds = float(found.group(1)) * _UNIT[(found.group(2) or "s").lower()]
    if seconds != seconds or seconds < 0:
        raise PacingError(f"{text!r}: a duration cannot be negative")
    return seconds


def scope_kind(scope: str) -> tuple[str, str]:
    """``"slack:channel:C1"`` -> ("slack", "channel"); ``"slack:workspace"`` -> ("slack", "workspace");
    ``"slack"`` -> ("slack", "")."""
    platform, _, rest = scope.partition(":")
    kind, _, _key = rest.partition(":")
    return platform, kind


@dataclass(frozen=True)
class Pacing:
    """The limits for each (platform, scope kind); kinds not listed are unpaced."""

    limits: Mapping[tuple[str, str], tuple[Limit, ...]]

    @classmethod
    def none(cls) -> Pacing:
        return cls({})

    def for_scope(self, scope: str) -> tuple[Limit, ...]:
        return tuple(self.limits.get(scope_kind(scope), ()))


def allowed_at(limits: Sequence[Limit], tats: Sequence[float]) -> float:
    """The earliest time (epoch seconds) one more call fits every limit; ``-inf`` when unpaced."""
    earliest = float("-inf")
    for limit, tat in zip(limits, _padded(tats, len(limits)), strict=True):
        earliest = max(earliest, tat - limit.tolerance)
    return earliest


def reserve(limits: Sequence[Limit], tats: Sequence[float], now: float) -> list[float]:
    """The TATs after one call at ``now`` (which the caller checked with ``allowed_at``)."""
    return [max(tat, now) + limit.interval for limit, tat in zip(limits, _padded(tats, len(limits)), strict=True)]


def _padded(tats: Sequence[float], n: int) -> list[float]:
    # A limit added to the settings since the state was stored starts empty (epoch 0: long past;
    # a finite number, because the state is stored as JSON).
    values = [float(t) for t in list(tats)[:n]]
    return values + [0.0] * (n - len(values))
