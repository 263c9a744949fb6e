"""A routing decision in words: its trace, why a rep was skipped and what matched.

``scoring.route`` records each step as a code with plain values (stored on the lead as JSON);
this words them when a trace is read. A trace stored before the steps were typed is a list of
English sentences, shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.text import N_, _
from handlers.text.conditions import condition_text, miss_text
from handlers.text.reach import unreachable_text
from scoring.route import Matched, MatchedBy, SkippedRep, Step, TraceStep, Unavailable, Why

STEPS = {
    Step.OWNER: N_("route.owner"),
    Step.OWNER_UNAVAILABLE: N_("route.owner_unavailable"),
    Step.RULE_MISSED: N_("route.rule_missed"),
    Step.RULE_TEAM_MISSING: N_("route.rule_team_missing"),
    Step.RULE_MATCHED: N_("route.rule_matched"),
    Step.DEFAULT_TEAM: N_("route.default_team"),
    Step.CHANNEL_TEAM: N_("route.channel_team"),
    Step.NOBODY_TO_CHANNEL: N_("route.nobody_to_channel"),
    Step.NOBODY_UNASSIGNED: N_("route.nobody_unassigned"),
    Step.SKIPPED: N_("route.skipped"),
    Step.NOBODY_IN_HOURS: N_("route.nobody_in_hours"),
    Step.ROUND_ROBIN: N_("route.round_robin"),
    Step.ALL_HAD_LEAD: N_("route.all_had_lead"),
    Step.REASSIGNED_BY: N_("route.reassigned_by"),
}
WHYS = {
    Why.HAD_LEAD: N_("route.why.had_lead"),
    Why.OUT_OF_OFFICE: N_("route.why.out_of_office"),
    Why.AT_CAPACITY: N_("route.why.at_capacity"),
    Why.OUT_OF_HOURS: N_("route.why.out_of_hours"),
}
MATCHED = {
    MatchedBy.ACCOUNT_OWNER: N_("route.matched.account_owner"),
    MatchedBy.RULE: N_("route.matched.rule"),
    MatchedBy.DEFAULT_TEAM: N_("route.matched.default_team"),
    MatchedBy.NOBODY_LEFT: N_("route.matched.nobody_left"),
    MatchedBy.MANAGER: N_("route.matched.manager"),
}


def why_text(why: Unavailable | Mapping[str, Any] | str) -> str:
    """Why a rep could not take the lead, e.g. "at capacity (3/3)"."""
    if isinstance(why, str):  # stored before the reasons were typed
        return why
    values = dict(why.as_json() if isinstance(why, Unavailable) else why)
    code = Why(values.pop("why"))
    if code is Why.UNREACHABLE:
        return unreachable_text(values.get("unreachable", {}))
    return _(WHYS[code], **values)


def step_text(step: TraceStep | Mapping[str, Any] | str) -> str:
    """One step of a routing trace as a sentence."""
    if isinstance(step, str):  # stored before the steps were typed
        return step
    values = dict(step.as_json() if isinstance(step, TraceStep) else step)
    code = Step(values.pop("step"))
    if "why" in values:
        values["why"] = why_text(values["why"])
    if code is Step.RULE_MISSED:
        values["why"] = "; ".join(miss_text(m["condition"], m["miss"]) for m in values.pop("misses", []))
    if code is Step.RULE_MATCHED:
        values["conditions"] = "; ".join(condition_text(c) for c in values["conditions"])
    if code is Step.ROUND_ROBIN:
        values["candidates"] = ", ".join(values["candidates"])
        values["weights"] = ", ".join(str(w) for w in values["weights"])
    return _(STEPS[code], **values)


def matched_text(matched: Matched | Mapping[str, Any] | str) -> str:
    """What decided the team, e.g. "rule 'Europe goes to EMEA'"."""
    if isinstance(matched, str):
        return matched
    values = matched.as_json() if isinstance(matched, Matched) else dict(matched)
    return _(MATCHED[MatchedBy(values["by"])], name=values.get("name", ""))


def skipped_text(skipped: SkippedRep) -> dict[str, str]:
    return {"email": skipped.email, "reason": why_text(skipped.reason)}


def routing_words(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored routing record (``handlers.handoff.offer.routing_record``) as the API shows it:
    ``matched``, each ``trace`` step and each skipped rep's ``reason`` as sentences."""
    if record is None:
        return None
    worded = dict(record)
    if "matched" in worded:
        worded["matched"] = matched_text(worded["matched"])
    worded["trace"] = [step_text(step) for step in record.get("trace", [])]
    worded["skipped"] = [
        {"email": s.get("email"), "reason": why_text(s.get("reason", ""))} for s in record.get("skipped", [])
    ]
    return worded
