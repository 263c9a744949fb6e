"""Settings: the agreement from one TOML file, secrets and deployment knobs from the environment.

Built once at start-up by ``load_settings`` through pydantic-settings (each field names its
variable in ``validation_alias``); nothing else in Baton reads ``os.environ``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict

from handlers.messaging.pacing import Pacing, PacingError, parse_duration, parse_limits
from scoring.agreement import Agreement
from scoring.agreement_check import AgreementError, format_validation_errors, load_agreement
from scoring.crm_actions import SECRET_PREFIX as CRM_SECRET_PREFIX
from scoring.platforms import ChatPlatform
from scoring.sources import SECRET_PREFIX
from store import DEFAULT_URL

DEFAULT_CONFIG = "baton.toml"


class ConfigError(Exception):
    """Start-up cannot go on; ``problems`` names each by its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}:\n" + "\n".join(f"  {p}" for p in problems))
        self.source = source
        self.problems = problems


class Settings(BaseSettings):
    """Deployment settings and secrets (never logged: ``bot.logs`` masks the secret values in every line).

    Each field is read from the environment variable its ``validation_alias`` names, exactly as
    spelled (several follow the platforms' own names, not a prefix); an empty variable counts as
    unset. Built by field name too (``Settings(port=...)``, what tests and the CLI's overrides use)."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, populate_by_name=True, extra="ignore")

    config_path: Path = Field(validation_alias="BATON_CONFIG")
    database_url: str = Field(DEFAULT_URL, validation_alias="BATON_DATABASE_URL")
    host: str = Field("127.0.0.1", validation_alias="BATON_HOST")
    port: int = Field(default=3978, ge=1, le=65535, validation_alias="BATON_PORT")
    intake_token: str | None = Field(None, validation_alias="BATON_INTAKE_TOKEN")
    intake_hmac_secret: str | None = Field(None, validation_alias="BATON_INTAKE_HMAC_SECRET")
    webhook_secret: str | None = Field(None, validation_alias="BATON_WEBHOOK_SECRET")
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    microsoft_app_id: str | None = Field(None, validation_alias="MICROSOFT_APP_ID")
    microsoft_app_password: str | None = Field(None, validation_alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field(
        "MultiTenant", validation_alias="MICROSOFT_APP_TYPE"
    )
    microsoft_app_tenant_id: str | None = Field(None, validation_alias="MICROSOFT_APP_TENANT_ID")
    # Tenant ids Teams activities may come from (comma-separated in the environment; "*" for any).
    # Empty: MICROSOFT_APP_TENANT_ID when set, else any tenant (see bot.teams.gate.allowed_tenants).
    # NoDecode: the environment holds a comma-separated list, not the JSON pydantic-settings expects.
    teams_allowed_tenants: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias="BATON_TEAMS_ALLOWED_TENANTS"
    )
    teams_enabled: bool = Field(False, validation_alias="BATON_TEAMS")
    # Post a welcome once per install (a person's chat, a channel, a team, the first App Home visit).
    welcome: bool = Field(True, validation_alias="BATON_WELCOME")
    # The developer fields of the Teams app package (`baton manifest teams`; its options win).
    # Unset: the manifest's placeholders, which must be replaced before publishing to a store.
    teams_developer_name: str | None = Field(None, validation_alias="BATON_TEAMS_DEVELOPER_NAME")
    teams_website_url: str | None = Field(None, validation_alias="BATON_TEAMS_WEBSITE_URL")
    teams_privacy_url: str | None = Field(None, validation_alias="BATON_TEAMS_PRIVACY_URL")
    teams_terms_url: str | None = Field(None, validation_alias="BATON_TEAMS_TERMS_URL")
    log_format: Literal["text", "json"] = Field("text", validation_alias="BATON_LOG_FORMAT")
    log_level: str = Field("INFO", validation_alias="BATON_LOG_LEVEL")
    outbox_interval: float = Field(default=1.0, gt=0, validation_alias="BATON_OUTBOX_INTERVAL")
    timer_interval: float = Field(default=1.0, gt=0, validation_alias="BATON_TIMER_INTERVAL")
    # SLA firings per transaction; 1 keeps every firing in a transaction of its own (slower to
    # catch up: about 12 ms a firing on SQLite against under 1 ms in batches of 100).
    timer_batch: int = Field(default=100, ge=1, le=1000, validation_alias="BATON_TIMER_BATCH")
    # Leads of one request committed together; 1 gives every lead a transaction of its own.
    # A header a trusted reverse proxy sets to the caller's address (e.g. X-Forwarded-For; its last
    # entry is used): read for a source's allow_ips only when set, else the connection's address.
    trusted_proxy_header: str | None = Field(None, validation_alias="BATON_TRUSTED_PROXY_HEADER")
    intake_batch: int = Field(default=100, ge=1, le=1000, validation_alias="BATON_INTAKE_BATCH")
    # How long an Idempotency-Key's answer is kept and replayed to a retry of the same request.
    idempotency_hours: float = Field(default=24.0, gt=0, le=24 * 30, validation_alias="BATON_IDEMPOTENCY_HOURS")
    shutdown_grace: float = Field(default=10.0, ge=0, validation_alias="BATON_SHUTDOWN_GRACE")
    # Seconds a chat platform's health check result is reused: probes every few seconds must not
    # call Slack every few seconds.
    platform_check_interval: float = Field(default=30.0, gt=0, validation_alias="BATON_PLATFORM_CHECK_INTERVAL")
    # Seconds after its scheduled time within which a digest or review reminder missed while
    # Baton was down is still sent at the next start (and the scheduler's misfire grace).
    catch_up_grace: float = Field(default=6 * 3600.0, ge=0, validation_alias="BATON_CATCH_UP_GRACE")
    # Delivery (issue 11). A claimed row's lease, renewed every third of it while the send runs.
    outbox_lease: float = Field(default=10.0, ge=1, le=600, validation_alias="BATON_OUTBOX_LEASE")
    # Transient failures back off exponentially (with jitter) up to this many seconds...
    outbox_max_backoff: float = Field(default=120.0, ge=1, le=3600, validation_alias="BATON_OUTBOX_MAX_BACKOFF")
    # ...and are retried for as long as the message is younger than this (seconds; 3d, 12h...).
    outbox_max_age: float = Field(default=3 * 86400.0, ge=60, validation_alias="BATON_OUTBOX_MAX_AGE")
    # Conversations sent to at once.
    outbox_concurrency: int = Field(default=8, ge=1, le=64, validation_alias="BATON_OUTBOX_CONCURRENCY")
    # Pacing per rate-limit scope kind (handlers.messaging.pacing): N/PERIOD [burst B], comma-separated; off.
    pace_slack_channel: str = Field("1/s burst 3", validation_alias="BATON_PACE_SLACK_CHANNEL")
    pace_slack_workspace: str = Field("5/s burst 20", validation_alias="BATON_PACE_SLACK_WORKSPACE")
    pace_slack_update: str = Field("50/1m burst 10", validation_alias="BATON_PACE_SLACK_UPDATE")
    pace_teams_conversation: str = Field(
        "7/1s, 8/2s, 60/30s, 1800/1h", validation_alias="BATON_PACE_TEAMS_CONVERSATION"
    )
    pace_teams_tenant: str = Field("50/s", validation_alias="BATON_PACE_TEAMS_TENANT")

    @field_validator("outbox_max_age", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return parse_duration(value)
            except PacingError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator(
        "pace_slack_channel",
        "pace_slack_workspace",
        "pace_slack_update",
        "pace_teams_conversation",
        "pace_teams_tenant",
    )
    @classmethod
    def _limits(cls, value: str) -> str:
        try:
            parse_limits(value)
        except PacingError as exc:
            raise ValueError(str(exc)) from None
        return value

    def pacing(self) -> Pacing:
        """The limits per (platform, scope kind) the delivery worker paces to."""
        return Pacing(
            {
                ("slack", "channel"): parse_limits(self.pace_slack_channel),
                ("slack", "workspace"): parse_limits(self.pace_slack_workspace),
                ("slack", "update"): parse_limits(self.pace_slack_update),
                ("teams", "conversation"): parse_limits(self.pace_teams_conversation),
                ("teams", "tenant"): parse_limits(self.pace_teams_tenant),
            }
        )

    @field_validator("teams_allowed_tenants", mode="before")
    @classmethod
    def _split_tenants(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    # The [[sources]] secrets: every BATON_SOURCE_* variable (the agreement names which it uses).
    _source_secrets: dict[str, str] = PrivateAttr(default_factory=dict)

    def source_secret(self, name: str) -> str | None:
        return self._source_secrets.get(name)

    def source_secrets(self) -> list[str]:
        return list(self._source_secrets.values())

    def with_source_secrets(self, secrets: Mapping[str, str]) -> Settings:
        """These settings with the given source secrets (only ``BATON_SOURCE_*`` names are kept)."""
        self._source_secrets = {k: v for k, v in secrets.items() if k.startswith(SECRET_PREFIX) and v}
        return self

    _crm_secrets: dict[str, str] = PrivateAttr(default_factory=dict)

    def crm_secrets(self) -> dict[str, str]:
        """The ``BATON_CRM_*`` variables (secrets of ``[[crm_actions]]``, ``bot/crm.py``)."""
        return dict(self._crm_secrets)

    def with_crm_secrets(self, secrets: Mapping[str, str]) -> Settings:
        self._crm_secrets = {k: v for k, v in secrets.items() if k.startswith(CRM_SECRET_PREFIX) and v}
        return self

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))

    @property
    def chat_platforms(self) -> frozenset[str]:
        """The built-in chat platforms these settings configure (each platform's own check)."""
        from bot.platforms import built_in  # the registry's entries read these settings

        return built_in().enabled(self)


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping: ``os.environ`` in production,
    a plain dict in tests. Keys are the fields' environment names."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(Settings, case_sensitive=True, env_ignore_empty=True)
        self.env_vars = {name: value for name, value in environ.items() if value}


def env_name(field: str) -> str:
    """The environment variable ``Settings.<field>`` is read from."""
    alias = Settings.model_fields[field].validation_alias
    assert isinstance(alias, str)
    return alias


def load_settings(
    config_path: str | Path | None = None, environ: Mapping[str, str] | None = None, **overrides: object
) -> Settings:
    """The settings from the environment (``environ`` instead of ``os.environ`` when given); an
    explicit ``config_path`` and the non-None ``overrides`` (by field name) win over it."""
    environment = os.environ if environ is None else environ
    values: dict[str, object] = _Environment(environment)()
    # Everything by its environment name, so one key per field reaches validation.
    given = {"config_path": config_path, **overrides}
    values.update({env_name(field): value for field, value in given.items() if value is not None})
    values.setdefault(env_name("config_path"), DEFAULT_CONFIG)
    if values.get(env_name("microsoft_app_id")):
        values.setdefault(env_name("teams_enabled"), True)
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        # Errors are located by alias: each line names the variable to fix.
        raise ConfigError("environment", format_validation_errors(exc)) from None
    return settings.with_source_secrets(environment).with_crm_secrets(environment)


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
