"""Definitions come from the live agreement: change the configuration and the answer changes."""

from __future__ import annotations

import pytest

from handlers.queries import answer
from handlers.queries.definitions import define, find_term
from handlers.services import Services
from scoring.agreement import Agreement
from tests.factories import make_agreement


@pytest.mark.parametrize(
    ("raw", "topic"),
    [
        ("mql", "mql"),
        ("MQLs", "mql"),
        ("sql", "stage:sql"),
        ("sal", "sal"),
        ("icp", "icp"),
        ("sla", "sla"),
        ("scoring", "scoring"),
        ("socring", "scoring"),
        ("required fields", "required_fields"),
        ("rejection reasons", "reasons"),
        ("recycled", "stage:recycled"),
        ("unreachable", "stage:unreachable"),
        ("Disqualified", "stage:disqualified"),
    ],
)
def test_terms_are_found_with_plurals_and_typos(agreement: Agreement, raw: str, topic: str) -> None:
    assert find_term(agreement, raw) == topic


def test_mql_shows_threshold_required_fields_fast_track_and_version(agreement: Agreement) -> None:
    notice = define(agreement, "mql")
    text = notice.plain_text()
    assert "scores at least 50 points" in text
    assert "email, company, country, title" in text
    assert "Requested a demo, Started a free trial" in text
    assert "Company under 100 employees (employees below 100)" in text
    assert notice.context == "Definition v2026.4, last changed 1 Oct 2026 (reviewed every 3 months)."


def test_the_answer_follows_the_configuration() -> None:
    changed = make_agreement(qualification={"threshold": 70, "required_fields": ["email", "phone"]})
    text = define(changed, "mql").plain_text()
    assert "scores at least 70 points" in text and "(email, phone)" in text


def test_scoring_lists_every_rule_with_points(agreement: Agreement) -> None:
    notice = define(agreement, "scoring")
    fit, behaviour = notice.tables
    assert ["Student or intern", "title matches /\\b(student|intern)\\b/", "-30"] in fit.rows
    assert ["Attended a webinar", "+15", "30"] in behaviour.rows
    assert "Behaviour points halve every 30d." in notice.lines


def test_sla_lists_policy_steps_and_commitment(agreement: Agreement) -> None:
    text = define(agreement, "the sla").plain_text()
    assert "600 MQLs a quarter" in text
    assert "accept: nudge after 15m, escalate after 30m, reassign after 1h" in text
    assert "at least 3 calls and 3 emails within 2w" in text


def test_rejection_reasons_show_outcomes(agreement: Agreement) -> None:
    rows = define(agreement, "rejection reasons").tables[0].rows
    assert ["Inaccurate data", "disqualify", "required"] in rows


def test_unknown_term_lists_what_can_be_defined(agreement: Agreement) -> None:
    notice = define(agreement, "pipeline velocity")
    assert notice.title == "I don't have a definition for “pipeline velocity”."
    assert "MQL, SAL, SQL, ICP, SLA" in notice.lines[0]


async def test_fuzzy_question_through_the_entry_point(services: Services) -> None:
    assert (await answer(services, "wat is a SAL?", None)).title == "SAL"
    assert (await answer(services, "what's an sql?", None)).title == "SQL"


async def test_a_bare_term_is_a_definition_question(services: Services) -> None:
    assert (await answer(services, "icp?", None)).title == "Ideal customer profile (ICP)"


async def test_typo_in_a_command_suggests_the_closest(services: Services) -> None:
    notice = await answer(services, "stast last week", "alice@example.com")
    assert notice.lines[0] == "I didn't understand “stast last week”. Did you mean `stats`?"
