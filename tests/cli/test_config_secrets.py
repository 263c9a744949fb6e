"""``baton config check`` names every secret the agreement needs that the environment lacks."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from tests.factories import EXAMPLE_CONFIG

SOURCE = """
[[sources]]
name = "hubspot"
preset = "hubspot"
auth = { kind = "hubspot", secret_env = "BATON_SOURCE_HUBSPOT_SECRET" }
"""

CRM = """
[[crm_actions]]
name = "hubspot-owner"
preset = "hubspot"
"""


def check(tmp_path: Path, extra: str, env: dict[str, str]) -> str:
    config = tmp_path / "baton.toml"
    config.write_text(EXAMPLE_CONFIG.read_text() + extra)
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(config)], env={"BATON_CONFIG": "", **env})
    assert result.exit_code == 0, result.output
    return result.stderr


def test_a_source_whose_secret_is_unset_is_warned_about_by_name(tmp_path: Path) -> None:
    warnings = check(tmp_path, SOURCE, {"BATON_SOURCE_HUBSPOT_SECRET": ""})
    assert "source 'hubspot': BATON_SOURCE_HUBSPOT_SECRET is not set" in warnings
    assert "503" in warnings


def test_a_source_whose_secret_is_set_is_not_warned_about(tmp_path: Path) -> None:
    warnings = check(tmp_path, SOURCE, {"BATON_SOURCE_HUBSPOT_SECRET": "fake-hubspot-secret"})
    assert "BATON_SOURCE_HUBSPOT_SECRET" not in warnings


def test_a_crm_action_whose_token_is_unset_is_warned_about_by_name(tmp_path: Path) -> None:
    warnings = check(tmp_path, CRM, {"BATON_CRM_HUBSPOT_TOKEN": ""})
    assert "BATON_CRM_HUBSPOT_TOKEN" in warnings and "hubspot-owner" in warnings
