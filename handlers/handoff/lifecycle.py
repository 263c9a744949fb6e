"""The lifecycle of a lead and its offers: one transition table, the only place that moves them.

Every change of ``Lead.stage`` or ``Handoff.state`` goes through ``move_lead`` or ``move_handoff``
(an AST test holds the rest of the tree to it). Each transition names the stages (or offer
states) it may start from, where it goes, the audit action that records it, and its side
effects. ``apply`` makes a transition and performs what its row says, in the caller's
transaction: timers cancelled and started, the next offer made, the card posted or refreshed,
the audit event (and so the CRM webhook), the live notices updated, marketing told. To change
what happens on a transition, change its row here (and, for a new kind of effect, one function
in ``handlers.handoff.effects``); the use cases only check who may act and stamp their fields.

``HandoffState.WITHDRAWN`` is kept as a stored value (rows and the schema know it) but no
transition reaches it: DESIGN.md has no use case that withdraws an offer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from handlers.audit import AuditAction
from scoring.agreement import Stage
from store.models import Handoff, HandoffState, Lead

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from handlers.services import Services
    from scoring.route import RoutingDecision


class Effect(StrEnum):
    """A side effect of a transition, performed by ``apply`` (``handlers.handoff.effects``).

    They run in this order, whatever the order in a row: timers first, then the next offer and
    the card, then the audit event, then what reads it (the card's history, the notices)."""

    CANCEL_ACCEPT_TIMER = "cancel the accept chain"
    CANCEL_FIRST_TOUCH_TIMER = "cancel the first-touch chain"
    CANCEL_ALL_TIMERS = "cancel every timer of the offer"
    START_ACCEPT_TIMER = "start the accept chain"
    START_FIRST_TOUCH_TIMER = "start the first-touch chain"
    NEW_OFFER = "offer the lead to the next rep (or channel)"
    POST_OFFER = "post the offer card"
    WEBHOOK = "enqueue the CRM webhook if subscribed (with the audit event)"
    REFRESH_CARD = "refresh the lead's cards"
    UPDATE_NOTICES = "update the offer's nudges and escalations to say what happened, without buttons"
    TELL_MARKETING = "post the rejection feedback or the unreachable notice to marketing"


# Effects that run before the audit event (what it records may depend on them: the new offer's id).
BEFORE_AUDIT = (
    Effect.CANCEL_ACCEPT_TIMER,
    Effect.CANCEL_FIRST_TOUCH_TIMER,
    Effect.CANCEL_ALL_TIMERS,
    Effect.START_ACCEPT_TIMER,
    Effect.START_FIRST_TOUCH_TIMER,
    Effect.NEW_OFFER,
    Effect.POST_OFFER,
)
# Effects that read the state after every move of one ``apply``; each runs once per offer.
AFTER_AUDIT = (Effect.REFRESH_CARD, Effect.UPDATE_NOTICES, Effect.TELL_MARKETING)


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
    TOUCH = "touch"
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
    # A second audit action recorded first, with the same before/after (without the note).
    also: AuditAction | None = None


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
        (
            Effect.CANCEL_ACCEPT_TIMER,
            Effect.START_FIRST_TOUCH_TIMER,
            Effect.REFRESH_CARD,
            Effect.WEBHOOK,
            Effect.UPDATE_NOTICES,
        ),
    ),
    # The manager accepts like a rep, but the lead is in the manager's hands now: no first-touch
    # timer starts (nobody to remind, nobody to escalate to). Audited as an acceptance too.
    Transition.TAKE_OVER: Rule(
        _ANY_STAGE,
        frozenset({Stage.SAL, Stage.SQL}),
        AuditAction.TAKEN_OVER,
        _OPEN,
        HandoffState.ACCEPTED,
        (Effect.CANCEL_ALL_TIMERS, Effect.REFRESH_CARD, Effect.WEBHOOK, Effect.UPDATE_NOTICES),
        also=AuditAction.ACCEPTED,
    ),
    Transition.REJECT: Rule(
        _ANY_STAGE,
        frozenset({Stage.RECYCLED, Stage.DISQUALIFIED}),
        AuditAction.REJECTED,
        _OPEN,
        HandoffState.REJECTED,
        (Effect.CANCEL_ALL_TIMERS, Effect.REFRESH_CARD, Effect.WEBHOOK, Effect.UPDATE_NOTICES, Effect.TELL_MARKETING),
    ),
    # The lead's stage is unchanged here: the next offer (NEW_OFFER, an OFFER of its own) moves it.
    Transition.REASSIGN: Rule(
        _ANY_STAGE,
        _ANY_STAGE,
        AuditAction.REASSIGNED,
        frozenset({HandoffState.OFFERED, HandoffState.ACCEPTED}),
        HandoffState.REASSIGNED,
        (Effect.CANCEL_ALL_TIMERS, Effect.NEW_OFFER, Effect.REFRESH_CARD, Effect.UPDATE_NOTICES),
    ),
    Transition.SQL: Rule(
        frozenset({Stage.SAL}), frozenset({Stage.SQL}), AuditAction.SQL, effects=(Effect.REFRESH_CARD, Effect.WEBHOOK)
    ),
    Transition.UNREACHABLE: Rule(
        frozenset({Stage.SAL, Stage.SQL}),
        frozenset({Stage.UNREACHABLE}),
        AuditAction.UNREACHABLE,
        effects=(
            Effect.CANCEL_ALL_TIMERS,
            Effect.REFRESH_CARD,
            Effect.WEBHOOK,
            Effect.UPDATE_NOTICES,
            Effect.TELL_MARKETING,
        ),
    ),
    # A call or email logged on an accepted lead: no stage change (Meeting booked adds SQL).
    Transition.TOUCH: Rule(
        frozenset({Stage.SAL, Stage.SQL}),
        frozenset({Stage.SAL, Stage.SQL}),
        AuditAction.TOUCHED,
        effects=(Effect.CANCEL_FIRST_TOUCH_TIMER, Effect.REFRESH_CARD, Effect.WEBHOOK),
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
    """Move the offer; its fence grows, so the timers written for its old state go stale."""
    rule = TABLE[transition]
    if rule.handoff_to is None or HandoffState(handoff.state) not in rule.handoff_from:
        raise IllegalTransition(transition, str(handoff.state), str(rule.handoff_to))
    handoff.state = rule.handoff_to
    handoff.fence += 1
    return rule


@dataclass
class Move:
    """One transition as a use case asks ``apply`` for it.

    ``to``: the lead's new stage (None: unchanged, or already moved, as intake does while it
    decides a batch in memory). ``offer``: move the offer too (``move_handoff``); Accept and
    Reject have already moved it with ``access.decide``'s compare-and-set. ``note`` is added
    to the audit event's ``after`` (the card shows it). ``decision`` and ``previous`` say where
    a reassigned lead goes next; ``new_offer`` is that offer once made.
    """

    transition: Transition
    lead: Lead
    handoff: Handoff | None
    actor: str
    to: Stage | None = None
    offer: bool = False
    before: dict[str, Any] | None = None
    after: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    decision: RoutingDecision | None = None
    previous: list[str] = field(default_factory=list)
    new_offer: Handoff | None = None
    at: datetime | None = None

    @property
    def rule(self) -> Rule:
        return TABLE[self.transition]


async def apply(session: AsyncSession, services: Services, *moves: Move) -> None:
    """Make each move and perform its row's effects, in the caller's transaction.

    Per move, in order: the stage (and offer state) checked and assigned, the effects before the
    audit event, the audit event. Then, once per offer for all the moves together, the effects
    that read the result (a touch that books a meeting refreshes its card once)."""
    # The effects need the use cases' modules (cards, offers, the outbox), which import this one.
    from handlers.handoff import effects

    after: dict[tuple[Effect, int | None], Move] = {}
    for move in moves:
        rule = move.rule
        move.at = move.at or services.clock.now()
        if move.to is not None:
            move_lead(move.lead, move.transition, move.to)
        if move.offer:
            assert move.handoff is not None
            move_handoff(move.handoff, move.transition)
        for effect in BEFORE_AUDIT:
            if effect in rule.effects:
                await effects.RUN[effect](session, services, move)
        await effects.audit(session, services, move)
        for effect in AFTER_AUDIT:
            if effect in rule.effects:
                after.setdefault((effect, move.handoff.id if move.handoff else None), move)
    for effect in AFTER_AUDIT:
        for (kind, _handoff), move in after.items():
            if kind is effect:
                await effects.RUN[effect](session, services, move)
