"""Who a configured chat platform reaches, and routing around those it does not."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.text.reach import unreachable_text
from handlers.text.routing import step_text
from scoring.agreement import Person
from scoring.reach import Gap, PlatformGap, Unreachable, unreachable_reason, unreachable_reps
from scoring.route import RoutingDecision, RoutingState, route
from tests.factories import agreement_data, make_agreement, make_lead
from tests.scoring.conftest import team_data

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # everyone at work
ALICE, BOB = "alice@example.com", "bob@example.com"
SLACK_ONLY = Person(name="Sam", email="sam@example.com", slack_id="U0SAM")
TEAMS_ONLY = Person(name="Tess", email="tess@example.com", teams_id="29:aad-tess")
EMAIL_ONLY = Person(name="Eve", email="Eve@example.com")


def test_slack_reaches_a_slack_id_only_when_slack_is_configured() -> None:
    assert unreachable_reason(SLACK_ONLY, {"slack"}) is None
    assert words(unreachable_reason(SLACK_ONLY, {"teams"})) == (
        "reachable on no enabled chat platform (has a slack_id but Slack is not configured; "
        "no teams_id, and no Teams conversation with Baton: they have not installed the app)"
    )


def test_teams_reaches_a_teams_id_or_someone_who_installed_the_app() -> None:
    assert unreachable_reason(TEAMS_ONLY, {"teams"}) is None
    assert unreachable_reason(EMAIL_ONLY, {"teams"}, teams_installed={"eve@example.com"}) is None
    assert unreachable_reason(EMAIL_ONLY, {"teams"}) is not None
    assert words(unreachable_reason(TEAMS_ONLY, {"slack"})) == (
        "reachable on no enabled chat platform (no slack_id; has a teams_id but Teams is not enabled)"
    )


def test_a_person_with_no_chat_identity_is_unreachable_everywhere() -> None:
    assert unreachable_reason(EMAIL_ONLY, {"slack", "teams"}) is not None
    assert words(unreachable_reason(EMAIL_ONLY, {"slack"})) == "reachable on no enabled chat platform (no slack_id)"


def _without_slack_id(email: str) -> dict[str, object]:
    data = agreement_data()
    for rep in team_data(data, "enterprise")["reps"]:
        if rep["email"] == email:
            rep.pop("slack_id")
    return data


def test_routing_gives_an_unreachable_rep_no_leads_and_says_why() -> None:
    agreement = make_agreement(teams=_without_slack_id(BOB)["teams"])
    unreachable = unreachable_reps(agreement, {"slack"})
    assert {email: unreachable_text(why) for email, why in unreachable.items()} == {
        BOB: "reachable on no enabled chat platform (no slack_id)"
    }
    state = RoutingState(active={}, rr_credit={}, unreachable=unreachable)
    credit: dict[str, int] = {}
    for _ in range(6):
        decision = route(
            make_lead(), agreement, RoutingState(active={}, rr_credit=credit, unreachable=unreachable), NOW
        )
        credit = dict(decision.rr_credit)
        assert decision.rep == ALICE
    decision = route(make_lead(), agreement, state, NOW)
    assert [(s.email, s.reason.values["unreachable"]) for s in decision.skipped] == [(BOB, unreachable[BOB].as_json())]
    assert f"skipped {BOB}: reachable on no enabled chat platform (no slack_id)" in trace_text(decision)


def test_an_unreachable_account_owner_is_routed_around() -> None:
    state = RoutingState(active={}, rr_credit={}, unreachable={ALICE: NO_SLACK_ID})
    decision = route(make_lead(email="cfo@bigcustomer.example"), make_agreement(), state, NOW)
    assert decision.rep == BOB
    assert any(
        "owned by alice@example.com, who is reachable on no enabled chat platform" in t for t in trace_text(decision)
    )


def test_when_no_rep_of_a_team_is_reachable_the_lead_goes_to_nobody_in_particular() -> None:
    state = RoutingState(active={}, rr_credit={}, unreachable={ALICE: NO_SLACK_ID, BOB: NO_SLACK_ID})
    decision = route(make_lead(), make_agreement(), state, NOW)
    assert (decision.rep, decision.mode) == (None, "none")  # the offer falls back (handlers.handoff.offer)


def words(found: Unreachable | None) -> str | None:
    return unreachable_text(found) if found is not None else None


NO_SLACK_ID = Unreachable((PlatformGap(Gap.NO_ID, "slack", "Slack"),))


def trace_text(decision: RoutingDecision) -> list[str]:
    return [step_text(step) for step in decision.trace]
