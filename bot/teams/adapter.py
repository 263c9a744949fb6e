"""The botbuilder ``CloudAdapter`` built from Baton's settings, and the start-up checks on them.

With no app id the adapter runs unauthenticated, as the Bot Framework Emulator expects;
that is allowed only when the server listens on loopback, so nobody can reach it unsigned.
"""

from __future__ import annotations

from dataclasses import dataclass

from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from bot.settings import ConfigError, Settings
from bot.teams.gate import tenant_problems

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True)
class _BotConfig:
    """The attribute names botbuilder's configuration objects are read by."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


def check_settings(settings: Settings) -> None:
    """Refuse to start with Teams settings that cannot work, naming each problem."""
    problems: list[str] = []
    if not settings.microsoft_app_id:
        if settings.host not in LOOPBACK:
            problems.append(
                f"MICROSOFT_APP_ID: not set, so Teams would accept unauthenticated requests (the Bot "
                f"Framework Emulator's local mode), which is only allowed when BATON_HOST is loopback "
                f"(127.0.0.1, ::1 or localhost), not {settings.host!r}. Set MICROSOFT_APP_ID and "
                f"MICROSOFT_APP_PASSWORD, or listen on 127.0.0.1."
            )
    else:
        kind = settings.microsoft_app_type
        if kind in ("SingleTenant", "UserAssignedMSI") and not settings.microsoft_app_tenant_id:
            problems.append(f"MICROSOFT_APP_TENANT_ID: required when MICROSOFT_APP_TYPE is {kind}")
        if kind in ("SingleTenant", "MultiTenant") and not settings.microsoft_app_password:
            problems.append(f"MICROSOFT_APP_PASSWORD: required when MICROSOFT_APP_TYPE is {kind}")
    problems.extend(tenant_problems(settings))
    if problems:
        raise ConfigError("environment", problems)


def build_adapter(settings: Settings) -> CloudAdapter:
    check_settings(settings)
    config = _BotConfig(
        APP_ID=settings.microsoft_app_id or "",
        APP_PASSWORD=settings.microsoft_app_password or "",
        APP_TYPE=settings.microsoft_app_type,
        APP_TENANTID=settings.microsoft_app_tenant_id or "",
    )
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(config))


def authenticated(settings: Settings) -> bool:
    return bool(settings.microsoft_app_id)
