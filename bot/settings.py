"""Settings: the agreement from one TOML file, secrets and deployment knobs from the environment.

Built once at start-up; nothing else in Baton reads ``os.environ``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from handlers.pacing import Pacing, PacingError, parse_duration, parse_limits
from scoring.agreement import Agreement
from scoring.agreement_check import AgreementError, format_validation_errors, load_agreement
from scoring.platforms import ChatPlatform
from store import DEFAULT_URL

DEFAULT_CONFIG = "baton.toml"


class ConfigError(Exception):
    """Start-up cannot go on; ``problems`` names each by its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}:\n" + "\n".join(f"  {p}" for p in problems))
        self.source = source
        self.problems = problems


class Settings(BaseModel):
    """Deployment settings and secrets (never logged: ``bot.logs`` masks the secret values in every line)."""

    config_path: Path
    database_url: str = DEFAULT_URL
    host: str = "127.0.0.1"
    port: int = Field(default=3978, ge=1, le=65535)
    intake_token: str | None = None
    intake_hmac_secret: str | None = None
    webhook_secret: str | None = None
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = "MultiTenant"
    microsoft_app_tenant_id: str | None = None
    # Tenant ids Teams activities may come from (comma-separated in the environment; "*" for any).
    # Empty: MICROSOFT_APP_TENANT_ID when set, else any tenant (see bot.teams.gate.allowed_tenants).
    teams_allowed_tenants: tuple[str, ...] = ()
    teams_enabled: bool = False
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    outbox_interval: float = Field(default=1.0, gt=0)
    timer_interval: float = Field(default=1.0, gt=0)
    # SLA firings per transaction; 1 keeps every firing in a transaction of its own (slower to
    # catch up: about 12 ms a firing on SQLite against under 1 ms in batches of 100).
    timer_batch: int = Field(default=100, ge=1, le=1000)
    # Leads of one request committed together; 1 gives every lead a transaction of its own.
    intake_batch: int = Field(default=100, ge=1, le=1000)
    # How long an Idempotency-Key's answer is kept and replayed to a retry of the same request.
    idempotency_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    shutdown_grace: float = Field(default=10.0, ge=0)
    # Seconds a chat platform's health check result is reused: probes every few seconds must not
    # call Slack every few seconds.
    platform_check_interval: float = Field(default=30.0, gt=0)
    # Seconds after its scheduled time within which a digest or review reminder missed while
    # Baton was down is still sent at the next start (and the scheduler's misfire grace).
    catch_up_grace: float = Field(default=6 * 3600.0, ge=0)
    # Delivery (issue 11). A claimed row's lease, renewed every third of it while the send runs.
    outbox_lease: float = Field(default=10.0, ge=1, le=600)
    # Transient failures back off exponentially (with jitter) up to this many seconds...
    outbox_max_backoff: float = Field(default=120.0, ge=1, le=3600)
    # ...and are retried for as long as the message is younger than this (seconds; 3d, 12h...).
    outbox_max_age: float = Field(default=3 * 86400.0, ge=60)
    outbox_concurrency: int = Field(default=8, ge=1, le=64)  # conversations sent to at once
    # Pacing per rate-limit scope kind (handlers.pacing): N/PERIOD [burst B], comma-separated; off.
    pace_slack_channel: str = "1/s burst 3"
    pace_slack_workspace: str = "5/s burst 20"
    pace_slack_update: str = "50/1m burst 10"
    pace_teams_conversation: str = "7/1s, 8/2s, 60/30s, 1800/1h"
    pace_teams_tenant: str = "50/s"

    @field_validator("outbox_max_age", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except PacingError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("pace_slack_channel", "pace_slack_workspace", "pace_slack_update",
                     "pace_teams_conversation", "pace_teams_tenant")
    @classmethod
    def _limits(cls, value: str) -> str:
        try:
            parse_limits(value)
        except PacingError as exc:
            raise ValueError(str(exc)) from None
        return value

    def pacing(self) -> Pacing:
        """The limits per (platform, scope kind) the delivery worker paces to."""
        return Pacing({
            ("slack", "channel"): parse_limits(self.pace_slack_channel),
            ("slack", "workspace"): parse_limits(self.pace_slack_workspace),
            ("slack", "update"): parse_limits(self.pace_slack_update),
            ("teams", "conversation"): parse_limits(self.pace_teams_conversation),
            ("teams", "tenant"): parse_limits(self.pace_teams_tenant),
        })

    @field_validator("teams_allowed_tenants", mode="before")
    @classmethod
    def _split_tenants(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))

    @property
    def chat_platforms(self) -> frozenset[str]:
        """The built-in chat platforms these settings configure (each platform's own check)."""
        from bot.platforms import built_in  # the registry's entries read these settings

        return built_in().enabled(self)


_ENV = {
    "BATON_DATABASE_URL": "database_url", "BATON_HOST": "host", "BATON_PORT": "port",
    "BATON_INTAKE_TOKEN": "intake_token", "BATON_INTAKE_HMAC_SECRET": "intake_hmac_secret",
    "BATON_WEBHOOK_SECRET": "webhook_secret", "SLACK_BOT_TOKEN": "slack_bot_token",
    "SLACK_SIGNING_SECRET": "slack_signing_secret", "SLACK_APP_TOKEN": "slack_app_token",
    "SLACK_API_URL": "slack_api_url", "MICROSOFT_APP_ID": "microsoft_app_id",
    "MICROSOFT_APP_PASSWORD": "microsoft_app_password", "MICROSOFT_APP_TYPE": "microsoft_app_type",
    "MICROSOFT_APP_TENANT_ID": "microsoft_app_tenant_id", "BATON_TEAMS": "teams_enabled",
    "BATON_TEAMS_ALLOWED_TENANTS": "teams_allowed_tenants",
    "BATON_LOG_FORMAT": "log_format", "BATON_LOG_LEVEL": "log_level",
    "BATON_OUTBOX_INTERVAL": "outbox_interval", "BATON_TIMER_INTERVAL": "timer_interval",
    "BATON_TIMER_BATCH": "timer_batch", "BATON_INTAKE_BATCH": "intake_batch",
    "BATON_SHUTDOWN_GRACE": "shutdown_grace", "BATON_PLATFORM_CHECK_INTERVAL": "platform_check_interval",
    "BATON_CATCH_UP_GRACE": "catch_up_grace", "BATON_OUTBOX_LEASE": "outbox_lease",
    "BATON_OUTBOX_MAX_BACKOFF": "outbox_max_backoff", "BATON_OUTBOX_MAX_AGE": "outbox_max_age",
    "BATON_OUTBOX_CONCURRENCY": "outbox_concurrency", "BATON_PACE_SLACK_CHANNEL": "pace_slack_channel",
    "BATON_PACE_SLACK_WORKSPACE": "pace_slack_workspace", "BATON_PACE_SLACK_UPDATE": "pace_slack_update",
    "BATON_PACE_TEAMS_CONVERSATION": "pace_teams_conversation", "BATON_PACE_TEAMS_TENANT": "pace_teams_tenant",
    "BATON_IDEMPOTENCY_HOURS": "idempotency_hours",
}


def load_settings(config_path: str | Path | None = None, environ: Mapping[str, str] | None = None,
                  **overrides: object) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, object] = {field: env[name] for name, field in _ENV.items() if env.get(name)}
    values["config_path"] = Path(config_path or env.get("BATON_CONFIG") or DEFAULT_CONFIG)
    values.update({k: v for k, v in overrides.items() if v is not None})
    if values.get("microsoft_app_id"):
        values.setdefault("teams_enabled", True)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        fields = {v: k for k, v in _ENV.items()}
        problems = [_rename(p, fields) for p in format_validation_errors(exc)]
        raise ConfigError("environment", problems) from None


def _rename(problem: str, fields: dict[str, str]) -> str:
    field, _, message = problem.partition(": ")
    return f"{fields.get(field, field)}: {message}"


def load_agreement_file(path: Path, platforms: Iterable[ChatPlatform] | None = None) -> Agreement:
    """Read and validate the agreement; every problem is reported at once, by its path.

    ``platforms``: the chat platforms whose ids it may give (the built-in registry's if None)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found (set --config or BATON_CONFIG)"]) from None
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    try:
        if platforms is None:
            from bot.platforms import built_in

            platforms = built_in().chat
        return load_agreement(data, platforms)
    except AgreementError as exc:
        raise ConfigError(str(path), exc.problems) from None
