"""Who sees what: reps their own numbers and team totals, managers their teams, marketing totals."""

from __future__ import annotations

from handlers.queries import answer
from handlers.services import Services
from tests.queries.conftest import Seeder

ALICE, MORGAN, MIA, MARK = (
    "alice@example.com",
    "morgan.manager@example.com",
    "mia.manager@example.com",
    "mark.marketer@example.com",
)


def labels(notice: object) -> list[str]:
    return [f.label for f in notice.fields]  # type: ignore[attr-defined]


async def test_rep_plain_stats_shows_own_numbers_and_team_totals(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats", ALICE)
    assert notice.title == "Stats for Alice Example, Q4 2026"
    assert next(f.value for f in notice.fields if f.label == "Offers") == "3: 3 accepted, 0 rejected, 0 open"
    assert next(f.value for f in notice.fields if f.label == "Team enterprise").startswith("5 MQLs, 5 offers")
    assert notice.tables == []


async def test_rep_may_see_team_totals_without_colleagues_rows(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats team enterprise", ALICE)
    assert notice.title.startswith("Stats for team enterprise")
    assert notice.tables == []


async def test_rep_asking_for_a_colleague_is_refused_naming_who_can(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats @bob", ALICE)
    assert notice.title == "Sorry, I can't show you that."
    assert "Morgan Manager" in notice.lines[0] and "revops@example.com" in notice.lines[0]
    assert notice.fields == []


async def test_rep_asking_for_another_team_is_refused(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats team emea", ALICE)
    assert "Mia Manager" in notice.lines[0]


async def test_manager_plain_stats_is_their_team_with_rep_rows(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats", MIA)
    assert notice.title.startswith("Stats for emea")
    assert [r[0] for r in notice.tables[0].rows] == ["Clara Example", "David Example"]


async def test_manager_cannot_see_another_teams_rep(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats alice", MIA)
    assert notice.title == "Sorry, I can't show you that."


async def test_marketing_sees_totals_with_pacing_but_no_rep_rows(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats", MARK)
    assert "MQLs delivered" in labels(notice)
    assert notice.tables == []


async def test_marketing_cannot_see_one_reps_numbers(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats alice@example.com", MARK)
    assert "Morgan Manager" in notice.lines[0]


async def test_rep_sees_only_their_own_feedback(services: Services, week: Seeder) -> None:
    notice = await answer(services, "feedback this quarter", "bob@example.com")
    assert notice.tables[0].rows == [["No fit (size, title, geography)", "1", "100%"]]


async def test_unknown_person_is_asked_to_be_added(services: Services) -> None:
    notice = await answer(services, "stats", None)
    assert notice.title == "I don't know you yet."
    assert "revops@example.com" in notice.lines[0]


async def test_unknown_email_is_treated_like_an_unknown_person(services: Services) -> None:
    notice = await answer(services, "my", "stranger@example.com")
    assert notice.title == "I don't know you yet."


async def test_anyone_may_ask_for_definitions_and_help(services: Services) -> None:
    assert (await answer(services, "define mql", None)).title == "MQL"
    assert (await answer(services, "help", None)).title == "What you can ask Baton"
