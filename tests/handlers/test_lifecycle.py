"""The lifecycle table: the only mover of Lead.stage and Handoff.state, and what each move implies."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from handlers.handoff import lifecycle
from handlers.handoff.lifecycle import Effect, IllegalTransition, Transition
from handlers.handoff.reassign import take_over
from handlers.services import Services
from scoring.agreement import Stage
from store.models import Handoff, HandoffState, Lead, Timer
from tests.timers.conftest import offer, rows

ROOT = Path(__file__).resolve().parents[2]
MORGAN = "morgan.manager@example.com"

# Attributes named stage/state that are not a lead's stage or an offer's state.
_NOT_THE_MODELS = {
    ("handlers/intake/leads.py", "outcome.stage"),  # the intake's report of the lead's stage
    ("handlers/intake/leads.py", "self.state"),  # the routing state of one intake batch
}


def _assignments() -> list[tuple[str, str]]:
    found = []
    for package in ("handlers", "bot", "store", "scoring"):
        for path in (ROOT / package).rglob("*.py"):
            name = str(path.relative_to(ROOT))
            if name == "handlers/handoff/lifecycle.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), name)):
                targets: list[ast.expr] = []
                if isinstance(node, ast.Assign):
                    targets = [t for target in node.targets for t in ast.walk(target)]
                elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                    targets = [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and target.attr in ("stage", "state"):
                        found.append((name, ast.unparse(target)))
    return found


def test_nothing_outside_the_lifecycle_assigns_a_stage_or_a_state() -> None:
    assert [a for a in _assignments() if a not in _NOT_THE_MODELS] == []


def test_the_guard_sees_a_tuple_assignment() -> None:
    # The guard must catch `lead.stage, lead.owner = ...`, the form the use cases used before.
    tree = ast.parse("lead.stage, lead.owner = 1, 2")
    names = [ast.unparse(t) for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in ast.walk(n.targets[0])]
    assert "lead.stage" in names


def test_take_over_starts_no_first_touch_timer_but_accept_does() -> None:
    assert Effect.START_FIRST_TOUCH_TIMER not in lifecycle.TABLE[Transition.TAKE_OVER].effects
    assert Effect.START_FIRST_TOUCH_TIMER in lifecycle.TABLE[Transition.ACCEPT].effects


async def test_take_over_leaves_no_timer_pending(services: Services) -> None:
    data = await offer(services)
    assert (await take_over(services, data, MORGAN, source="test")).ok
    assert await rows(services, Timer, Timer.status == "pending") == []


def test_accept_and_take_over_share_one_stage_rule() -> None:
    assert lifecycle.accepted_stage(skip_sal=False) is Stage.SAL
    assert lifecycle.accepted_stage(skip_sal=True) is Stage.SQL


def test_an_illegal_stage_move_is_refused_and_changes_nothing() -> None:
    lead = Lead(stage=Stage.DISQUALIFIED)
    with pytest.raises(IllegalTransition):
        lifecycle.move_lead(lead, Transition.SQL, Stage.SQL)
    assert lead.stage == Stage.DISQUALIFIED
    with pytest.raises(IllegalTransition):
        lifecycle.move_lead(Lead(stage=Stage.SAL), Transition.ACCEPT, Stage.RECYCLED)


def test_a_closed_offer_cannot_be_taken_over() -> None:
    handoff = Handoff(state=HandoffState.REJECTED)
    with pytest.raises(IllegalTransition):
        lifecycle.move_handoff(handoff, Transition.TAKE_OVER)
    assert handoff.state == HandoffState.REJECTED


def test_no_transition_reaches_withdrawn() -> None:
    # WITHDRAWN stays a stored value only: no use case withdraws an offer (see the module's docstring).
    assert all(rule.handoff_to is not HandoffState.WITHDRAWN for rule in lifecycle.TABLE.values())


def test_every_transition_has_a_row() -> None:
    assert set(lifecycle.TABLE) == set(Transition)


def test_every_effect_has_its_function() -> None:
    from handlers.handoff import effects

    assert set(effects.RUN) == set(Effect)
    assert set(lifecycle.BEFORE_AUDIT) | set(lifecycle.AFTER_AUDIT) | {Effect.WEBHOOK} == set(Effect)


def test_the_table_says_which_transitions_reach_the_crm() -> None:
    from handlers.messaging.events import WEBHOOK_EVENTS

    for transition, rule in lifecycle.TABLE.items():
        audited = {a for a in (rule.action, rule.also) if a is not None}
        assert (Effect.WEBHOOK in rule.effects) == bool(audited & set(WEBHOOK_EVENTS)), transition


async def test_the_table_is_what_runs(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    # A newcomer who wants Take over to start the first-touch chain edits its row, and only that.
    rule = lifecycle.TABLE[Transition.TAKE_OVER]
    edited = dataclasses.replace(rule, effects=(*rule.effects, Effect.START_FIRST_TOUCH_TIMER))
    monkeypatch.setitem(lifecycle.TABLE, Transition.TAKE_OVER, edited)
    data = await offer(services)
    assert (await take_over(services, data, MORGAN, source="test")).ok
    pending = await rows(services, Timer, Timer.status == "pending")
    assert "first_touch" in {t.chain for t in pending}
