"""``[[crm_actions]]``: write the owner and status back to the CRM record when something happens.

Each action names the events it runs on, an HTTP method, a URL template, headers (whose values
may read secrets from the environment as ``${NAME}``), a JSON body template and a stage → CRM
status map. Templates fill ``{placeholder}`` fields from the lead at the moment of the event:

- ``{external_id}`` the lead's id in the CRM (what the CRM sent as ``external_id``);
- ``{crm_id}`` the owner's CRM user id (``crm_id`` on the person in the agreement);
- ``{crm_status}`` the lead's stage through ``status_map``; ``{stage}``, ``{owner}`` (email),
  ``{team}``, ``{score}``, ``{lead_id}``, ``{event}``, ``{occurred_at}``.

A body value that is exactly one placeholder takes the value as it is, and the key is left out
when the value is unknown (no owner, a stage the map does not name); a placeholder inside longer
text, or in the URL, must have a value (the URL's are percent-encoded). ``{{`` and ``}}`` are
literal braces.

Presets fill everything from the vendors' documented APIs: ``hubspot`` (CRM v3 contacts,
``PATCH /crm/v3/objects/contacts/{external_id}`` with ``hubspot_owner_id`` and
``hs_lead_status``, a private app token as bearer) and ``salesforce`` (REST API,
``PATCH /services/data/v<api_version>/sobjects/Lead/{external_id}`` with ``OwnerId`` and
``Status``, an OAuth 2.0 client-credentials token from ``/services/oauth2/token`` of the
org's My Domain). Any key given next to a preset overrides the preset's value.

Pure data: reading the environment and sending belong to ``bot/crm.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scoring.durations import Duration

CrmEvent = Literal[
    "lead.qualified",
    "lead.offered",
    "lead.accepted",
    "lead.taken_over",
    "lead.reassigned",
    "lead.rejected",
    "lead.touched",
    "lead.sql",
    "lead.unreachable",
    "lead.opportunity",
    "lead.won",
    "lead.lost",
]
PLACEHOLDERS = frozenset(
    {"external_id", "crm_id", "crm_status", "stage", "owner", "team", "score", "lead_id", "event", "occurred_at"}
)
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Secrets are environment variables named BATON_CRM_* (bot/settings.py reads them, nothing else does).
SECRET_PREFIX = "BATON_CRM_"
ENV_NAME = r"^BATON_CRM_[A-Z0-9_]+$"
# Take over records lead.accepted too, so the presets do not also listen to lead.taken_over.
_OWNER_EVENTS: list[str] = [
    "lead.accepted",
    "lead.reassigned",
    "lead.rejected",
    "lead.sql",
    "lead.unreachable",
    "lead.opportunity",
    "lead.won",
    "lead.lost",
]

# HubSpot's default "Lead status" (hs_lead_status) internal values; won and lost are deals there.
HUBSPOT_STATUS = {
    "mql": "NEW",
    "sal": "OPEN",
    "sql": "CONNECTED",
    "opportunity": "OPEN_DEAL",
    "unreachable": "ATTEMPTED_TO_CONTACT",
    "recycled": "BAD_TIMING",
    "disqualified": "UNQUALIFIED",
}
# Salesforce's default Lead Status picklist. A converted status cannot be set by an update (a
# lead is converted with convertLead), so stages after SQL are not mapped.
SALESFORCE_STATUS = {
    "mql": "Open - Not Contacted",
    "sal": "Working - Contacted",
    "sql": "Working - Contacted",
    "unreachable": "Closed - Not Converted",
    "disqualified": "Closed - Not Converted",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class OAuthClientCredentials(_Model):
    """An OAuth 2.0 client-credentials grant (RFC 6749 §4.4); the token is cached until it expires."""

    token_url: str = Field(pattern=r"^https?://")
    client_id_env: str = Field(pattern=ENV_NAME)
    client_secret_env: str = Field(pattern=ENV_NAME)
    scope: str | None = None
    # "body": client_id and client_secret in the form (Salesforce); "basic": HTTP Basic (RFC 6749 §2.3.1).
    client_auth: Literal["body", "basic"] = "body"
    # How long a token is used when the answer carries no expires_in (Salesforce's does not).
    token_lifetime: Duration = Field(default=timedelta(minutes=30))


def template_fields(text: str) -> list[str]:
    return [m.group(1) for m in _FIELD.finditer(text) if m.group(1) is not None]


def env_names(text: str) -> list[str]:
    return _ENV.findall(text)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _check_fields(texts: list[str], where: str) -> None:
    for text in texts:
        for name in template_fields(text):
            if name not in PLACEHOLDERS:
                known = ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS))
                raise ValueError(f"{where}: unknown placeholder {{{name}}} (known: {known})")


def _hubspot(data: dict[str, Any]) -> dict[str, Any]:
    base = str(data.pop("api_base", "https://api.hubapi.com")).rstrip("/")
    token_env = data.pop("token_env", "BATON_CRM_HUBSPOT_TOKEN")
    if not isinstance(token_env, str) or not re.match(ENV_NAME, token_env):
        raise ValueError(f"`token_env` {token_env!r} must be an environment variable named BATON_CRM_...")
    return {
        "method": "PATCH",
        "url": base + "/crm/v3/objects/contacts/{external_id}",
        "headers": {"Authorization": f"Bearer ${{{token_env}}}"},
        "body": {"properties": {"hubspot_owner_id": "{crm_id}", "hs_lead_status": "{crm_status}"}},
        "status_map": dict(HUBSPOT_STATUS),
        "events": list(_OWNER_EVENTS),
    }


def _salesforce(data: dict[str, Any]) -> dict[str, Any]:
    instance = data.pop("instance_url", None)
    if not isinstance(instance, str) or not re.match(r"^https?://[^/{}]+$", instance.rstrip("/")):
        raise ValueError(
            "preset salesforce needs `instance_url`, your org's My Domain URL like https://acme.my.salesforce.com"
        )
    instance = instance.rstrip("/")
    version = str(data.pop("api_version", "62.0"))
    if not re.match(r"^\d{2,3}\.0$", version):
        raise ValueError(f"`api_version` {version!r} is not a Salesforce API version like 62.0")
    return {
        "method": "PATCH",
        "url": f"{instance}/services/data/v{version}/sobjects/Lead/{{external_id}}",
        "headers": {},
        "body": {"OwnerId": "{crm_id}", "Status": "{crm_status}"},
        "status_map": dict(SALESFORCE_STATUS),
        "events": list(_OWNER_EVENTS),
        "oauth": {
            "token_url": f"{instance}/services/oauth2/token",
            "client_id_env": data.pop("client_id_env", "BATON_CRM_SALESFORCE_CLIENT_ID"),
            "client_secret_env": data.pop("client_secret_env", "BATON_CRM_SALESFORCE_CLIENT_SECRET"),
        },
    }


_PRESETS = {"hubspot": _hubspot, "salesforce": _salesforce}


class CrmAction(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=40)
    preset: Literal["hubspot", "salesforce"] | None = None
    events: list[CrmEvent] = Field(min_length=1)
    method: Literal["POST", "PUT", "PATCH"] = "PATCH"
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | None = None
    # Stage → the CRM's status value, for {crm_status}; keys are Baton's stages.
    status_map: dict[str, str] = Field(default_factory=dict)
    oauth: OAuthClientCredentials | None = None

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: object) -> object:
        if not isinstance(data, dict) or data.get("preset") is None:
            return data
        data = dict(data)
        preset = data["preset"]
        if preset not in _PRESETS:
            return data  # the Literal names the choices
        filled = _PRESETS[preset](data)
        if "status_map" in data and isinstance(data["status_map"], dict):
            data["status_map"] = {**filled["status_map"], **data["status_map"]}
        return {**filled, **data}

    @field_validator("status_map")
    @classmethod
    def _stages(cls, value: dict[str, str]) -> dict[str, str]:
        from scoring.agreement import Stage  # the agreement imports this module

        unknown = sorted(set(value) - {s.value for s in Stage})
        if unknown:
            raise ValueError(f"unknown stage(s) {', '.join(unknown)} (stages: {', '.join(s.value for s in Stage)})")
        return value

    @model_validator(mode="after")
    def _templates(self) -> CrmAction:
        _check_fields([self.url], "url")
        _check_fields(_strings(self.body), "body")
        for key, value in self.headers.items():
            if template_fields(_ENV.sub("", value)):
                raise ValueError(f"headers.{key}: headers take ${{BATON_CRM_...}} secrets, not {{placeholders}}")
            for name in env_names(value):
                if not re.match(ENV_NAME, name):
                    raise ValueError(f"headers.{key}: ${{{name}}}: secrets must be named {SECRET_PREFIX}...")
        if not re.match(r"^https?://[^/{}]+", self.url):
            raise ValueError("url: the host must be written out, not a placeholder")
        return self

    def uses(self, name: str) -> bool:
        """Whether the URL or the body asks for ``{name}``."""
        return name in template_fields(self.url) or any(name in template_fields(t) for t in _strings(self.body))

    def secrets(self) -> list[str]:
        """The environment variables this action reads."""
        names = [n for v in self.headers.values() for n in env_names(v)]
        if self.oauth is not None:
            names += [self.oauth.client_id_env, self.oauth.client_secret_env]
        return list(dict.fromkeys(names))


class Unfilled(ValueError):
    """A placeholder the URL or a text needs has no value for this lead."""


def fill(text: str, values: dict[str, Any], *, url: bool = False) -> str:
    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        value = values.get(name)
        if value is None:
            raise Unfilled(name)
        return quote(str(value), safe="") if url else str(value)

    return _FIELD.sub(one, text)


def fill_body(template: Any, values: dict[str, Any]) -> Any:
    """The JSON body for ``values``; a key whose whole value is one unknown placeholder is left out."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if isinstance(value, str) and (only := _FIELD.fullmatch(value)) and only.group(1) is not None:
                if values.get(only.group(1)) is None:
                    continue
                out[key] = values[only.group(1)]
            else:
                out[key] = fill_body(value, values)
        return out
    if isinstance(template, list):
        return [fill_body(v, values) for v in template]
    if isinstance(template, str):
        return fill(template, values)
    return template


def missing_secrets(actions: Sequence[CrmAction], secrets: Mapping[str, str]) -> list[str]:
    """Each secret an action names that ``secrets`` lacks, as "NAME: required by [[crm_actions]] 'x'"."""
    return [
        f"{name}: required by [[crm_actions]] {action.name!r}"
        for action in actions
        for name in action.secrets()
        if not secrets.get(name)
    ]
