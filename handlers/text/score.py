"""A score's breakdown and the reasons a lead did not qualify, in words.

``scoring.score`` gives each line's detail as plain values (stored on the lead); this words
them when a card, ``lead`` or the API shows them. A detail stored before it was typed is an
English sentence, shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.text import _, n_
from handlers.text.conditions import condition_text
from scoring.score import ScoreResult


def detail_text(detail: Mapping[str, Any] | str | None) -> str:
    """One breakdown line's detail, e.g. "3 events at +5 points, decayed (half-life 30d)"."""
    if not detail:
        return ""
    if isinstance(detail, str):
        return detail
    if "condition" in detail:
        return condition_text(detail["condition"])
    parts = [n_("score.detail.events", int(detail.get("events", 0)), points=f"{int(detail.get('points', 0)):+d}")]
    if detail.get("half_life"):
        parts.append(_("score.detail.decayed", half_life=detail["half_life"]))
    if detail.get("cap") is not None:
        parts.append(_("score.detail.capped", cap=detail["cap"]))
    return _("score.detail.separator").join(parts)


def explanation_words(explanation: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored explanation as the API shows it: each line's ``detail`` as a sentence."""
    if explanation is None:
        return None
    worded = dict(explanation)
    worded["lines"] = [{**line, "detail": detail_text(line.get("detail"))} for line in explanation.get("lines", [])]
    return worded


def not_qualified_reasons(result: ScoreResult) -> list[str]:
    """Sentences saying why the lead is not an MQL; empty when it is."""
    if result.qualified:
        return []
    reasons = list(result.disqualifiers)
    if result.missing_fields:
        reasons.append(_("score.not_qualified.missing", fields=", ".join(result.missing_fields)))
    if result.below_threshold:
        reasons.append(_("score.not_qualified.below", score=result.total, threshold=result.threshold))
    return reasons
