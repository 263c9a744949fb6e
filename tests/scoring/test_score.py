"""Scoring and qualification against the example agreement (baton.example.toml)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.text.score import detail_text, not_qualified_reasons
from scoring.agreement import Agreement, Stage
from scoring.agreement_check import load_agreement
from scoring.score import ScoreLine, ScoreResult, score
from tests.factories import agreement_data, make_activity, make_agreement, make_lead

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
# A lead that earns no explicit points and trips no disqualifier.
PLAIN: dict[str, Any] = {"title": "Engineer", "industry": "retail", "country": "BR", "employees": 150}


def _score(
    agreement: Agreement | None = None, activities: tuple[tuple[str, timedelta], ...] = (), **fields: object
) -> ScoreResult:
    acts = [make_activity(kind, NOW - age) for kind, age in activities]
    return score(make_lead(**fields), acts, agreement or make_agreement(), NOW)


def _line(result: ScoreResult, rule: str) -> ScoreLine:
    return next(line for line in result.lines if line.rule == rule)


def _rules(result: ScoreResult) -> list[str]:
    return [line.rule for line in result.lines]


def _with(section: str, **changes: object) -> Agreement:
    data = agreement_data()
    data[section].update(changes)
    return load_agreement(data)


def test_set_condition_adds_its_points_case_insensitively() -> None:
    result = _score(**{**PLAIN, "industry": "SaaS"})
    assert _worded(_line(result, "Target industry")) == (
        "Target industry",
        "explicit",
        15,
        "industry is one of software, saas, fintech",
    )


def test_range_condition_includes_its_lower_bound() -> None:
    assert "Mid-market or larger" in _rules(_score(**{**PLAIN, "employees": 500}))
    assert "Mid-market or larger" not in _rules(_score(**{**PLAIN, "employees": 499}))


def test_regex_condition_matches_within_the_title() -> None:
    result = _score(**{**PLAIN, "title": "Director of Revenue Operations"})
    line = _line(result, "Senior title")
    assert line.points == 20
    assert detail_text(line.detail).startswith("title matches /")


def test_only_rules_that_fired_get_a_line() -> None:
    assert _score(**PLAIN).lines == ()


def test_negative_explicit_points_lower_the_score() -> None:
    result = _score(**{**PLAIN, "title": "Marketing Intern"})
    assert _line(result, "Student or intern").points == -30
    assert result.explicit == -30


def test_matching_lead_adds_every_fired_rule() -> None:
    result = _score()  # VP Sales, software, 800 employees, US
    assert _rules(result) == ["Target industry", "Senior title", "Mid-market or larger", "Core region"]
    assert result.explicit == 55


def test_implicit_event_adds_its_points_under_its_label() -> None:
    result = _score(activities=(("pricing_page_viewed", timedelta(0)),), **PLAIN)
    assert _worded(_line(result, "Viewed the pricing page")) == (
        "Viewed the pricing page",
        "implicit",
        10,
        "1 event at +10 points",
    )


def test_points_halve_every_half_life() -> None:
    result = _score(activities=(("ebook_downloaded", timedelta(days=60)),), **PLAIN)
    line = _line(result, "Downloaded an e-book")
    assert line.points == 3  # 10 * 0.25 = 2.5, rounded half away from zero
    assert detail_text(line.detail) == "1 event at +10 points, decayed (half-life 30d)"


def test_decay_rounds_the_sum_not_each_event() -> None:
    # 2 * 15 * 0.5 = 15 exactly; per-event rounding of 7.5 would give 16.
    result = _score(activities=(("webinar_attended", timedelta(days=30)),) * 2, **PLAIN)
    assert _line(result, "Attended a webinar").points == 15


def test_without_half_life_old_events_count_in_full() -> None:
    data = agreement_data()
    del data["scoring"]["implicit"]["half_life"]
    result = _score(load_agreement(data), activities=(("ebook_downloaded", timedelta(days=365)),), **PLAIN)
    assert _line(result, "Downloaded an e-book").points == 10


def test_future_dated_activity_counts_as_happening_now() -> None:
    result = _score(activities=(("ebook_downloaded", -timedelta(days=3)),), **PLAIN)
    assert _line(result, "Downloaded an e-book").points == 10


def test_cap_limits_points_per_event_type() -> None:
    result = _score(activities=(("webinar_attended", timedelta(0)),) * 3, **PLAIN)
    line = _line(result, "Attended a webinar")
    assert line.points == 30
    assert detail_text(line.detail) == "3 events at +15 points, capped at 30"


def test_careers_page_visits_subtract_points() -> None:
    result = _score(activities=(("careers_page_viewed", timedelta(0)),) * 2, **PLAIN)
    assert _line(result, "Viewed the careers page (job seeker signal)").points == -30
    assert result.implicit == -30


def test_cap_bounds_the_magnitude_of_negative_behaviour() -> None:
    data = agreement_data()
    data["scoring"]["implicit"]["events"]["careers_page_viewed"]["cap"] = 20
    result = _score(load_agreement(data), activities=(("careers_page_viewed", timedelta(0)),) * 3, **PLAIN)
    line = _line(result, "Viewed the careers page (job seeker signal)")
    assert (line.points, detail_text(line.detail)) == (-20, "3 events at -15 points, capped at -20")


def test_unknown_event_types_are_ignored() -> None:
    result = _score(activities=(("podcast_listened", timedelta(0)),), **PLAIN)
    assert result.lines == ()
    assert result.total == 0


def test_fast_track_event_makes_an_mql_below_the_threshold() -> None:
    result = _score(activities=(("demo_request", timedelta(0)),), **PLAIN)
    assert result.total == 30 < result.threshold
    assert result.fast_track
    assert result.fast_track_events == ("Requested a demo",)
    assert result.stage is Stage.MQL


def test_fast_track_does_not_override_a_disqualifier() -> None:
    result = _score(activities=(("free_trial", timedelta(0)),), **{**PLAIN, "employees": 20})
    assert result.fast_track
    assert result.stage is Stage.DISQUALIFIED


def test_disqualifier_wins_over_a_high_score() -> None:
    result = _score(activities=(("webinar_attended", timedelta(0)),), employees=50)
    assert result.total >= result.threshold
    assert result.stage is Stage.DISQUALIFIED
    assert result.disqualifiers == ("Company under 100 employees",)
    assert not_qualified_reasons(result) == ["Company under 100 employees"]


def test_personal_email_is_disqualified() -> None:
    result = _score(email="pat@gmail.com")
    assert result.disqualifiers == ("Personal email address",)


def test_missing_required_fields_keep_the_lead_captured() -> None:
    result = _score(country=None, title=None)
    assert result.missing_fields == ("country", "title")
    assert result.stage is Stage.CAPTURED
    assert "missing required fields: country, title" in not_qualified_reasons(result)


def test_empty_custom_required_field_counts_as_missing() -> None:
    agreement = _with("qualification", required_fields=["email", "budget"])
    result = score(make_lead(custom={"budget": ""}), [], agreement, NOW)
    assert result.missing_fields == ("budget",)


def test_score_equal_to_threshold_qualifies() -> None:
    result = _score(_with("qualification", threshold=55))
    assert result.total == 55
    assert result.qualified


def test_score_one_below_threshold_does_not_qualify() -> None:
    result = _score(_with("qualification", threshold=56))
    assert result.stage is Stage.CAPTURED
    assert not_qualified_reasons(result) == ["score 55 is below the threshold of 56"]


def test_qualified_lead_has_no_reasons_against() -> None:
    result = _score()
    assert result.stage is Stage.MQL
    assert not_qualified_reasons(result) == []


def test_totals_are_the_sums_of_the_lines() -> None:
    result = _score(
        activities=(
            ("webinar_attended", timedelta(days=10)),
            ("blog_visit", timedelta(days=1)),
            ("careers_page_viewed", timedelta(days=45)),
        ),
        title="Marketing Intern",
    )
    assert result.explicit == sum(line.points for line in result.lines if line.kind == "explicit")
    assert result.implicit == sum(line.points for line in result.lines if line.kind == "implicit")
    assert result.total == result.explicit + result.implicit == sum(line.points for line in result.lines)


def test_explanation_lists_explicit_lines_then_implicit_lines_in_config_order() -> None:
    result = _score(activities=(("pricing_page_viewed", timedelta(0)), ("webinar_attended", timedelta(0))))
    assert [(line.kind, line.rule, line.points) for line in result.lines] == [
        ("explicit", "Target industry", 15),
        ("explicit", "Senior title", 20),
        ("explicit", "Mid-market or larger", 10),
        ("explicit", "Core region", 10),
        ("implicit", "Attended a webinar", 15),
        ("implicit", "Viewed the pricing page", 10),
    ]


def _worded(line: ScoreLine) -> tuple[str, str, int, str]:
    return (line.rule, line.kind, line.points, detail_text(line.detail))
