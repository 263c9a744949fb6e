"""The lead as the engine sees it: plain data, no storage, no clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

from email_validator import EmailNotValidError
from email_validator import validate_email as validate_address
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError

# Lead fields the intake API accepts by name; anything else goes under `custom`.
LEAD_FIELDS: tuple[str, ...] = (
    "external_id", "email", "first_name", "last_name", "title", "company", "employees",
    "revenue", "industry", "country", "source", "campaign", "phone", "website",
)

CustomValue = str | int | float | bool
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


Email = Annotated[str, PlainValidator(_email), WithJsonSchema({"type": "string", "format": "email"})]


class LeadData(BaseModel):
    """A lead as it arrives from the CRM or marketing automation; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=128)
    email: Email
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=300)
    company: str | None = Field(default=None, max_length=300)
    employees: int | None = Field(default=None, ge=0)
    revenue: float | None = Field(default=None, ge=0)
    industry: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=100)
    source: str | None = Field(default=None, max_length=200)
    campaign: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=50)
    website: str | None = Field(default=None, max_length=500)
    custom: dict[str, CustomValue] = Field(default_factory=dict)

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
