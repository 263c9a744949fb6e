"""Behaviour points fade as time passes: whether a stored score is still today's score.

Pure: the stored total, the lead, its activities, the agreement and ``now`` go in. ``score``
already decays every event by its age at ``now``; this only says when a refresh is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from scoring.agreement import Agreement
from scoring.lead import Activity, LeadData
from scoring.score import ScoreResult, score


def decays(agreement: Agreement) -> bool:
    """True when scores change with time alone (a half-life is configured)."""
    return agreement.scoring.implicit.half_life is not None


def refreshed(
    stored_total: int, lead: LeadData, activities: Sequence[Activity], agreement: Agreement, now: datetime
) -> ScoreResult | None:
    """Today's score when it differs from ``stored_total``; None when the stored one is current."""
    if not activities or not decays(agreement):
        return None
    result = score(lead, activities, agreement, now)
    return result if result.total != stored_total else None
