"""Wording a user sees in answers (issue 14 item 9): versions, offers that add up, help, plurals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.queries import answer
from handlers.queries.definitions import define
from handlers.services import Services
from handlers.text.words import version_words
from handlers.views.notice import Notice
from tests.factories import make_agreement
from tests.queries.conftest import Seeder, SeedFn

ADMIN = "revops@example.com"


def field(notice: Notice, label: str) -> str:
    return next(f.value for f in notice.fields if f.label == label)


@pytest.mark.parametrize(
    "version, words",
    [("3", "v3"), ("2026.4", "v2026.4"), ("1.2.0-rc1", "v1.2.0-rc1"), ("v7", "v7"), ("acc-7", "version acc-7")],
)
def test_a_v_is_glued_only_to_a_numeric_version(version: str, words: str) -> None:
    assert version_words(version) == words


def test_a_named_definition_version_reads_as_a_version() -> None:
    agreement = make_agreement(definition={"version": "acc-7", "review_every_months": 1})
    assert define(agreement, "mql").context == "Definition version acc-7 (reviewed every month)."


async def test_a_reps_offers_add_up_with_the_reassigned_ones(services: Services, seed: SeedFn) -> None:
    now = services.clock.now()

    async def build(s: Seeder) -> None:
        for label in ("R1", "R2"):
            await s.lead(label, qualified_at=now)
            await s.handoff(label, rep="alice@example.com", state="reassigned", offered_at=now - timedelta(hours=1))
        await s.lead("R3", qualified_at=now)
        await s.handoff("R3", rep="alice@example.com", state="offered", offered_at=now - timedelta(minutes=5))

    await seed(build)
    notice = await answer(services, "stats @alice today", ADMIN)
    assert field(notice, "Offers") == "3: 0 accepted, 0 rejected, 1 open, 2 reassigned"
    team = await answer(services, "stats team enterprise today", ADMIN)
    assert field(team, "Offers") == "3: 0 accepted, 0 rejected, 1 open, 2 reassigned"
    assert "Reassigned" in team.tables[0].columns


@pytest.mark.parametrize("text", ["what is the meaning of life", "explain quantum physics", "what's up"])
async def test_a_question_that_is_no_definition_gets_the_help(services: Services, text: str) -> None:
    notice = await answer(services, text, ADMIN)
    assert notice.title == "What you can ask Baton"
    assert notice.lines[0].startswith(f"I didn't understand “{text}”")


async def test_define_of_an_unknown_term_still_says_what_can_be_defined(services: Services) -> None:
    notice = await answer(services, "define meaning of life", ADMIN)
    assert notice.title == "I don't have a definition for “meaning of life”."


async def test_a_question_about_a_known_term_is_still_a_definition(services: Services) -> None:
    notice = await answer(services, "what is an mql", ADMIN)
    assert notice.title == "MQL"


def test_define_sla_says_what_happens_when_nobody_accepts() -> None:
    agreement = make_agreement()
    values = [f.value for f in define(agreement, "sla").fields]
    assert any("if nobody accepts: offered to the team channel" in v for v in values), values
    assert not any("if nobody accepts: channel;" in v for v in values)
