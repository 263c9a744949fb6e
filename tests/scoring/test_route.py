"""Routing against the example agreement: enterprise (direct: Alice in New York, weight 2;
Bob in Chicago, weight 1) and emea (channel); Europe goes to EMEA; bigcustomer.example
belongs to Alice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest

from handlers.text.routing import matched_text, step_text, why_text
from scoring.agreement import Agreement
from scoring.agreement_check import load_agreement
from scoring.route import RoutingDecision, RoutingState, route
from tests.factories import agreement_data, make_agreement, make_lead
from tests.scoring.conftest import routing_state, team_data

# Monday 23 November 2026 15:00 UTC: 10:00 in New York, 09:00 in Chicago.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ALICE, BOB = "alice@example.com", "bob@example.com"


def _route(
    state: RoutingState | None = None, agreement: Agreement | None = None, now: datetime = NOW, **lead: Any
) -> RoutingDecision:
    return route(make_lead(**lead), agreement or make_agreement(), state or routing_state(), now)


def _picks(count: int, agreement: Agreement, credit: dict[str, int], **state: Any) -> list[str | None]:
    """Route ``count`` leads in a row, carrying the credit forward as the caller would."""
    picks = []
    for _ in range(count):
        decision = route(make_lead(), agreement, routing_state(credit=credit, **state), NOW)
        credit = dict(decision.rr_credit)
        picks.append(decision.rep)
    return picks


def test_weighted_round_robin_over_1000_leads_follows_the_weights() -> None:
    counts = Counter(_picks(1000, make_agreement(), {}))
    assert abs(counts[ALICE] - 667) <= 1
    assert abs(counts[BOB] - 333) <= 1


def test_round_robin_is_smooth_not_bursty() -> None:
    assert _picks(6, make_agreement(), {}) == [ALICE, BOB, ALICE, ALICE, BOB, ALICE]


def test_same_state_gives_the_same_decision() -> None:
    state = routing_state(active={ALICE: 3}, credit={ALICE: -1, BOB: 1})
    assert _route(state) == _route(state)


def test_equal_credit_and_weight_goes_to_the_rep_listed_first() -> None:
    data = agreement_data()
    team_data(data, "enterprise")["reps"][0]["weight"] = 1
    assert _picks(2, load_agreement(data), {}) == [ALICE, BOB]


def test_credit_returned_is_the_new_state_to_persist() -> None:
    decision = _route(routing_state(credit={ALICE: 0, BOB: 0}))
    assert decision.rep == ALICE
    assert dict(decision.rr_credit) == {ALICE: -1, BOB: 1}


def test_rep_at_capacity_is_skipped() -> None:
    decision = _route(routing_state(active={ALICE: 30}))
    assert decision.rep == BOB
    assert skipped(decision) == ((ALICE, "at capacity (30/30)"),)


def test_rep_marked_out_of_office_is_skipped() -> None:
    decision = _route(routing_state(ooo=(ALICE,)))
    assert decision.rep == BOB
    assert skipped(decision) == ((ALICE, "out of office"),)


def test_configured_time_off_is_read_in_the_reps_time_zone() -> None:
    data = agreement_data()
    team_data(data, "enterprise")["reps"][0]["out_of_office"] = [{"from": date(2026, 11, 23), "to": date(2026, 11, 23)}]
    # 03:00 UTC on the 24th is still the evening of the 23rd in New York.
    decision = _route(agreement=load_agreement(data), now=datetime(2026, 11, 24, 3, 0, tzinfo=UTC))
    assert (ALICE, "out of office") in skipped(decision)
    assert decision.rep == BOB


def test_skipped_rep_keeps_their_credit_and_earns_none() -> None:
    decision = _route(routing_state(credit={ALICE: 5, BOB: 0}, ooo=(ALICE,)))
    assert dict(decision.rr_credit) == {ALICE: 5, BOB: 0}


def test_rep_back_from_time_off_is_not_flooded() -> None:
    agreement = make_agreement()
    credit: dict[str, int] = {}
    for _ in range(10):
        credit = dict(route(make_lead(), agreement, routing_state(credit=credit, ooo=(ALICE,)), NOW).rr_credit)
    assert Counter(_picks(3, agreement, credit)) == {ALICE: 2, BOB: 1}


def test_reps_in_working_hours_are_preferred_across_time_zones() -> None:
    at = datetime(2026, 11, 23, 22, 45, tzinfo=UTC)  # 17:45 New York (Alice closed 17:30), 16:45 Chicago
    decision = _route(routing_state(credit={ALICE: 10}), now=at)
    assert decision.rep == BOB
    assert skipped(decision) == ((ALICE, "out of working hours"),)


def test_nobody_in_working_hours_chooses_among_available_reps() -> None:
    saturday = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    decision = _route(now=saturday)
    assert decision.rep == ALICE
    assert "nobody in working hours; chose among available reps" in trace(decision)


def test_account_owner_gets_their_accounts_leads_directly() -> None:
    decision = _route(email="cfo@bigcustomer.example", country="DE")
    assert (decision.team, decision.rep, decision.mode) == ("enterprise", ALICE, "direct")
    assert matched(decision) == "account owner of bigcustomer.example"


def test_account_owner_routing_leaves_round_robin_credit_alone() -> None:
    decision = _route(routing_state(credit={ALICE: 3, BOB: -3}), email="cfo@bigcustomer.example")
    assert dict(decision.rr_credit) == {ALICE: 3, BOB: -3}


def test_unavailable_account_owner_falls_through_to_the_rules() -> None:
    decision = _route(routing_state(active={ALICE: 30}), email="cfo@bigcustomer.example", country="DE")
    assert (decision.team, decision.mode, matched(decision)) == ("emea", "channel", "rule 'Europe goes to EMEA'")
    assert skipped(decision) == ((ALICE, "at capacity (30/30)"),)
    assert any("owned by alice@example.com" in line for line in trace(decision))


def test_first_matching_rule_picks_the_team() -> None:
    decision = _route(country="DE")
    assert (decision.team, matched(decision)) == ("emea", "rule 'Europe goes to EMEA'")


def test_rule_needs_every_condition_to_match() -> None:
    data = agreement_data()
    data["routing"]["rules"][0]["when"].append({"field": "employees", "min": 1000})
    decision = _route(agreement=load_agreement(data), country="DE", employees=800)
    assert (decision.team, matched(decision)) == ("enterprise", "default team")
    assert "rule 'Europe goes to EMEA' not taken: employees is below 1,000" in trace(decision)


def test_unmatched_lead_goes_to_the_default_team() -> None:
    decision = _route(country="US")
    assert (decision.team, matched(decision), decision.mode) == ("enterprise", "default team", "direct")


def test_without_a_default_team_the_first_team_is_used() -> None:
    data = agreement_data()
    del data["routing"]["default_team"]
    data["teams"].reverse()
    decision = _route(agreement=load_agreement(data), country="US")
    assert (decision.team, matched(decision)) == ("emea", "default team")


def test_channel_team_gets_the_lead_in_its_channel_without_a_rep() -> None:
    decision = _route(routing_state(credit={ALICE: 1}), country="FR")
    assert (decision.mode, decision.rep) == ("channel", None)
    assert dict(decision.rr_credit) == {ALICE: 1}


def test_reps_who_already_had_the_lead_are_excluded() -> None:
    decision = _route(routing_state(exclude=(ALICE,)))
    assert decision.rep == BOB
    assert skipped(decision) == ((ALICE, "already had this lead"),)


def test_nobody_eligible_and_no_channel_leaves_the_lead_unassigned() -> None:
    decision = _route(routing_state(active={ALICE: 30}, exclude=(BOB,)))
    assert (decision.team, decision.rep, decision.mode) == ("enterprise", None, "none")
    assert trace(decision)[-1] == "nobody in team 'enterprise' can take the lead; it stays unassigned"


def test_nobody_eligible_falls_back_to_the_team_channel() -> None:
    data = agreement_data()
    team_data(data, "enterprise")["channel"] = {"slack": "C0ENTERPRISE"}
    decision = _route(routing_state(ooo=(ALICE, BOB)), agreement=load_agreement(data))
    assert (decision.rep, decision.mode) == (None, "channel")
    assert skipped(decision) == ((ALICE, "out of office"), (BOB, "out of office"))


def test_trace_explains_each_step_in_order() -> None:
    decision = _route(routing_state(active={ALICE: 30}), country="US")
    assert trace(decision) == (
        "rule 'Europe goes to EMEA' not taken: country is none of GB, DE, FR, NL, ES, IT",
        "no routing rule matched; default team 'enterprise'",
        "skipped alice@example.com: at capacity (30/30)",
        "round-robin among bob@example.com (weights 1) chose bob@example.com",
    )


@pytest.mark.parametrize(
    "when, lead, why",
    [
        ({"field": "country", "in": ["DE"]}, {"country": "US"}, "country is not DE"),
        ({"field": "country", "in": ["DE"]}, {"country": None}, "country is not given"),
        ({"field": "title", "match": "^VP"}, {"title": "CTO"}, "title does not match /^VP/"),
        ({"field": "employees", "below": 50}, {"employees": 80}, "employees is 50 or more"),
        ({"field": "employees", "min": 10, "below": 50}, {"employees": 80}, "employees is not from 10 to below 50"),
    ],
)
def test_a_rule_not_taken_says_why_in_words(when: dict[str, object], lead: dict[str, object], why: str) -> None:
    # Issue 14: "did not match (country is one of DE)" read as if the country were DE.
    data = agreement_data()
    data["routing"]["rules"][0]["when"] = [when]
    decision = _route(agreement=load_agreement(data), **lead)
    assert f"rule 'Europe goes to EMEA' not taken: {why}" in trace(decision)


def trace(decision: RoutingDecision) -> tuple[str, ...]:
    return tuple(step_text(step) for step in decision.trace)


def matched(decision: RoutingDecision) -> str:
    return matched_text(decision.matched)


def skipped(decision: RoutingDecision) -> tuple[tuple[str, str], ...]:
    return tuple((s.email, why_text(s.reason)) for s in decision.skipped)
