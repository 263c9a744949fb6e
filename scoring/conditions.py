"""A condition on one lead field: a set, a numeric range or a regular expression.

Scoring rules, disqualifiers and routing rules all use the same condition, so
the test the engine runs is written once; its wording is the handlers' (``handlers/text/conditions.py``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Scalar = str | int | float | bool


class Condition(BaseModel):
    """Matches when the lead's ``field`` is in ``in``, within [``min``, ``below``), or matches ``match``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    field: str = Field(min_length=1)
    in_: list[Scalar] | None = Field(default=None, alias="in")
    min: float | None = None
    below: float | None = None
    match: str | None = None

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [self.in_ is not None, self.min is not None or self.below is not None, self.match is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of `in`, `min`/`below` or `match`")
        if self.min is not None and self.below is not None and self.min >= self.below:
            raise ValueError("`min` must be smaller than `below`")
        return self

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.match, re.IGNORECASE) if self.match is not None else None

    @cached_property
    def _members(self) -> frozenset[Any]:
        return frozenset(_norm(v) for v in self.in_ or ())

    def matches(self, value: Any) -> bool:
        """True when ``value`` (the lead's field value, possibly None) satisfies the condition."""
        if value is None:
            return False
        if self.in_ is not None:
            return _norm(value) in self._members
        if self._pattern is not None:
            return self._pattern.search(str(value)) is not None
        number = _number(value)
        if number is None:
            return False
        return (self.min is None or number >= self.min) and (self.below is None or number < self.below)

    def miss(self, value: Any) -> Miss:
        """How a lead whose field holds ``value`` misses the condition (it does not match)."""
        if value is None or value == "":
            return Miss.NOT_GIVEN
        if self.in_ is not None:
            return Miss.NOT_IN
        if self.match is not None:
            return Miss.NO_MATCH
        if _number(value) is None:
            return Miss.NOT_A_NUMBER
        return Miss.OUT_OF_RANGE

    def as_json(self) -> dict[str, Any]:
        """The condition as the agreement writes it (``in``, ``min``, ``below``, ``match``)."""
        # Only the condition's own keys: scoring rules and disqualifiers extend it with theirs.
        keys = {"field", "in_", "min", "below", "match"}
        return self.model_dump(by_alias=True, exclude_none=True, include=keys)


class Miss(StrEnum):
    """How a value misses a condition; ``handlers/text/conditions.py`` words it."""

    NOT_GIVEN = "not_given"
    NOT_IN = "not_in"
    NO_MATCH = "no_match"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"


def _norm(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None
