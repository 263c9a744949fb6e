"""The lead as the engine sees it: plain data, no storage, no clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

from email_validator import EmailNotValidError
from email_validator import validate_email as validate_address
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError

# Lead fields the intake API accepts by name; anything else goes under `custom`.
LEAD_FIELDS: tuple[str, ...] = (
    "external_id",
    "email",
    "first_name",
    "last_name",
    "title",
    "company",
    "employees",
    "revenue",
    "industry",
    "country",
    "source",
    "campaign",
    "phone",
    "website",
)

CustomValue = str | int | float | bool
# Limits that keep a lead small and storable on every database (PostgreSQL refuses NUL in text).
MAX_EMPLOYEES = 10**8
MAX_REVENUE = 1e15
MAX_CUSTOM_KEYS = 50
MAX_CUSTOM_KEY = 64
MAX_CUSTOM_TEXT = 2000
MAX_CUSTOM_INT = 2**53  # integers beyond this do not survive a JSON round trip through most CRMs

# A one-line field (ids, names, company...) takes no control character at all (C0, DEL, C1, the
# Unicode line and paragraph separators, lone surrogates); free text may hold tabs and line breaks.
_NOT_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# A plain ASCII dot-atom local part and a domain: the shape of nearly every lead's address.
_PLAIN_ADDRESS = re.compile(r"(?P<local>[A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*)@(?P<domain>[A-Za-z0-9.-]+)")


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str | None:
    """The domain as email_validator normalises it, or None if it refuses it (cached: leads share
    domains, and the domain checks are most of the library's cost, about 60 µs an address)."""
    try:
        return validate_address(f"postmaster@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


def _email(value: Any) -> str:
    """pydantic's EmailStr check, with the same result, and fast for the plain shape."""
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    value = value.strip()
    plain = _PLAIN_ADDRESS.fullmatch(value)
    if plain and len(plain["local"]) <= 64 and len(value) <= 254:
        domain = _checked_domain(plain["domain"])
        if domain is not None:
            return f"{plain['local']}@{domain}"
    return validate_email(value)[1]  # anything unusual, and every refusal, gets the library's own answer


def email_problem(message: str) -> str:
    """A refused address's problem with the library's reason kept: ``not an email address: the part
    after the @-sign is a special-use or reserved name …`` (a ``.test`` domain is refused, and says why)."""
    _head, _sep, reason = message.partition("email address: ")
    reason = reason.strip().rstrip(".")
    if reason.lower().startswith("an email address "):
        reason = "it " + reason[len("an email address ") :]
    return f"not an email address: {reason[:1].lower()}{reason[1:]}" if reason else "not an email address"


Email = Annotated[str, PlainValidator(_email), WithJsonSchema({"type": "string", "format": "email"})]


def _refuse(character: str, kind: str) -> PydanticCustomError:
    return PydanticCustomError(
        "control_character",
        "{kind} may not hold the control character {code}",
        {"kind": kind, "code": f"U+{ord(character):04X}"},
    )


def one_line(value: str) -> str:
    """Refuses control characters, line breaks included (ids, names and the like)."""
    if (bad := _NOT_IN_LINE.search(value)) is not None:
        raise _refuse(bad.group(), "a one-line field")
    return value


def free_text(value: str) -> str:
    """Refuses control characters other than tab and line breaks (notes, custom text)."""
    if (bad := _NOT_IN_TEXT.search(value)) is not None:
        raise _refuse(bad.group(), "text")
    return value


def _no_bool(value: Any) -> Any:
    # pydantic would take true as 1; a yes/no is never a head count or an amount.
    if isinstance(value, bool):
        raise PydanticCustomError("bool_not_number", "a number is required, not true/false")
    return value


def _custom_value(value: Any) -> CustomValue:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_CUSTOM_INT:
            raise PydanticCustomError("custom_int", "integer beyond ±2^53")
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise PydanticCustomError("custom_float", "not a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_CUSTOM_TEXT:
            raise PydanticCustomError("custom_text", "text longer than {limit} characters", {"limit": MAX_CUSTOM_TEXT})
        return free_text(value)
    raise PydanticCustomError("custom_type", "must be text, a number or true/false (no objects or lists)")


Line = Annotated[str, AfterValidator(one_line)]
CustomKey = Annotated[str, Field(min_length=1, max_length=MAX_CUSTOM_KEY), AfterValidator(one_line)]
Custom = Annotated[
    CustomValue, PlainValidator(_custom_value), WithJsonSchema({"type": ["string", "number", "boolean"]})
]


class LeadData(BaseModel):
    """A lead as it arrives from the CRM or marketing automation; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: Line = Field(min_length=1, max_length=128)
    email: Email
    first_name: Line | None = Field(default=None, max_length=200)
    last_name: Line | None = Field(default=None, max_length=200)
    title: Line | None = Field(default=None, max_length=300)
    company: Line | None = Field(default=None, max_length=300)
    employees: Annotated[int | None, BeforeValidator(_no_bool)] = Field(default=None, ge=0, le=MAX_EMPLOYEES)
    revenue: Annotated[float | None, BeforeValidator(_no_bool)] = Field(
        default=None, ge=0, le=MAX_REVENUE, allow_inf_nan=False
    )
    industry: Line | None = Field(default=None, max_length=200)
    country: Line | None = Field(default=None, max_length=100)
    source: Line | None = Field(default=None, max_length=200)
    campaign: Line | None = Field(default=None, max_length=300)
    phone: Line | None = Field(default=None, max_length=50)
    website: Line | None = Field(default=None, max_length=500)
    custom: dict[CustomKey, Custom] = Field(default_factory=dict, max_length=MAX_CUSTOM_KEYS)

    @property
    def name(self) -> str:
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or self.email

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1].lower()

    def field(self, name: str) -> Any:
        """Value of a standard or custom field by name, ``None`` when absent or empty."""
        value = getattr(self, name) if name in LEAD_FIELDS else self.custom.get(name)
        return None if value == "" else value


@dataclass(frozen=True)
class Activity:
    """One behaviour event (webinar attended, pricing page viewed...)."""

    type: str
    occurred_at: datetime
