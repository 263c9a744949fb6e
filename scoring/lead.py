"""The lead as the engine sees it: plain data, no storage, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field

# Lead fields the intake API accepts by name; anything else goes under `custom`.
LEAD_FIELDS: tuple[str, ...] = (
    "external_id", "email", "first_name", "last_name", "title", "company", "employees",
    "revenue", "industry", "country", "source", "campaign", "phone", "website",
)

CustomValue = str | int | float | bool


class LeadData(BaseModel):
    """A lead as it arrives from the CRM or marketing automation; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=128)
    email: EmailStr
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
