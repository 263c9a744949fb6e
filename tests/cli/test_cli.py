"""The baton command: config check names every problem; import does the intake API's work from CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from handlers.intake import leads as intake
from tests.factories import EXAMPLE_CONFIG


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_config_check_accepts_the_example(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["config", "check", "--config", str(EXAMPLE_CONFIG)], env={"BATON_CONFIG": ""})
    assert result.exit_code == 0 and "OK" in result.output and "2 teams, 4 reps" in result.output


def test_config_check_lists_every_problem_by_path(runner: CliRunner, tmp_path: Path) -> None:
    text = EXAMPLE_CONFIG.read_text()
    text = text.replace('email = "clara@example.com"', 'email = "clara-at-example"')
    text = text.replace('{ after = "30m", action = "escalate" }', '{ after = "0m", action = "escalate" }', 1)
    text = text.replace('timezone = "Europe/London"', 'timezone = "Europe/Atlantis"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    result = runner.invoke(cli, ["config", "check", "--config", str(bad)])
    assert result.exit_code == 2
    assert "teams[1].reps[0].email: not an email address" in result.output
    assert "teams[1].reps[1].timezone: unknown timezone 'Europe/Atlantis'" in result.output
    assert "sla.policies.standard.accept[1].after: '0m' must be greater than zero" in result.output


def test_config_check_reports_toml_syntax_errors(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[definition\nversion = 1")
    result = runner.invoke(cli, ["config", "check", "--config", str(bad)])
    assert result.exit_code == 2 and "not valid TOML" in result.output


def test_a_missing_config_file_is_named(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["config", "check", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and "file not found" in result.output


CSV = """Lead ID,Email Address,First Name,Last Name,Job Title,Company,Employees,Industry,Country,Lead Source
crm-1,pat@acme.example,Pat,Lee,VP Sales,Acme,900,software,US,webinar
crm-2,sam@tiny.example,Sam,Roe,Founder,Tiny,12,software,US,ebook
"""


@pytest.mark.usefixtures("db")  # a clean database on PostgreSQL too
def test_import_scores_and_offers_leads_from_csv(runner: CliRunner, tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(CSV)
    result = runner.invoke(
        cli, ["import", "--config", str(EXAMPLE_CONFIG), str(path)], env={"BATON_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    assert "Imported 2 leads: 2 created, 1 not qualified, 1 offered" in result.output


@pytest.mark.usefixtures("db")
def test_import_with_a_bad_row_names_the_line_and_imports_nothing(
    runner: CliRunner, tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(CSV + "crm-3,not-an-email,Al,Bo,CEO,X,500,software,US,ads\n")
    result = runner.invoke(
        cli, ["import", "--config", str(EXAMPLE_CONFIG), str(path)], env={"BATON_DATABASE_URL": database_url}
    )
    assert result.exit_code == 1
    assert "line 4: email: not an email address" in result.output and "nothing was imported" in result.output


@pytest.mark.usefixtures("db")
def test_import_goes_on_past_a_lead_it_cannot_store_and_says_which(
    runner: CliRunner, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_route = intake.route

    def route(lead: Any, *args: Any) -> Any:
        if lead.email == "pat@acme.example":
            raise RuntimeError("routing bug")
        return real_route(lead, *args)

    monkeypatch.setattr(intake, "route", route)
    path = tmp_path / "leads.csv"
    path.write_text(CSV + "crm-3,kim@big.example,Kim,Ng,VP Sales,Big,900,software,US,webinar\n")
    result = runner.invoke(
        cli, ["import", "--config", str(EXAMPLE_CONFIG), str(path)], env={"BATON_DATABASE_URL": database_url}
    )
    assert result.exit_code == 1
    assert "Imported 3 leads: 2 created, 1 failed, 1 not qualified, 1 offered" in result.output
    assert "not stored (error logged): line 2: crm-1" in result.output


def test_config_check_counts_in_proper_plurals_and_names_a_named_version(runner: CliRunner, tmp_path: Path) -> None:
    # Issue 14: "1 SLA policies" and "definition vacc-7".
    text = EXAMPLE_CONFIG.read_text()
    hot = text.index("[sla.policies.hot]")
    text = text[:hot] + text[text.index("[commitment]") :]
    text = text.replace('fast_track_sla = "hot"\n', "").replace('version = "2026.4"', 'version = "acc-7"', 1)
    one = tmp_path / "one.toml"
    one.write_text(text)
    result = runner.invoke(cli, ["config", "check", "--config", str(one)], env={"BATON_CONFIG": ""})
    assert result.exit_code == 0, result.output
    assert "1 SLA policy" in result.output and "SLA policies" not in result.output
    assert "(definition version acc-7;" in result.output
