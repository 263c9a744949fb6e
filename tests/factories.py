"""Factories for the things tests talk about: agreements, leads, activities."""

from __future__ import annotations

import copy
import itertools
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scoring.agreement import Agreement
from scoring.agreement_check import load_agreement
from scoring.lead import Activity, LeadData

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "baton.example.toml"
_EXAMPLE: dict[str, Any] = tomllib.loads(EXAMPLE_CONFIG.read_text())
_ids = itertools.count(1)


def agreement_data(**overrides: Any) -> dict[str, Any]:
    """The example configuration as a dict, with top-level sections replaced by ``overrides``."""
    data = copy.deepcopy(_EXAMPLE)
    data.update(copy.deepcopy(overrides))
    return data


def make_agreement(**overrides: Any) -> Agreement:
    return load_agreement(agreement_data(**overrides))


def lead_payload(**fields: Any) -> dict[str, Any]:
    """A JSON-ready lead that qualifies under the example agreement unless told otherwise."""
    n = next(_ids)
    payload: dict[str, Any] = {
        "external_id": f"crm-{n}",
        "email": f"lead{n}@prospect{n}.example",
        "first_name": "Pat",
        "last_name": f"Prospect{n}",
        "title": "VP Sales",
        "company": f"Prospect {n} Inc",
        "employees": 800,
        "industry": "software",
        "country": "US",
        "source": "webinar",
        "campaign": "Q4 pipeline webinar",
    }
    payload.update(fields)
    return {k: v for k, v in payload.items() if v is not None}


def make_lead(**fields: Any) -> LeadData:
    return LeadData.model_validate(lead_payload(**fields))


def make_activity(type: str, at: datetime | None = None) -> Activity:
    return Activity(type=type, occurred_at=at or datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
