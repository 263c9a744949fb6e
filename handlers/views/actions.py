"""Typed button actions and their packed values (Slack caps a value at 2,000 characters)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

ACTION_PREFIX = "baton:"
_VALUE_VERSION = "v1"


class Action(StrEnum):
    ACCEPT = "accept"
    CLAIM = "claim"
    REJECT = "reject"
    LOG_CALL = "log_call"
    LOG_EMAIL = "log_email"
    MEETING_BOOKED = "meeting_booked"
    UNREACHABLE = "unreachable"
    REASSIGN = "reassign"
    TAKE_OVER = "take_over"
    AGREE = "agree"  # a reviewer signs the running agreement off (handlers/agreement/signoff.py)

    @property
    def action_id(self) -> str:
        return ACTION_PREFIX + self.value


class InvalidButton(ValueError):
    """A button value that Baton did not write (forged, truncated or from an old version)."""


@dataclass(frozen=True)
class ButtonData:
    """What a lead button carries: which lead and which offer it was rendered for."""

    lead_id: int
    handoff_id: int

    def pack(self) -> str:
        return f"{_VALUE_VERSION}:{self.lead_id}:{self.handoff_id}"

    @classmethod
    def unpack(cls, value: str | None) -> ButtonData:
        if not value or len(value) > 100:
            raise InvalidButton("missing or oversized button value")
        parts = value.split(":")
        if len(parts) != 3 or parts[0] != _VALUE_VERSION or not all(p.isdigit() for p in parts[1:]):
            raise InvalidButton(f"not a Baton button value: {value[:40]!r}")
        return cls(lead_id=int(parts[1]), handoff_id=int(parts[2]))


@dataclass(frozen=True)
class ReassignChoice:
    """What one option of the Reassign picker carries: the offer and the rep it goes to.

    Packed as ``v1:<lead>:<handoff>:<email>`` in the option's own value, so the offer no
    longer rides in the block id (cards posted before still carry that form; see bot.slack).
    """

    offer: ButtonData
    to_rep: str

    def pack(self) -> str:
        return f"{self.offer.pack()}:{self.to_rep}"

    @classmethod
    def unpack(cls, value: str | None) -> ReassignChoice:
        if not value or len(value) > 200:
            raise InvalidButton("missing or oversized reassign value")
        head, sep, to_rep = value.rpartition(":")
        if not sep or "@" not in to_rep:
            raise InvalidButton(f"not a Baton reassign value: {value[:40]!r}")
        return cls(offer=ButtonData.unpack(head), to_rep=to_rep)


class Choice(BaseModel):
    label: str
    value: str


class Button(BaseModel):
    """A button (or, with ``choices``, a picker) bound to one action."""

    action: Action
    label: str
    value: str
    style: Literal["primary", "danger"] | None = None
    choices: list[Choice] = Field(default_factory=list)
