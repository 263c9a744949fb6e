"""Checks on an incoming activity that need no token: where replies would go, and which tenant sent it.

A missing or odd ``serviceUrl`` is refused (400) before any outbound call: botbuilder
would otherwise create a connector for it and fail mid-turn. Every activity names its
tenant twice (``conversation.tenantId`` and ``channelData.tenant.id``); when Baton serves
only some tenants, an activity from any other (or from none) is refused with 403.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.settings import Settings

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_MAX_URL = 2048
SINGLE_TENANT_TYPES = ("SingleTenant", "UserAssignedMSI")
ANY_TENANT = "*"


def pacing_tenant(settings: Settings) -> str | None:
    """The tenant whose limit (50 requests a second per app per tenant) the sender paces
    against: the one tenant Baton serves (``BATON_TEAMS_ALLOWED_TENANTS``, by default
    ``MICROSOFT_APP_TENANT_ID``). ``None`` when several or any are allowed: every send then
    shares one ``teams:tenant`` bucket, which keeps each tenant under its limit at the cost of
    pacing them together."""
    allowed = allowed_tenants(settings)
    return next(iter(allowed)) if allowed is not None and len(allowed) == 1 else None


def allowed_tenants(settings: Settings) -> frozenset[str] | None:
    """The tenant ids Baton answers (lower-case), or ``None`` for any.

    Single-tenant registrations serve only ``MICROSOFT_APP_TENANT_ID``. Otherwise
    ``BATON_TEAMS_ALLOWED_TENANTS`` lists them (``*`` for any); unset, it defaults to
    ``MICROSOFT_APP_TENANT_ID`` when that is set, else to any tenant.
    """
    tenant = (settings.microsoft_app_tenant_id or "").strip().lower()
    if settings.microsoft_app_type in SINGLE_TENANT_TYPES and tenant:
        return frozenset({tenant})
    listed = frozenset(t.lower() for t in settings.teams_allowed_tenants)
    if ANY_TENANT in listed:
        return None
    if listed:
        return listed
    return frozenset({tenant}) if tenant else None


def tenant_problems(settings: Settings) -> list[str]:
    """Start-up problems with the tenant settings, each naming its variable."""
    listed = {t.lower() for t in settings.teams_allowed_tenants}
    tenant = (settings.microsoft_app_tenant_id or "").strip().lower()
    if settings.microsoft_app_type in SINGLE_TENANT_TYPES and listed and listed != {tenant}:
        return [
            f"BATON_TEAMS_ALLOWED_TENANTS: a {settings.microsoft_app_type} bot serves only "
            f"MICROSOFT_APP_TENANT_ID; remove the setting or use MICROSOFT_APP_TYPE=MultiTenant"
        ]
    return []


def service_url_problem(body: dict[str, Any]) -> str | None:
    """Why the activity's ``serviceUrl`` cannot be replied to, or ``None``.

    Microsoft's channels always send https; plain http is accepted only on loopback (the
    Bot Framework Emulator, local tests).
    """
    url = body.get("serviceUrl")
    if not isinstance(url, str) or not url:
        return "the activity has no serviceUrl"
    if len(url) > _MAX_URL:
        return "the activity's serviceUrl is too long"
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "the activity's serviceUrl is not a URL"
    del port  # parsed only to reject a malformed one
    if not host or parts.username is not None or parts.password is not None:
        return "the activity's serviceUrl is not a URL with a host"
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return None
    return "the activity's serviceUrl must be an https URL"


def envelope_problem(body: dict[str, Any]) -> str | None:
    """Every Bot Framework activity names its conversation, sender and recipient by id."""
    for key in ("conversation", "from", "recipient"):
        part = body.get(key)
        if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"]:
            return f"the activity has no {key}.id"
    return None


def tenant_ids(body: dict[str, Any]) -> tuple[list[str], str | None]:
    """The tenant ids the activity names, lower-case, or a problem with their shape."""
    found: list[str] = []
    conversation = body.get("conversation")
    channel_data = body.get("channelData")
    tenant = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    for where, value in (
        ("conversation.tenantId", conversation.get("tenantId") if isinstance(conversation, dict) else None),
        ("channelData.tenant.id", tenant.get("id") if isinstance(tenant, dict) else None),
    ):
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            return [], f"{where} must be a tenant id"
        found.append(value.strip().lower())
    if len(set(found)) > 1:
        return [], "conversation.tenantId and channelData.tenant.id name different tenants"
    return found, None


def tenant_refusal(allowed: frozenset[str] | None, ids: list[str]) -> str | None:
    """Why this tenant is not served (the 403's reason), or ``None``."""
    if allowed is None:
        return None
    if not ids:
        return "the activity names no tenant, and this bot serves only its configured tenants"
    if any(t not in allowed for t in ids):
        return "this bot does not serve the activity's tenant"
    return None


CARD_ACTION = "adaptiveCard/action"


def invoke_problem(body: dict[str, Any]) -> str | None:
    """Baton's manifest declares only Universal Actions, so any other invoke is refused before the
    turn (which would store the conversation reference first)."""
    if body.get("type") == "invoke" and body.get("name") != CARD_ACTION:
        name = str(body.get("name") or "")[:60]
        return f"Baton handles only {CARD_ACTION} invokes, not {name!r}"
    return None
