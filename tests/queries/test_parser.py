"""The parser reads every phrasing people use, forgives typos in terms, and never guesses a command."""

from __future__ import annotations

import pytest

from handlers.queries.parser import (
    BadQuery,
    DefineQuery,
    FeedbackQuery,
    HelpQuery,
    LeadQuery,
    MyQuery,
    OooQuery,
    StatsQuery,
    parse,
)
from handlers.queries.periods import PeriodSpec


@pytest.mark.parametrize("text", ["", "help", "HELP", "  help  ", "?", "help!"])
def test_help_phrasings(text: str) -> None:
    assert parse(text) == HelpQuery()


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("define mql", "mql"),
        ("Define MQL", "mql"),
        ("what's an sql?", "sql"),
        ("whats an sql", "sql"),
        ("what is a SAL", "sal"),
        ("wat is a SAL", "sal"),
        ("what is the sla", "sla"),
        ("what are the rejection reasons?", "rejection reasons"),
        ("define required fields", "required fields"),
        ("explain scoring", "scoring"),
        ("what does icp mean", "icp"),
        ("definition of mql", "mql"),
        ("what’s an MQL", "mql"),
    ],
)
def test_define_phrasings(text: str, term: str) -> None:
    assert parse(text) == DefineQuery(term)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stats", StatsQuery("stats", PeriodSpec("this_quarter"))),
        ("stats this week", StatsQuery("stats", PeriodSpec("this_week"))),
        ("stats last month", StatsQuery("stats", PeriodSpec("last_month"))),
        ("stats today", StatsQuery("stats", PeriodSpec("today"))),
        ("stats last quarter team emea", StatsQuery("stats", PeriodSpec("last_quarter"), team="emea")),
        ("stats team Enterprise last week", StatsQuery("stats", PeriodSpec("last_week"), team="enterprise")),
        ("stats last 30 days", StatsQuery("stats", PeriodSpec("last_days", 30))),
        ("stats past 7 days", StatsQuery("stats", PeriodSpec("last_days", 7))),
        ("stats @alice", StatsQuery("stats", PeriodSpec("this_quarter"), rep="alice")),
        ("stats this month for bob@example.com", StatsQuery("stats", PeriodSpec("this_month"), rep="bob@example.com")),
        (
            "stats <@U0ALICE001> last week",
            StatsQuery("stats", PeriodSpec("last_week"), rep="<@U0ALICE001>", slack_id="U0ALICE001"),
        ),
        (
            "stats <@U0ALICE001|alice>",
            StatsQuery("stats", PeriodSpec("this_quarter"), rep="<@U0ALICE001|alice>", slack_id="U0ALICE001"),
        ),
        ("stats Alice Example", StatsQuery("stats", PeriodSpec("this_quarter"), rep="Alice Example")),
        ("sla", StatsQuery("sla", PeriodSpec("this_quarter"))),
        ("sla last week team emea", StatsQuery("sla", PeriodSpec("last_week"), team="emea")),
    ],
)
def test_stats_phrasings(text: str, expected: StatsQuery) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("feedback", FeedbackQuery(PeriodSpec("last_days", 30))),
        ("feedback last week", FeedbackQuery(PeriodSpec("last_week"))),
        ("feedback source webinar", FeedbackQuery(PeriodSpec("last_days", 30), "webinar")),
        ("feedback this quarter source Paid Search", FeedbackQuery(PeriodSpec("this_quarter"), "Paid Search")),
        ("feedback source webinar last month", FeedbackQuery(PeriodSpec("last_month"), "webinar")),
    ],
)
def test_feedback_phrasings(text: str, expected: FeedbackQuery) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lead pat@x.example", LeadQuery("pat@x.example")),
        ("lead crm-42", LeadQuery("crm-42")),
        ("lead 17", LeadQuery("17")),
        ("my", MyQuery()),
        ("my leads", MyQuery()),
        ("ooo on", OooQuery(True)),
        ("ooo off", OooQuery(False)),
        ("OOO ON", OooQuery(True)),
        ("out of office on", OooQuery(True)),
        ("<@UBATON> stats", StatsQuery("stats", PeriodSpec("this_quarter"))),
    ],
)
def test_other_commands(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("stast", "stats"),
        ("statz last week", "stats"),
        ("feedbak", "feedback"),
        ("hlep", "help"),
        ("defin mql", "define"),
        ("leed 12", "lead"),
    ],
)
def test_command_typos_get_help_with_the_closest_command(text: str, suggestion: str) -> None:
    query = parse(text)
    assert isinstance(query, HelpQuery)
    assert query.suggestion == suggestion


def test_gibberish_gets_help_without_a_suggestion() -> None:
    assert parse("xyzzy plugh") == HelpQuery(unknown="xyzzy plugh", suggestion=None)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("stats last fortnight", "don't know the period"),
        ("stats next week", "don't know the period"),
        ("stats last 0 days", "between 1 and 366"),
        ("stats last 9999 days", "between 1 and 366"),
        ("stats last five days", "needs a number"),
        ("stats this week last month", "two periods"),
        ("stats team", "Which team"),
        ("feedback source", "did not understand"),
        ("lead", "Give one lead"),
        ("lead a b", "Give one lead"),
        ("ooo maybe", "ooo on"),
        ("define", "Define what"),
    ],
)
def test_malformed_arguments_get_a_clear_message(text: str, fragment: str) -> None:
    query = parse(text)
    assert isinstance(query, BadQuery)
    assert fragment in query.message
