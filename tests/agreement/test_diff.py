"""``baton config diff``: each kind of change in words, not TOML lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from handlers.agreement.changes import SENTENCES, changes_text
from scoring.agreement_diff import diff
from tests.factories import EXAMPLE_CONFIG, agreement_data, make_agreement

Edit = Callable[[dict[str, Any]], None]


def _rule(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in data["scoring"]["explicit"] if r["name"] == name)


def _rep(data: dict[str, Any], email: str) -> dict[str, Any]:
    return next(r for t in data["teams"] for r in t["reps"] if r["email"] == email)


def _policy(data: dict[str, Any]) -> dict[str, Any]:
    return data["sla"]["policies"]["standard"]


CASES: list[tuple[str, Edit, str]] = [
    ("version", lambda d: d["definition"].update(version="2027.1"), "Version: 2026.4 → 2027.1."),
    ("threshold", lambda d: d["qualification"].update(threshold=60), "MQL threshold: 50 → 60 points."),
    (
        "required field",
        lambda d: d["qualification"]["required_fields"].append("phone"),
        "Required field added: phone.",
    ),
    (
        "disqualifier removed",
        lambda d: d["qualification"]["disqualifiers"].pop(),
        "Disqualifier removed: Personal email address.",
    ),
    (
        "rule points",
        lambda d: _rule(d, "Senior title").update(points=25),
        'Scoring rule "Senior title": +20 → +25 points.',
    ),
    (
        "rule condition",
        lambda d: _rule(d, "Mid-market or larger").update(min=1000),
        'Scoring rule "Mid-market or larger" now applies when employees at least 1,000 (was: employees at least 500).',
    ),
    (
        "rule added",
        lambda d: d["scoring"]["explicit"].append(
            {"name": "Fintech", "field": "industry", "in": ["fintech"], "points": 5}
        ),
        'New scoring rule "Fintech": +5 points when industry is one of fintech.',
    ),
    (
        "event points",
        lambda d: d["scoring"]["implicit"]["events"]["webinar_attended"].update(points=20),
        'Behaviour "Attended a webinar": +15 → +20 points.',
    ),
    (
        "half-life",
        lambda d: d["scoring"]["implicit"].update(half_life="14d"),
        "Behaviour points half-life: 30d → 2w.",
    ),
    (
        "fast track",
        lambda d: d["scoring"]["implicit"]["fast_track"].append("pricing_page_viewed"),
        "Fast track added: pricing_page_viewed goes straight to sales.",
    ),
    (
        "sla steps",
        lambda d: _policy(d)["accept"].pop(0),
        'SLA "standard", accept steps: nudge after 15m, escalate after 30m, reassign after 1h → '
        "escalate after 30m, reassign after 1h.",
    ),
    (
        "reason label",
        lambda d: d["rejection_reasons"][0].update(label="Could not reach them"),
        'Rejection reason renamed: "Unable to reach (after the agreed attempts)" → "Could not reach them".',
    ),
    (
        "reason outcome",
        lambda d: d["rejection_reasons"][2].update(outcome="disqualify"),
        'Rejection reason "No interest or need": recycle → disqualify.',
    ),
    (
        "rep capacity",
        lambda d: _rep(d, "bob@example.com").update(capacity=10),
        "Rep Bob Example: capacity 20 → 10 open leads.",
    ),
    (
        "rep removed",
        lambda d: d["teams"][0]["reps"].pop(),
        "Rep Bob Example (bob@example.com) left team enterprise.",
    ),
    (
        "manager added",
        lambda d: d["teams"][1]["managers"].append({"name": "Nia New", "email": "nia@example.com"}),
        "New manager Nia New for team emea.",
    ),
    (
        "reviewer removed",
        lambda d: d["definition"]["reviewers"].pop(),
        "Reviewer removed: mark.marketer@example.com.",
    ),
]


@pytest.mark.parametrize(("edit", "expected"), [(e, x) for _, e, x in CASES], ids=[c[0] for c in CASES])
def test_each_kind_of_change_is_said_in_words(edit: Edit, expected: str | None) -> None:
    old = make_agreement()
    data = agreement_data()
    edit(data)
    changes = diff(old, make_agreement(**data))
    assert len(changes) == 1, changes
    text = changes_text(changes)[0]
    if expected is not None:
        assert text == expected
    assert "{" not in text and "=" not in text  # words, not TOML


def test_no_change_says_so() -> None:
    assert changes_text(diff(make_agreement(), make_agreement())) == ["No change to the agreement."]


def test_many_changes_at_once_are_each_said_once() -> None:
    data = agreement_data()
    for _, edit, _ in CASES:
        edit(data)
    changes = diff(make_agreement(), make_agreement(**data))
    assert all(c.kind in SENTENCES for c in changes)
    # Bob's new capacity goes with Bob, who is removed: one sentence fewer than edits.
    assert len(changes_text(changes)) == len(changes) == len(CASES) - 1
    assert "Rep Bob Example (bob@example.com) left team enterprise." in changes_text(changes)


def test_the_command_prints_the_changes_and_reports_a_bad_file_by_path(tmp_path: Path) -> None:
    new = tmp_path / "new.toml"
    new.write_text(EXAMPLE_CONFIG.read_text().replace("threshold = 50", "threshold = 45", 1))
    result = CliRunner().invoke(cli, ["config", "diff", str(EXAMPLE_CONFIG), str(new)])
    assert result.exit_code == 0 and result.output == "MQL threshold: 50 → 45 points.\n"
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE_CONFIG.read_text().replace("threshold = 50", "threshold = []", 1))
    result = CliRunner().invoke(cli, ["config", "diff", str(EXAMPLE_CONFIG), str(bad)])
    assert result.exit_code == 2 and "qualification.threshold" in result.output
