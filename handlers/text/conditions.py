"""A condition of the agreement, and how a lead misses it, in words.

``scoring.conditions.Condition`` tests; this words it, for ``define``, the score breakdown,
the routing trace and the agreement diff. Stored traces and breakdowns keep the condition as
the agreement writes it (``Condition.as_json``), so they are worded again when read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.text import _
from scoring.conditions import Condition, Miss


def number(value: float) -> str:
    """A bound as the agreement's people write it: 1,000 and 2.5."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def as_condition(value: Condition | Mapping[str, Any]) -> Condition:
    return value if isinstance(value, Condition) else Condition.model_validate(dict(value))


def condition_text(value: Condition | Mapping[str, Any]) -> str:
    """What the condition asks, e.g. "country is one of DE, FR"."""
    c = as_condition(value)
    if c.in_ is not None:
        return _("condition.in", field=c.field, values=", ".join(str(v) for v in c.in_))
    if c.match is not None:
        return _("condition.match", field=c.field, pattern=c.match)
    if c.min is not None and c.below is not None:
        return _("condition.between", field=c.field, min=number(c.min), below=number(c.below))
    if c.min is not None:
        return _("condition.at_least", field=c.field, min=number(c.min))
    return _("condition.below", field=c.field, below=number(c.below or 0))


def miss_text(value: Condition | Mapping[str, Any], miss: Miss | str) -> str:
    """Why a lead does not meet the condition, without its value (it may be personal data)."""
    c, how = as_condition(value), Miss(miss)
    if how is Miss.NOT_GIVEN:
        return _("condition.miss.not_given", field=c.field)
    if how is Miss.NOT_IN:
        values = ", ".join(str(v) for v in c.in_ or ())
        if len(c.in_ or ()) == 1:
            return _("condition.miss.not_in_one", field=c.field, values=values)
        return _("condition.miss.not_in", field=c.field, values=values)
    if how is Miss.NO_MATCH:
        return _("condition.miss.no_match", field=c.field, pattern=c.match)
    if how is Miss.NOT_A_NUMBER:
        return _("condition.miss.not_a_number", field=c.field)
    if c.min is not None and c.below is not None:
        return _("condition.miss.not_between", field=c.field, min=number(c.min), below=number(c.below))
    if c.min is not None:
        return _("condition.miss.below", field=c.field, min=number(c.min))
    return _("condition.miss.at_or_above", field=c.field, below=number(c.below or 0))
