"""The lifecycle of a lead and its offers: one transition table, the only place that moves them.

Every change of ``Lead.stage`` or ``Handoff.state`` goes through ``move_lead`` or ``move_handoff``
(an AST test holds the rest of the tree to it). Each transition names the stages (or offer
states) it may start from, where it goes, the audit action that records it, and the side
effects the calling use case performs. The callers still perform those effects themselves; the
table is what they, the docs and the tests agree on (e.g. Take over starts no first-touch timer).

``HandoffState.WITHDRAWN`` is kept as a stored value (rows and the schema know it) but no
transition reaches it: DESIGN.md has no use case that withdraws an offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.audit import AuditAction
from scoring.agreement import Stage
from store.models import Handoff, HandoffState, Lead


class Effect(StrEnum):
    """A side effect of a transition, performed by the use case that made it."""

    START_ACCEPT_TIMER = "start the accept chain"
    START_FIRST_TOUCH_TIMER = "start the first-touch chain"
    CANCEL_ACCEPT_TIMER = "cancel the accept chain"
    CANCEL_ALL_TIMERS = "cancel every timer of the offer"
    POST_OFFER = "post the offer card"
    REFRESH_CARD = "refresh the lead's cards"
    NOTIFY = "post a notice"
    WEBHOOK = "enqueue the CRM webhook if subscribed"


class Transition(StrEnum):
    """Recycle is Reject with the recycle outcome; a recycled lead comes back through Qualify."""

    CAPTURE = "capture"
    QUALIFY = "qualify"
    OFFER = "offer"
    ACCEPT = "accept"
    REJECT = "reject"
    REASSIGN = "reassign"
    TAKE_OVER = "take_over"
    SQL = "sql"
    UNREACHABLE = "unreachable"
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"


_ANY_STAGE = frozenset(Stage)
_OPEN = frozenset({HandoffState.OFFERED})
# Captured leads, and recycled ones back from nurture, may qualify (again).
_MAY_QUALIFY = frozenset({Stage.CAPTURED, Stage.RECYCLED})
# Outcomes the CRM reports (handlers/intake/outcomes.py) for a lead sales accepted; won and lost are final.
_SALES_OWNED = frozenset({Stage.SAL, Stage.SQL, Stage.UNREACHABLE})
_MAY_CLOSE = _SALES_OWNED | {Stage.OPPORTUNITY}


@dataclass(frozen=True)
class Rule:
    """One row of the table. ``stages_to`` holds the possible outcomes (the use case picks one)."""

    stages_from: frozenset[Stage]
    stages_to: frozenset[Stage]
    action: AuditAction | None
    handoff_from: frozenset[HandoffState] = frozenset()
    handoff_to: HandoffState | None = None
    effects: tuple[Effect, ...] = ()


TABLE: dict[Transition, Rule] = {
    # A lead first seen scores to a stage (captured, or straight to a finished stage).
    Transition.CAPTURE: Rule(frozenset({Stage.CAPTURED}), _ANY_STAGE, AuditAction.STAGE_CHANGED),
    Transition.QUALIFY: Rule(_MAY_QUALIFY, frozenset({Stage.MQL}), AuditAction.QUALIFIED, effects=(Effect.WEBHOOK,)),
    Transition.OFFER: Rule(
        _ANY_STAGE,
        frozenset({Stage.MQL}),
        AuditAction.OFFERED,
        effects=(Effect.START_ACCEPT_TIMER, Effect.POST_OFFER, Effect.WEBHOOK),
    ),
    Transition.ACCEPT: Rule(
        _ANY_STAGE,
        frozenset({Stage.SAL, Stage.SQL}),
        AuditAction.ACCEPTED,
        _OPEN,
        HandoffState.ACCEPTED,
        (Effect.CANCEL_ACCEPT_TIMER, Effect.START_FIRST_TOUCH_TIMER, Effect.REFRESH_CARD, Effect.WEBHOOK),
    ),
    # The manager accepts like a rep, but the lead is in the manager's hands now: no first-touch
    # timer starts (nobody to remind, nobody to escalate to).
    Transition.TAKE_OVER: Rule(
        _ANY_STAGE,
        frozenset({Stage.SAL, Stage.SQL}),
        AuditAction.TAKEN_OVER,
        _OPEN,
        HandoffState.ACCEPTED,
        (Effect.CANCEL_ALL_TIMERS, Effect.REFRESH_CARD, Effect.WEBHOOK),
    ),
    Transition.REJECT: Rule(
        _ANY_STAGE,
        frozenset({Stage.RECYCLED, Stage.DISQUALIFIED}),
        AuditAction.REJECTED,
        _OPEN,
        HandoffState.REJECTED,
        (Effect.CANCEL_ALL_TIMERS, Effect.REFRESH_CARD, Effect.WEBHOOK),
    ),
    Transition.REASSIGN: Rule(
        _ANY_STAGE,
        _ANY_STAGE,
        AuditAction.REASSIGNED,
        frozenset({HandoffState.OFFERED, HandoffState.ACCEPTED}),
        HandoffState.REASSIGNED,
        (Effect.CANCEL_ALL_TIMERS, Effect.POST_OFFER, Effect.REFRESH_CARD, Effect.NOTIFY),
    ),
    Transition.SQL: Rule(
        frozenset({Stage.SAL}), frozenset({Stage.SQL}), AuditAction.SQL, effects=(Effect.REFRESH_CARD, Effect.WEBHOOK)
    ),
    Transition.UNREACHABLE: Rule(
        frozenset({Stage.SAL, Stage.SQL}),
        frozenset({Stage.UNREACHABLE}),
        AuditAction.UNREACHABLE,
        effects=(Effect.CANCEL_ALL_TIMERS, Effect.REFRESH_CARD, Effect.WEBHOOK),
    ),
    Transition.OPPORTUNITY: Rule(
        _SALES_OWNED,
        frozenset({Stage.OPPORTUNITY}),
        AuditAction.OPPORTUNITY,
        effects=(Effect.CANCEL_ALL_TIMERS, Effect.WEBHOOK),
    ),
    Transition.WON: Rule(
        _MAY_CLOSE,
        frozenset({Stage.WON}),
        AuditAction.WON,
        effects=(Effect.CANCEL_ALL_TIMERS, Effect.WEBHOOK),
    ),
    Transition.LOST: Rule(
        _MAY_CLOSE,
        frozenset({Stage.LOST}),
        AuditAction.LOST,
        effects=(Effect.CANCEL_ALL_TIMERS, Effect.WEBHOOK),
    ),
}


class IllegalTransition(Exception):
    """A use case tried a move the table does not allow: a bug, never a user's mistake."""

    def __init__(self, transition: Transition, current: str, target: str) -> None:
        super().__init__(f"{transition}: cannot move from {current} to {target}")
        self.transition, self.current, self.target = transition, current, target


def accepted_stage(skip_sal: bool) -> Stage:
    """Accept's stage rule, shared with Take over: SQL at once when the agreement skips SAL."""
    return Stage.SQL if skip_sal else Stage.SAL


def move_lead(lead: Lead, transition: Transition, to: Stage) -> Rule:
    rule = TABLE[transition]
    current = Stage(lead.stage) if lead.stage is not None else None
    if (current is not None and current not in rule.stages_from) or to not in rule.stages_to:
        raise IllegalTransition(transition, str(lead.stage), to)
    lead.stage = to
    return rule


def move_handoff(handoff: Handoff, transition: Transition) -> Rule:
    rule = TABLE[transition]
    if rule.handoff_to is None or HandoffState(handoff.state) not in rule.handoff_from:
        raise IllegalTransition(transition, str(handoff.state), str(rule.handoff_to))
    handoff.state = rule.handoff_to
    return rule
