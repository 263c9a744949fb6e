"""Settings from the environment (pydantic-settings): the same names, defaults and precise errors."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.settings import DEFAULT_CONFIG, ConfigError, Settings, env_name, load_settings

ROOT = Path(__file__).resolve().parents[2]
# Every variable Baton has ever been configured with; renaming one breaks deployments silently.
ENV_NAMES = {
    "BATON_CONFIG",
    "BATON_WELCOME",
    "BATON_DATABASE_URL",
    "BATON_HOST",
    "BATON_PORT",
    "BATON_INTAKE_TOKEN",
    "BATON_INTAKE_HMAC_SECRET",
    "BATON_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "MICROSOFT_APP_ID",
    "MICROSOFT_APP_PASSWORD",
    "MICROSOFT_APP_TYPE",
    "MICROSOFT_APP_TENANT_ID",
    "BATON_TEAMS",
    "BATON_TEAMS_ALLOWED_TENANTS",
    "BATON_TEAMS_DEVELOPER_NAME",
    "BATON_TEAMS_WEBSITE_URL",
    "BATON_TEAMS_PRIVACY_URL",
    "BATON_TEAMS_TERMS_URL",
    "BATON_LOG_FORMAT",
    "BATON_LOG_LEVEL",
    "BATON_OUTBOX_INTERVAL",
    "BATON_TIMER_INTERVAL",
    "BATON_TIMER_BATCH",
    "BATON_INTAKE_BATCH",
    "BATON_SHUTDOWN_GRACE",
    "BATON_PLATFORM_CHECK_INTERVAL",
    "BATON_CATCH_UP_GRACE",
    "BATON_OUTBOX_LEASE",
    "BATON_OUTBOX_MAX_BACKOFF",
    "BATON_OUTBOX_MAX_AGE",
    "BATON_OUTBOX_CONCURRENCY",
    "BATON_PACE_SLACK_CHANNEL",
    "BATON_PACE_SLACK_WORKSPACE",
    "BATON_PACE_SLACK_UPDATE",
    "BATON_PACE_TEAMS_CONVERSATION",
    "BATON_PACE_TEAMS_TENANT",
    "BATON_IDEMPOTENCY_HOURS",
    "BATON_TRUSTED_PROXY_HEADER",
}


def test_every_setting_keeps_its_environment_name() -> None:
    assert {env_name(field) for field in Settings.model_fields} == ENV_NAMES


def test_the_readme_documents_every_environment_variable() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in sorted(ENV_NAMES) if not re.search(rf"`{name}(`|=)", readme)]
    assert missing == []


def test_each_variable_sets_its_setting() -> None:
    settings = load_settings(
        environ={
            "BATON_PORT": "8080",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "BATON_OUTBOX_MAX_AGE": "12h",
            "MICROSOFT_APP_TYPE": "SingleTenant",
            "BATON_LOG_FORMAT": "json",
        }
    )
    assert (settings.port, settings.slack_bot_token, settings.outbox_max_age) == (8080, "xoxb-1", 12 * 3600)
    assert (settings.microsoft_app_type, settings.log_format) == ("SingleTenant", "json")


def test_nothing_set_gives_the_defaults() -> None:
    settings = load_settings(environ={})
    assert settings == Settings.model_validate({"config_path": DEFAULT_CONFIG})
    assert (settings.port, settings.host, settings.teams_enabled) == (3978, "127.0.0.1", False)


def test_an_empty_variable_counts_as_unset() -> None:
    settings = load_settings(environ={"BATON_PORT": "", "SLACK_BOT_TOKEN": "", "BATON_CONFIG": ""})
    assert (settings.port, settings.slack_bot_token, settings.config_path) == (3978, None, Path(DEFAULT_CONFIG))


def test_variable_names_are_case_sensitive() -> None:
    assert load_settings(environ={"baton_port": "8080"}).port == 3978


def test_the_config_file_comes_from_the_option_then_the_environment() -> None:
    assert load_settings(environ={"BATON_CONFIG": "env.toml"}).config_path == Path("env.toml")
    assert load_settings("option.toml", {"BATON_CONFIG": "env.toml"}).config_path == Path("option.toml")


def test_a_command_line_override_wins_over_the_environment() -> None:
    settings = load_settings(environ={"BATON_PORT": "8080", "BATON_LOG_FORMAT": "json"}, port=9090, log_format=None)
    assert (settings.port, settings.log_format) == (9090, "json")


def test_an_app_id_enables_teams_unless_baton_teams_says_otherwise() -> None:
    assert load_settings(environ={"MICROSOFT_APP_ID": "app"}).teams_enabled is True
    assert load_settings(environ={"MICROSOFT_APP_ID": "app", "BATON_TEAMS": "0"}).teams_enabled is False


def test_allowed_tenants_are_a_comma_separated_list() -> None:
    settings = load_settings(environ={"BATON_TEAMS_ALLOWED_TENANTS": " a, B ,,"})
    assert settings.teams_allowed_tenants == ("a", "B")


def test_every_bad_value_is_reported_by_its_variable_name() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"BATON_PORT": "http", "BATON_TEAMS": "maybe", "MICROSOFT_APP_TYPE": "Any"})
    assert caught.value.source == "environment"
    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        "BATON_PORT",
        "MICROSOFT_APP_TYPE",
        "BATON_TEAMS",
    ]


def test_a_bad_override_is_reported_by_its_variable_name() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, port=0)
    assert caught.value.problems == ["BATON_PORT: Input should be greater than or equal to 1"]


def test_the_process_environment_is_read_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_TIMER_BATCH", "7")
    assert load_settings().timer_batch == 7


def test_nothing_but_the_settings_reads_the_environment() -> None:
    readers = []
    for package in ("bot", "handlers", "store", "scoring"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "bot" / "settings.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
                    readers.append(str(path.relative_to(ROOT)))
    assert readers == []
