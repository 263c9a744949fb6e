"""A change between two agreements, in words (``scoring.agreement_diff.Change`` → a sentence)."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.text import N_, _
from handlers.text.conditions import condition_text
from scoring.agreement_diff import Change

# One sentence per kind of change; the values of a ``Change`` fill its placeholders.
SENTENCES = {
    "version": N_("agreement.change.version"),
    "threshold": N_("agreement.change.threshold"),
    "required_field_added": N_("agreement.change.required_field_added"),
    "required_field_removed": N_("agreement.change.required_field_removed"),
    "disqualifier_added": N_("agreement.change.disqualifier_added"),
    "disqualifier_removed": N_("agreement.change.disqualifier_removed"),
    "disqualifier_condition": N_("agreement.change.disqualifier_condition"),
    "rule_added": N_("agreement.change.rule_added"),
    "rule_removed": N_("agreement.change.rule_removed"),
    "rule_points": N_("agreement.change.rule_points"),
    "rule_condition": N_("agreement.change.rule_condition"),
    "half_life": N_("agreement.change.half_life"),
    "event_added": N_("agreement.change.event_added"),
    "event_removed": N_("agreement.change.event_removed"),
    "event_points": N_("agreement.change.event_points"),
    "event_cap": N_("agreement.change.event_cap"),
    "fast_track_added": N_("agreement.change.fast_track_added"),
    "fast_track_removed": N_("agreement.change.fast_track_removed"),
    "team_added": N_("agreement.change.team_added"),
    "team_removed": N_("agreement.change.team_removed"),
    "rep_added": N_("agreement.change.rep_added"),
    "rep_removed": N_("agreement.change.rep_removed"),
    "rep_moved": N_("agreement.change.rep_moved"),
    "rep_capacity": N_("agreement.change.rep_capacity"),
    "rep_weight": N_("agreement.change.rep_weight"),
    "manager_added": N_("agreement.change.manager_added"),
    "manager_removed": N_("agreement.change.manager_removed"),
    "marketer_added": N_("agreement.change.marketer_added"),
    "marketer_removed": N_("agreement.change.marketer_removed"),
    "sla_policy_added": N_("agreement.change.sla_policy_added"),
    "sla_policy_removed": N_("agreement.change.sla_policy_removed"),
    "sla_steps": N_("agreement.change.sla_steps"),
    "sla_business_hours": N_("agreement.change.sla_business_hours"),
    "sla_exhausted": N_("agreement.change.sla_exhausted"),
    "sla_cadence": N_("agreement.change.sla_cadence"),
    "reason_added": N_("agreement.change.reason_added"),
    "reason_removed": N_("agreement.change.reason_removed"),
    "reason_label": N_("agreement.change.reason_label"),
    "reason_outcome": N_("agreement.change.reason_outcome"),
    "reason_note": N_("agreement.change.reason_note"),
    "commitment": N_("agreement.change.commitment"),
    "reviewer_added": N_("agreement.change.reviewer_added"),
    "reviewer_removed": N_("agreement.change.reviewer_removed"),
}


def change_text(change: Change) -> str:
    """The change as one sentence; a condition (a mapping, ``Condition.as_json``) in words."""
    values = {k: condition_text(v) if isinstance(v, Mapping) else v for k, v in change.values.items()}
    return _(SENTENCES[change.kind], **values)


def changes_text(changes: list[Change]) -> list[str]:
    """Every change as a sentence; one line saying there is none when the list is empty."""
    return [change_text(c) for c in changes] or [_("agreement.change.none")]
