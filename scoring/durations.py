"""Durations as people write them in the agreement: ``30s``, ``15m``, ``4h``, ``2d``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """Parse ``<number><unit>`` (s, m, h, d, w) into a positive timedelta."""
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration; write it like 30s, 15m, 4h or 2d")
    amount = int(match.group(1))
    if amount <= 0:
        raise ValueError(f"{text!r} must be greater than zero")
    return timedelta(**{_UNITS[match.group(2)]: amount})


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of ``value`` in the same notation."""
    seconds = int(value.total_seconds())
    for suffix, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{suffix}"
    return f"{seconds}s"


def _coerce(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError("must be greater than zero")
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError("must be a duration string such as 30s, 15m, 4h or 2d")


Duration = Annotated[timedelta, BeforeValidator(_coerce), PlainSerializer(format_duration, return_type=str)]
