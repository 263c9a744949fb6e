"""Every refusal Baton gives, by code: one wording on Slack, Teams and the CLI.

A ``RefusalCode`` names why something was refused; its text is the catalogue message
``refusal.<code>`` and its coarse ``kind`` is the machine-readable ``Outcome.code`` that
callers and the API branch on (not_found, finished, not_allowed, already_taken, invalid).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from handlers.handoff.outcome import Outcome
from handlers.text import _


class RefusalCode(StrEnum):
    # Loading the offer a button refers to.
    LEAD_GONE = "lead_gone"
    # Who may act on an offer.
    OFFERED_TO_OTHER = "offered_to_other"
    OTHER_TEAM = "other_team"
    MANAGERS_ONLY_REASSIGN = "managers_only_reassign"
    MANAGERS_ONLY_TAKE_OVER = "managers_only_take_over"
    # An offer that is no longer open.
    ALREADY_ACCEPTED_BY_YOU = "already_accepted_by_you"
    ALREADY_ACCEPTED = "already_accepted"
    ALREADY_REJECTED = "already_rejected"
    OFFER_REASSIGNED = "offer_reassigned"
    ALREADY_REASSIGNED = "already_reassigned"
    OFFER_CLOSED = "offer_closed"
    # Reassigning.
    NOT_A_TEAM_REP = "not_a_team_rep"
    ALREADY_OFFERED_TO = "already_offered_to"
    REP_OUT_OF_OFFICE = "rep_out_of_office"
    PICK_A_REP = "pick_a_rep"
    # Logging touches.
    NOTHING_TO_LOG = "nothing_to_log"
    ACCEPT_FIRST = "accept_first"
    BELONGS_TO = "belongs_to"
    ALREADY_AT_STAGE = "already_at_stage"
    NOT_YET_UNREACHABLE = "not_yet_unreachable"
    # Rejecting: the form as a whole (its fields' problems are ``reject.error.*``).
    FIX_THE_FORM = "fix_the_form"
    # Out of office and erasure.
    NOT_A_REP = "not_a_rep"
    NOT_AN_EMAIL = "not_an_email"
    NO_LEAD_WITH_EMAIL = "no_lead_with_email"
    # The platforms: who is clicking, and what the click carried.
    NOT_CONFIGURED = "not_configured"
    BUTTON_INVALID = "button_invalid"
    NOT_A_CARD_ACTION = "not_a_card_action"
    UNKNOWN_CARD_ACTION = "unknown_card_action"
    CARD_WITHOUT_DATA = "card_without_data"

    @property
    def msgid(self) -> str:
        return f"refusal.{self.value}"

    @property
    def kind(self) -> str:
        return _KINDS.get(self, "invalid")


_KINDS = {
    RefusalCode.LEAD_GONE: "not_found",
    RefusalCode.OFFERED_TO_OTHER: "not_allowed",
    RefusalCode.OTHER_TEAM: "not_allowed",
    RefusalCode.MANAGERS_ONLY_REASSIGN: "not_allowed",
    RefusalCode.MANAGERS_ONLY_TAKE_OVER: "not_allowed",
    RefusalCode.ALREADY_ACCEPTED_BY_YOU: "already_taken",
    RefusalCode.ALREADY_ACCEPTED: "already_taken",
    RefusalCode.ALREADY_REJECTED: "finished",
    RefusalCode.OFFER_REASSIGNED: "finished",
    RefusalCode.ALREADY_REASSIGNED: "finished",
    RefusalCode.OFFER_CLOSED: "finished",
    RefusalCode.ACCEPT_FIRST: "finished",
    RefusalCode.BELONGS_TO: "not_allowed",
    RefusalCode.ALREADY_AT_STAGE: "finished",
    RefusalCode.NOT_A_REP: "not_found",
    RefusalCode.NO_LEAD_WITH_EMAIL: "not_found",
    RefusalCode.NOT_CONFIGURED: "not_allowed",
}


def refusal_text(code: RefusalCode, /, **values: Any) -> str:
    """The words of a refusal, for a platform answer that is not an ``Outcome``."""
    return _(code.msgid, **values)


def refuse(code: RefusalCode, /, **values: Any) -> Outcome:
    """The ``Outcome`` of a refused use case, worded by the catalogue."""
    return Outcome.refused(code.kind, refusal_text(code, **values))
