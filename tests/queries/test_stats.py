"""``stats`` and ``sla`` against the seeded week: every figure computed by hand from the table in conftest."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.queries import answer
from handlers.queries.figures import gather
from handlers.queries.periods import PeriodSpec, resolve
from handlers.queries.roles import everyone, team_scope
from handlers.services import Services
from handlers.views.notice import Notice
from tests.queries.conftest import Seeder

ADMIN = "revops@example.com"


def field(notice: Notice, label: str) -> str:
    return next(f.value for f in notice.fields if f.label == label)


async def test_figures_for_everyone_this_quarter(services: Services, week: Seeder) -> None:
    period = resolve(PeriodSpec("this_quarter"), services.clock.now(), "America/New_York")
    async with services.db.transaction() as session:
        f = await gather(session, everyone(services.agreement), period.start, period.end, period.until)
    assert (f.mqls, f.sals, f.sqls) == (7, 4, 1)  # L1..L7; L0 qualified in Q3
    assert (f.offers, f.accepted, f.rejected, f.open) == (7, 4, 2, 1)
    assert f.on_time == 3  # L1, L4, L7 (L7 exactly at its deadline); L2 was late
    # Accept waits 600, 1200, 1800, 2400 s: median 1500, p90 at position 2.7 = 1800 + 0.7 * 600.
    assert round(f.accept_p50 or 0) == 1500 and round(f.accept_p90 or 0) == 2220
    # First touches 1200, 3600, 6000 s: median 3600, p90 at position 1.8 = 3600 + 0.8 * 2400.
    assert round(f.touch_p50 or 0) == 3600 and round(f.touch_p90 or 0) == 5520
    assert f.escalations == 2
    assert f.reasons == [("no_budget", 1), ("no_fit", 1)]


async def test_per_rep_rows(services: Services, week: Seeder) -> None:
    period = resolve(PeriodSpec("this_quarter"), services.clock.now(), "America/New_York")
    async with services.db.transaction() as session:
        f = await gather(session, everyone(services.agreement), period.start, period.end, period.until)
    rows = {r.rep: r for r in f.reps}
    alice = rows["alice@example.com"]
    assert (alice.offers, alice.accepted, alice.on_time, alice.touches) == (3, 3, 2, 2)
    assert round(alice.avg_accept_seconds or 0) == (600 + 2400 + 1800) // 3
    assert (rows["bob@example.com"].accepted, rows["bob@example.com"].rejected) == (1, 1)
    assert (rows["david@example.com"].open, rows["clara@example.com"].rejected) == (1, 1)


async def test_team_scope_counts_only_that_team(services: Services, week: Seeder) -> None:
    period = resolve(PeriodSpec("this_quarter"), services.clock.now(), "America/New_York")
    team = services.agreement.team("emea")
    assert team is not None
    async with services.db.transaction() as session:
        f = await gather(
            session, team_scope(services.agreement, [team], "emea"), period.start, period.end, period.until
        )
    assert (f.mqls, f.offers, f.rejected, f.open, f.escalations) == (2, 2, 1, 1, 1)
    assert f.reasons == [("no_budget", 1)]


async def test_admin_stats_answer_shows_pacing_and_the_rep_table(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats this quarter", ADMIN)
    # Commitment 600 over Q4 (1 Oct 04:00 UTC to 1 Jan 05:00 UTC), pro-rated to now.
    quarter = (datetime(2027, 1, 1, 5, tzinfo=UTC) - datetime(2026, 10, 1, 4, tzinfo=UTC)).total_seconds()
    elapsed = (services.clock.now() - datetime(2026, 10, 1, 4, tzinfo=UTC)).total_seconds()
    expected = round(600 * elapsed / quarter)
    assert field(notice, "MQLs delivered") == (
        f"7 (target to date {expected} (600 a quarter, about 46 a week): behind by {expected - 7})"
    )
    assert field(notice, "Acceptance rate") == "67% accepted, 33% rejected"
    assert field(notice, "Time to accept") == "median 25 min, p90 37 min"
    assert field(notice, "Time to first touch") == "median 1 h, p90 1 h 32 min"
    assert field(notice, "SLA attainment") == "75% (3 of 4 accepted on time)"
    assert field(notice, "Conversion") == "MQL → SAL 57% (4 of 7), SAL → SQL 25% (1 of 4)"
    assert field(notice, "Escalations") == "2"
    assert [row[0] for row in notice.tables[0].rows] == [
        "Alice Example",
        "Bob Example",
        "Clara Example",
        "David Example",
    ]


async def test_last_week_matches_this_quarter_for_the_seeded_week(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats last week", ADMIN)
    assert notice.title == "Stats for everyone, last week (week 47)"
    assert field(notice, "MQLs delivered").startswith("7 (")


async def test_period_with_no_data_says_n_a(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats today", ADMIN)
    assert field(notice, "Time to accept") == "median n/a, p90 n/a"
    assert field(notice, "Offers") == "0: 0 accepted, 0 rejected, 0 open"


async def test_sla_answer(services: Services, week: Seeder) -> None:
    notice = await answer(services, "sla team emea", ADMIN)
    assert notice.title.startswith("SLA for team emea")
    assert field(notice, "Open offers past their deadline now") == "1"
    assert field(notice, "Escalations") == "1"


async def test_rep_by_slack_mention(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats <@U0BOB00001>", "morgan.manager@example.com")
    assert notice.title.startswith("Stats for Bob Example")
    assert field(notice, "Offers") == "2: 1 accepted, 1 rejected, 0 open"


async def test_unknown_team_is_a_clear_answer(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats team apac", ADMIN)
    assert notice.title == "I don't know a team called “apac”."
    assert "enterprise, emea" in notice.lines[0]


async def test_unknown_rep_is_a_clear_answer(services: Services, week: Seeder) -> None:
    notice = await answer(services, "stats @zed", ADMIN)
    assert notice.title == "I don't know a rep called “zed”."


async def test_malformed_period_is_a_clear_answer(services: Services) -> None:
    notice = await answer(services, "stats last fortnight", ADMIN)
    assert "don't know the period" in notice.lines[0]
