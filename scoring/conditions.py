"""A condition on one lead field: a set, a numeric range or a regular expression.

Scoring rules, disqualifiers and routing rules all use the same condition, so
the wording the bot shows and the test the engine runs come from one place.
"""

from __future__ import annotations

import re
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

    def describe(self) -> str:
        """The condition in words, as the definitions show it to people."""
        return self._description

    @cached_property
    def _description(self) -> str:
        # Every scored lead's breakdown quotes its matching rules: say each once.
        if self.in_ is not None:
            return f"{self.field} is one of {', '.join(str(v) for v in self.in_)}"
        if self.match is not None:
            return f"{self.field} matches /{self.match}/"
        if self.min is not None and self.below is not None:
            return f"{self.field} from {_num(self.min)} to below {_num(self.below)}"
        if self.min is not None:
            return f"{self.field} at least {_num(self.min)}"
        return f"{self.field} below {_num(self.below or 0)}"

    def unmet(self, value: Any) -> str:
        """Why a lead whose field holds ``value`` does not meet the condition, in words.

        The value itself is left out (it may be personal data, and the routing trace is kept).
        """
        if value is None or value == "":
            return f"{self.field} is not given"
        if self.in_ is not None:
            members = ", ".join(str(v) for v in self.in_)
            return f"{self.field} is not {members}" if len(self.in_) == 1 else f"{self.field} is none of {members}"
        if self.match is not None:
            return f"{self.field} does not match /{self.match}/"
        if _number(value) is None:
            return f"{self.field} is not a number"
        if self.min is not None and self.below is not None:
            return f"{self.field} is not from {_num(self.min)} to below {_num(self.below)}"
        if self.min is not None:
            return f"{self.field} is below {_num(self.min)}"
        return f"{self.field} is {_num(self.below or 0)} or more"


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


def _num(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"
