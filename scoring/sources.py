"""Lead sources: who may post leads to ``POST /api/sources/{name}`` and how their payload maps to a lead.

A source is pure configuration: its authentication names an environment variable (never the secret
itself), and its mapping is JMESPath expressions over one record of the payload (a JSON body, or
one Salesforce ``sObject`` as a dict). ``map_record`` turns a record into the dict the intake API's
``LeadIn`` validates, so a mapped lead is checked, scored and routed exactly as one posted to
``/api/leads``. Empty strings count as missing (CRMs send "" for a blank property), and keys the
mapping does not name are ignored.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scoring.lead import LEAD_FIELDS, CustomValue

Preset = Literal["json", "hubspot", "salesforce", "salesforce_flow", "marketo"]
AuthKind = Literal["bearer", "hmac", "hubspot", "salesforce"]
_NUMERIC = frozenset({"employees", "revenue"})
# Secrets live in the environment under this prefix, so the settings can collect them without
# knowing the agreement (and the log scrubber can mask them).
SECRET_PREFIX = "BATON_SOURCE_"

# HubSpot's workflow "Send a webhook" posts the record as the contacts API returns it; a contact
# workflow's payload is the legacy shape (``vid``, ``properties.<name>.value`` with its history),
# the v3 object API's is ``id`` and plain ``properties.<name>``. Each expression takes either.


def _hubspot(name: str) -> str:
    # The legacy shape's {"value": ...} or the v3 shape's plain text; a blank value is missing.
    path = f"properties.{name}"
    return f"{path}.value || (type({path}) == 'string' && {path} || `null`)"


_HUBSPOT = {
    "external_id": "vid || id",
    **{
        field: _hubspot(name)
        for field, name in {
            "email": "email",
            "first_name": "firstname",
            "last_name": "lastname",
            "title": "jobtitle",
            "company": "company",
            "employees": "numemployees",
            "revenue": "annualrevenue",
            "industry": "industry",
            "country": "country",
            "phone": "phone",
            "website": "website",
        }.items()
    },
}
# A Salesforce Lead sObject's standard fields (the Outbound Message sends those chosen in Setup).
_SALESFORCE = {
    "external_id": "Id",
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "title": "Title",
    "company": "Company",
    "employees": "NumberOfEmployees",
    "revenue": "AnnualRevenue",
    "industry": "Industry",
    "country": "Country",
    "source": "LeadSource",
    "phone": "Phone",
    "website": "Website",
}
# Marketo: the webhook's payload template is ours (README, "Connect Marketo"); its keys are the
# lead fields' REST API names, each a token Marketo fills in (an empty token arrives as "").
_MARKETO = {
    "external_id": "id",
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "title": "title",
    "company": "company",
    "employees": "numberOfEmployees",
    "revenue": "annualRevenue",
    "industry": "industry",
    "country": "country",
    "source": "leadSource",
    "campaign": "campaign",
    "phone": "phone",
    "website": "website",
}
PRESET_FIELDS: dict[str, dict[str, str]] = {
    "json": {},
    "hubspot": _HUBSPOT,
    "salesforce": _SALESFORCE,
    # A Flow HTTP callout sends the Lead as its JSON (the sObject's API names, as the SOAP message).
    "salesforce_flow": _SALESFORCE,
    "marketo": _MARKETO,
}
PRESET_AUTH: dict[str, AuthKind] = {
    "json": "bearer",
    "hubspot": "hubspot",
    "salesforce": "salesforce",
    "salesforce_flow": "bearer",
    "marketo": "bearer",
}
# Where a preset's records are in its body: a Flow sends {"leads": [...]} (or one Lead).
PRESET_RECORDS: dict[str, str | None] = {"salesforce_flow": "leads"}
# Senders that never retry a 4xx lose a refused request: their leads are taken one by one, and
# a refused one is kept as an intake failure (HubSpot's workflow webhooks, Marketo's webhooks, a
# Flow callout). Salesforce's Outbound Messages retry until acknowledged: a batch is all or nothing.
PRESET_PER_LEAD: dict[str, bool] = {
    "json": False,
    "hubspot": True,
    "salesforce": False,
    "salesforce_flow": True,
    "marketo": True,
}
TOUCH_KINDS = ("call", "email", "meeting")


def compile_expression(expression: str) -> ParsedResult:
    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise ValueError(f"not a JMESPath expression ({expression!r}): {exc}") from None


class SourceAuth(BaseModel):
    """How a source proves itself: ``secret_env`` names the variable holding its token or secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: AuthKind
    secret_env: str | None = Field(default=None, pattern=rf"^{SECRET_PREFIX}[A-Z0-9_]+$")
    organization_id: str | None = Field(default=None, pattern=r"^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")
    # Only these networks may call (CIDRs, e.g. Salesforce's published ranges); empty: any.
    allow_ips: list[str] = Field(default_factory=list, max_length=200)

    @field_validator("allow_ips")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"not an IP network: {cidr!r} (write e.g. 13.108.0.0/14)") from None
        return value

    def allows(self, address: str | None) -> bool:
        if not self.allow_ips:
            return True
        try:
            ip = ipaddress.ip_address((address or "").strip())
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(cidr, strict=False) for cidr in self.allow_ips)

    @model_validator(mode="after")
    def _needs(self) -> SourceAuth:
        if self.kind == "salesforce":
            if self.organization_id is None:
                raise ValueError("salesforce authentication needs organization_id (the 15 or 18 character 00D… id)")
        elif self.secret_env is None:
            raise ValueError(f"{self.kind} authentication needs secret_env (an environment variable {SECRET_PREFIX}…)")
        return self


class Source(BaseModel):
    """One ``[[sources]]`` entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    preset: Preset = "json"
    auth: SourceAuth
    fields: dict[str, str] = Field(default_factory=dict)  # lead field -> expression (over the preset's)
    custom: dict[str, str] = Field(default_factory=dict, max_length=50)  # custom key -> expression
    activities: str | None = None  # expression giving a list of {type, occurred_at?, id?}
    defaults: dict[str, CustomValue] = Field(default_factory=dict)  # lead field -> value when missing
    # Expression giving a list of touches {kind, at?, rep?|rep_crm_id?, outcome?, id?} (issue 15).
    touches: str | None = None
    # Expression giving the record's outcome {outcome, amount?, currency?, reason?, occurred_at?,
    # crm_id?} (as POST /api/leads/{external_id}/outcome takes it), or null when it has none.
    outcome: str | None = None
    # Where the records are in the body (a list); None: the body, or each item of a list body.
    records: str | None = None
    # Each lead taken or refused on its own, refused ones kept as intake failures (None: the preset's).
    per_lead: bool | None = None

    @field_validator("fields", "defaults")
    @classmethod
    def _lead_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(LEAD_FIELDS))
        if unknown:
            raise ValueError(f"not lead fields: {', '.join(unknown)} (known: {', '.join(LEAD_FIELDS)})")
        return value

    @field_validator("fields", "custom")
    @classmethod
    def _expressions(cls, value: dict[str, str]) -> dict[str, str]:
        for expression in value.values():
            compile_expression(expression)
        return value

    @field_validator("activities", "touches", "outcome", "records")
    @classmethod
    def _activities(cls, value: str | None) -> str | None:
        if value is not None:
            compile_expression(value)
        return value

    @model_validator(mode="after")
    def _preset_auth(self) -> Source:
        # A preset's payload arrives with its vendor's own credentials, and no others.
        wanted = PRESET_AUTH[self.preset]
        if self.preset != "json" and self.auth.kind != wanted:
            raise ValueError(f"the {self.preset} preset authenticates with kind = {wanted!r}")
        if self.preset == "json" and self.auth.kind == "salesforce":
            raise ValueError("salesforce authentication is for the salesforce preset")
        if self.per_lead is not None and self.preset == "salesforce" and self.per_lead:
            raise ValueError("a Salesforce Outbound Message is acknowledged whole: per_lead must stay false")
        if self.preset == "json" and not {"external_id", "email"} <= set(self.fields) | set(self.defaults):
            raise ValueError("a json source maps at least external_id and email in [sources.fields]")
        return self

    def mapping(self) -> dict[str, str]:
        return {**PRESET_FIELDS[self.preset], **self.fields}

    @property
    def takes_each_lead(self) -> bool:
        return PRESET_PER_LEAD[self.preset] if self.per_lead is None else self.per_lead

    def records_in(self, body: Any) -> list[Any]:
        """The records of a parsed JSON body: the ``records`` expression's list, a list body's
        items, or the body itself."""
        expression = self.records or PRESET_RECORDS.get(self.preset)
        if expression is not None and isinstance(body, dict):
            found = compile_expression(expression).search(body)
            if isinstance(found, list):
                return found
        return body if isinstance(body, list) else [body]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


def _coerce(name: str, value: Any) -> Any:
    # CRMs send ids as numbers and numbers as text; LeadIn takes text ids and numeric counts.
    if name not in _NUMERIC and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def map_record(source: Source, record: Any) -> dict[str, Any]:
    """The lead (as the intake API's JSON) that ``record`` maps to; validation is the caller's."""
    lead: dict[str, Any] = {}
    for name, expression in source.mapping().items():
        value = compile_expression(expression).search(record)
        if not _missing(value):
            lead[name] = _coerce(name, value)
    for name, value in source.defaults.items():
        if name not in lead and not _missing(value):
            lead[name] = value
    custom: dict[str, Any] = {}
    for key, expression in source.custom.items():
        value = compile_expression(expression).search(record)
        if not _missing(value):
            custom[key] = value
    if custom:
        lead["custom"] = custom
    if source.activities is not None:
        activities = compile_expression(source.activities).search(record)
        if not _missing(activities):
            lead["activities"] = activities
    return lead


def map_touches(source: Source, record: Any) -> Any:
    """The touches ``record`` carries (as the touches API's JSON), or None; validation is the caller's."""
    if source.touches is None:
        return None
    found = compile_expression(source.touches).search(record)
    return None if _missing(found) else found


def map_outcome(source: Source, record: Any) -> Any:
    """The outcome ``record`` carries (as the outcome API's JSON), or None; validation is the caller's."""
    if source.outcome is None:
        return None
    found = compile_expression(source.outcome).search(record)
    if isinstance(found, dict) and _missing(found.get("outcome")):
        return None  # a deal template whose stage token came through empty: no outcome yet
    return None if _missing(found) else found
