"""``lead <key>`` says what happened in words, not in audit names (issue 14, wording a user sees)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.audit import AuditAction
from handlers.queries import answer
from handlers.queries.history import action_words, actor_words
from handlers.services import Services
from tests.queries.conftest import Seeder, SeedFn

MARK = "mark.marketer@example.com"


async def test_the_history_names_actions_and_system_actors_in_words(services: Services, seed: SeedFn) -> None:
    now = services.clock.now()

    async def build(s: Seeder) -> None:
        await s.lead("H1", qualified_at=now)
        await s.audit("H1", AuditAction.CAPTURED, now, actor="intake-api")
        await s.audit("H1", AuditAction.SLA_NUDGED, now + timedelta(minutes=1), actor="baton:sla")
        await s.audit("H1", AuditAction.QUALIFIED, now + timedelta(minutes=2), actor="source:hubspot")
        await s.audit("H1", AuditAction.ACCEPTED, now + timedelta(minutes=3), actor="alice@example.com")

    await seed(build)
    notice = await answer(services, "lead crm-H1", MARK)
    history = notice.lines[notice.lines.index("History:") + 1 :]
    assert [line.split(": ", 1)[1] for line in history] == [
        "Captured by the intake API",
        "Nudged by Baton (SLA)",
        "Qualified by the hubspot source",
        "Accepted by Alice Example",
    ]
    assert not any("lead." in line or "baton:sla" in line or "intake-api" in line for line in history)


@pytest.mark.parametrize(
    "actor, words",
    [("csv-import", "a CSV import"), ("cli:ops", "ops (command line)"), ("baton:webhook", "Baton"), ("x", "x")],
)
def test_every_kind_of_actor_has_words(services: Services, actor: str, words: str) -> None:
    assert actor_words(services.agreement, actor) == words


def test_every_audit_action_has_words_and_a_newer_one_keeps_its_name() -> None:
    for action in AuditAction:
        assert action.value not in action_words(action, "Baton")
    assert action_words("lead.merged", "Baton") == "lead.merged by Baton"


async def test_a_disqualified_lead_says_why_it_has_no_owner(services: Services, seed: SeedFn) -> None:
    async def build(s: Seeder) -> None:
        await s.lead("DQ", stage="disqualified", team=None)
        await s.lead("NEW", stage="mql")

    await seed(build)
    disqualified = await answer(services, "lead crm-DQ", MARK)
    waiting = await answer(services, "lead crm-NEW", MARK)
    owner = {f.label: f.value for f in disqualified.fields}["Owner"]
    assert owner == "nobody: disqualified, so not routed"
    assert {f.label: f.value for f in waiting.fields}["Owner"] == "nobody yet"
