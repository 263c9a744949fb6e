"""Agreement validation: every problem is reported by its path, in words a person can act on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scoring.agreement import Stage
from scoring.agreement_check import AgreementError, load_agreement
from tests.factories import EXAMPLE_CONFIG, agreement_data, make_agreement

Edit = Callable[[dict[str, Any]], object]


def _problems(edit: Edit) -> list[str]:
    data = agreement_data()
    edit(data)
    with pytest.raises(AgreementError) as caught:
        load_agreement(data)
    return caught.value.problems


def _accept_steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = data["sla"]["policies"]["standard"]["accept"]
    return steps


def test_example_config_loads() -> None:
    agreement = make_agreement()
    assert EXAMPLE_CONFIG.name == "baton.example.toml"
    assert [t.name for t in agreement.teams] == ["enterprise", "emea"]
    assert agreement.qualification.threshold == 50
    assert agreement.stages.text[Stage.MQL].label == "MQL"


def test_bad_email_is_reported_by_its_path() -> None:
    problems = _problems(lambda d: d["teams"][1]["reps"][0].update(email="clara-at-example"))
    assert problems == ["teams[1].reps[0].email: not an email address: it must have an @-sign"]


def test_unknown_timezone_is_reported() -> None:
    problems = _problems(lambda d: d["teams"][0]["reps"][0].update(timezone="Mars/Olympus"))
    assert problems == [
        "teams[0].reps[0].timezone: unknown timezone 'Mars/Olympus' (use an IANA name like Europe/Berlin)"
    ]


def test_sla_steps_out_of_order_are_reported() -> None:
    problems = _problems(lambda d: _accept_steps(d).reverse())
    assert problems == ["sla.policies.standard.accept: steps must be in increasing order of `after`"]


def test_zero_delay_is_refused() -> None:
    problems = _problems(lambda d: _accept_steps(d)[0].update(after="0m"))
    assert problems == ["sla.policies.standard.accept[0].after: '0m' must be greater than zero"]


def test_negative_delay_is_refused() -> None:
    problems = _problems(lambda d: _accept_steps(d)[0].update(after="-5m"))
    assert problems == [
        "sla.policies.standard.accept[0].after: '-5m' is not a duration; write it like 30s, 15m, 4h or 2d"
    ]


def test_unknown_sla_action_is_reported() -> None:
    problems = _problems(lambda d: _accept_steps(d)[0].update(action="page"))
    assert problems == ["sla.policies.standard.accept[0].action: Input should be 'nudge', 'escalate' or 'reassign'"]


def test_unknown_setting_is_reported() -> None:
    problems = _problems(lambda d: d["teams"][0].update(colour="blue"))
    assert problems == ["teams[0].colour: unknown setting"]


def test_routing_rule_to_an_unknown_team_is_reported() -> None:
    problems = _problems(lambda d: d["routing"]["rules"][0].update(team="apac"))
    assert problems == ["routing.rules[0].team: no team named 'apac'"]


def test_rep_manager_must_manage_the_reps_team() -> None:
    problems = _problems(lambda d: d["teams"][0]["reps"][0].update(manager="mia.manager@example.com"))
    assert problems == ["teams[0].reps[0].manager: mia.manager@example.com is not one of this team's managers"]


def test_channel_handoff_needs_a_channel() -> None:
    problems = _problems(lambda d: d["teams"][1].pop("channel"))
    assert problems == ['teams[1]: handoff = "channel" needs a `channel`']


def test_bad_regular_expression_is_reported() -> None:
    problems = _problems(lambda d: d["scoring"]["explicit"][1].update(match="(vp"))
    assert len(problems) == 1
    assert problems[0].startswith("scoring.explicit[1].match: not a valid regular expression: ")


def test_every_problem_is_reported_at_once() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["teams"][0]["reps"][1].update(email="bob")
        data["teams"][1].update(colour="blue")

    assert _problems(edit) == [
        "teams[0].reps[1].email: not an email address: it must have an @-sign",
        "teams[1].colour: unknown setting",
    ]


def test_a_refused_test_domain_says_why() -> None:
    # Issue 14: "clara@team.test" was refused as "not an email address", with no reason.
    problems = _problems(lambda d: d["teams"][1]["reps"][0].update(email="clara@team.test"))
    (problem,) = problems
    assert problem.startswith("teams[1].reps[0].email: not an email address: ")
    assert "special-use or reserved name" in problem
