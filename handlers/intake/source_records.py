"""One record of a source's payload, checked: the lead it maps to, its touches and outcome, or its problems.

``POST /api/sources/{name}`` and ``baton intake replay`` both check records here, so a replayed
intake failure is judged exactly as the request that brought it would be judged today.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from handlers.intake.input import InvalidActivities, LeadIn, check_activities
from handlers.intake.outcomes import OutcomeIn
from handlers.intake.touch_input import TouchIn
from scoring.agreement import Agreement
from scoring.agreement_check import format_path
from scoring.sources import Source, map_outcome, map_record, map_touches

_touches = TypeAdapter(list[TouchIn])


@dataclass
class Checked:
    """A record's lead and touches when it maps; else ``problems`` as (field, message)."""

    record: Any
    lead: LeadIn | None = None
    touches: list[TouchIn] = field(default_factory=list)
    outcome: OutcomeIn | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def external_id(self) -> str | None:
        if self.lead is not None:
            return self.lead.external_id
        return None


def pydantic_problems(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[tuple[str, str]]:
    """(field, message) per error, worded as the HTTP API words them."""
    out = []
    for error in exc.errors():
        message = {"extra_forbidden": "unknown field", "missing": "required"}.get(error["type"], error["msg"])
        if "email address" in message:
            message = "not an email address"
        out.append((format_path(prefix + tuple(error["loc"])), message.removeprefix("Value error, ")))
    return out


def _mapped_from(source: Source, where: str) -> str:
    expression = source.mapping().get(where.split(".")[0].split("[")[0])
    return f" (mapped from {json.dumps(expression)})" if expression else ""


def check_record(agreement: Agreement, now: datetime, source: Source, record: Any) -> Checked:
    """Map ``record`` through ``source``'s current mapping and validate it as intake would."""
    checked = Checked(record)
    if not isinstance(record, dict):
        checked.problems.append(("(top level)", "not an object; each record is a JSON object"))
        return checked
    try:
        lead = LeadIn.model_validate(map_record(source, record))
    except ValidationError as exc:
        checked.problems += [(where, m + _mapped_from(source, where)) for where, m in pydantic_problems(exc)]
    else:
        try:
            check_activities(agreement, now, [(f"activities[{j}]", a) for j, a in enumerate(lead.activities)])
        except InvalidActivities as exc:
            checked.problems += [tuple(p.split(": ", 1)) for p in exc.problems]  # type: ignore[misc]
        else:
            checked.lead = lead
    touches = map_touches(source, record)
    if touches is not None:
        try:
            checked.touches = _touches.validate_python(touches if isinstance(touches, list) else [touches])
        except ValidationError as exc:
            checked.problems += pydantic_problems(exc, ("touches",))
    outcome = map_outcome(source, record)
    if outcome is not None:
        try:
            checked.outcome = OutcomeIn.model_validate(outcome)
        except ValidationError as exc:
            checked.problems += pydantic_problems(exc, ("outcome",))
    if checked.problems:
        checked.lead, checked.touches, checked.outcome = None, [], None
    return checked


def identity(record: Any, source: Source) -> tuple[str | None, str | None]:
    """The external id and email a refused record claims (for listing and erasure), if any."""
    if not isinstance(record, dict):
        return None, None
    lead = map_record(source, record)
    external_id, email = lead.get("external_id"), lead.get("email")
    return (
        str(external_id)[:128] if isinstance(external_id, str | int) else None,
        email.strip().lower()[:320] if isinstance(email, str) else None,
    )
