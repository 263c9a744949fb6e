"""``baton config check`` warns about reps no configured chat platform reaches."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.factories import EXAMPLE_CONFIG

SLACK = {"SLACK_BOT_TOKEN": "xoxb-not-secret", "SLACK_SIGNING_SECRET": "not-secret", "BATON_CONFIG": ""}


@pytest.fixture
def without_bobs_slack_id(tmp_path: Path) -> Path:
    path = tmp_path / "baton.toml"
    path.write_text(EXAMPLE_CONFIG.read_text().replace('slack_id = "U0BOB00001"\n', ""))
    return path


def check(config: Path, env: dict[str, str]) -> str:
    result = CliRunner().invoke(
        cli,
        ["config", "check", "--config", str(config)],
        env={"SLACK_APP_TOKEN": "", "BATON_TEAMS": "", "MICROSOFT_APP_ID": "", **env},
    )
    assert result.exit_code == 0, result.output  # a warning, not an invalid configuration
    return result.output


def test_a_rep_without_a_chat_identity_is_named(without_bobs_slack_id: Path) -> None:
    output = check(without_bobs_slack_id, SLACK)
    assert (
        "warning: teams[0].reps[1] bob@example.com: reachable on no enabled chat platform (no slack_id); "
        "routing gives this rep no leads"
    ) in output
    assert "alice@example.com" not in output


def test_a_slack_id_without_slack_configured_is_unreachable(tmp_path: Path) -> None:
    output = check(EXAMPLE_CONFIG, {"BATON_TEAMS": "1", "BATON_CONFIG": ""})
    assert (
        "warning: teams[0].reps[0] alice@example.com: reachable on no enabled chat platform "
        "(has a slack_id but Slack is not configured; no teams_id"
    ) in output
    assert "warning: teams[0] enterprise: no rep is reachable; its leads go to" in output
    assert "once they install the Baton app" in output


def test_no_warning_when_every_rep_is_reachable() -> None:
    assert "warning" not in check(EXAMPLE_CONFIG, SLACK)


def test_no_chat_platform_at_all_is_one_warning() -> None:
    output = check(EXAMPLE_CONFIG, {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "BATON_CONFIG": ""})
    assert output.count("warning:") == 1 and "no chat platform is configured" in output
