"""Warnings about secrets the agreement names but the environment does not hold.

A source whose secret is unset answers every request 503 (its sender retries, or loses the
lead); a CRM action without its secrets cannot start. ``baton config check`` says so before
either matters, naming each variable.
"""

from __future__ import annotations

from bot.settings import Settings
from handlers.text import _
from scoring.agreement import Agreement
from scoring.crm_actions import missing_secrets


def secret_warnings(settings: Settings, agreement: Agreement) -> list[str]:
    lines = [
        _("cli.config.source_secret_missing", source=source.name, variable=source.auth.secret_env)
        for source in agreement.sources
        if source.auth.secret_env and not settings.source_secret(source.auth.secret_env)
    ]
    lines += [
        _("cli.config.crm_secret_missing", missing=line)
        for line in missing_secrets(agreement.crm_actions, settings.crm_secrets())
    ]
    return lines
