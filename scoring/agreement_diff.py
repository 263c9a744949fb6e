"""What changed between two agreements, as facts a person can read (not TOML lines).

Pure: two ``Agreement``s in, a list of ``Change`` out. Each change names its kind (a message
id suffix the delivery layer words through the catalogue) and the values for its placeholders,
plus ``rule``: the scoring rule, event type or setting it touches, so the simulator can say
which leads each change moved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring.agreement import Agreement, SlaPolicy, SlaStep
from scoring.durations import format_duration


@dataclass(frozen=True)
class Change:
    """One difference. ``kind`` is e.g. ``rule_points``; ``values`` fill its sentence."""

    kind: str
    values: Mapping[str, Any] = field(default_factory=dict)
    rule: str | None = None  # the rule, event label or "threshold" a lead's score can show

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **{k: _plain(v) for k, v in self.values.items()}}


def _plain(value: Any) -> Any:
    # A condition stays the mapping the agreement writes (``Condition.as_json``).
    if isinstance(value, str | int | float | bool | dict) or value is None:
        return value
    return str(value)


def diff(old: Agreement, new: Agreement) -> list[Change]:
    """Every change from ``old`` to ``new``, in the order of the configuration file."""
    changes: list[Change] = []
    if old.definition.version != new.definition.version:
        changes.append(Change("version", {"old": old.definition.version, "new": new.definition.version}))
    changes += _qualification(old, new)
    changes += _explicit(old, new)
    changes += _implicit(old, new)
    changes += _people(old, new)
    changes += _sla(old.sla.policies, new.sla.policies)
    changes += _reasons(old, new)
    if old.commitment.mqls_per_quarter != new.commitment.mqls_per_quarter:
        changes.append(
            Change("commitment", {"old": old.commitment.mqls_per_quarter, "new": new.commitment.mqls_per_quarter})
        )
    changes += _added_removed(
        "reviewer", {e.lower() for e in old.definition.reviewers}, {e.lower() for e in new.definition.reviewers}
    )
    return changes


def _added_removed(kind: str, old: Iterable[str], new: Iterable[str], rule: bool = False) -> list[Change]:
    before, after = list(old), list(new)
    out = [Change(f"{kind}_added", {"name": n}, n if rule else None) for n in after if n not in before]
    return out + [Change(f"{kind}_removed", {"name": n}, n if rule else None) for n in before if n not in after]


def _qualification(old: Agreement, new: Agreement) -> list[Change]:
    a, b = old.qualification, new.qualification
    out = []
    if a.threshold != b.threshold:
        out.append(Change("threshold", {"old": a.threshold, "new": b.threshold}, "threshold"))
    out += _added_removed("required_field", a.required_fields, b.required_fields)
    old_dq = {d.reason: d for d in a.disqualifiers}
    new_dq = {d.reason: d for d in b.disqualifiers}
    out += _added_removed("disqualifier", old_dq, new_dq, rule=True)
    for reason in new_dq.keys() & old_dq.keys():
        if old_dq[reason].as_json() != new_dq[reason].as_json():
            out.append(
                Change(
                    "disqualifier_condition",
                    {"name": reason, "old": old_dq[reason].as_json(), "new": new_dq[reason].as_json()},
                    reason,
                )
            )
    return out


def _explicit(old: Agreement, new: Agreement) -> list[Change]:
    before = {r.name: r for r in old.scoring.explicit}
    after = {r.name: r for r in new.scoring.explicit}
    out = [
        Change("rule_added", {"name": n, "points": r.points, "condition": r.as_json()}, n)
        for n, r in after.items()
        if n not in before
    ]
    out += [Change("rule_removed", {"name": n, "points": r.points}, n) for n, r in before.items() if n not in after]
    for name in [n for n in after if n in before]:
        a, b = before[name], after[name]
        if a.points != b.points:
            out.append(Change("rule_points", {"name": name, "old": a.points, "new": b.points}, name))
        if a.as_json() != b.as_json():
            out.append(Change("rule_condition", {"name": name, "old": a.as_json(), "new": b.as_json()}, name))
    return out


def _implicit(old: Agreement, new: Agreement) -> list[Change]:
    a, b = old.scoring.implicit, new.scoring.implicit
    out = []
    if a.half_life != b.half_life:
        out.append(Change("half_life", {"old": _duration(a.half_life), "new": _duration(b.half_life)}, "half_life"))
    for event in b.events:
        label = b.events[event].label or event
        if event not in a.events:
            out.append(Change("event_added", {"name": label, "points": b.events[event].points}, label))
            continue
        x, y = a.events[event], b.events[event]
        if x.points != y.points:
            out.append(Change("event_points", {"name": label, "old": x.points, "new": y.points}, label))
        if x.cap != y.cap:
            out.append(Change("event_cap", {"name": label, "old": _cap(x.cap), "new": _cap(y.cap)}, label))
    out += [
        Change("event_removed", {"name": e.label or name}, e.label or name)
        for name, e in a.events.items()
        if name not in b.events
    ]
    out += _added_removed("fast_track", a.fast_track, b.fast_track, rule=True)
    return out


def _duration(value: Any) -> str:
    return format_duration(value) if value is not None else "none"


def _cap(value: int | None) -> str:
    return str(value) if value is not None else "none"


def _people(old: Agreement, new: Agreement) -> list[Change]:
    out = _added_removed("team", [t.name for t in old.teams], [t.name for t in new.teams])
    before = {r.email.lower(): (t.name, r) for t, r in old.reps()}
    after = {r.email.lower(): (t.name, r) for t, r in new.reps()}
    for email, (team, rep) in after.items():
        if email not in before:
            out.append(Change("rep_added", {"name": rep.name, "email": email, "team": team}))
            continue
        old_team, old_rep = before[email]
        if old_team != team:
            out.append(Change("rep_moved", {"name": rep.name, "old": old_team, "new": team}))
        if old_rep.capacity != rep.capacity:
            out.append(Change("rep_capacity", {"name": rep.name, "old": old_rep.capacity, "new": rep.capacity}))
        if old_rep.weight != rep.weight:
            out.append(Change("rep_weight", {"name": rep.name, "old": old_rep.weight, "new": rep.weight}))
    out += [
        Change("rep_removed", {"name": rep.name, "email": email, "team": team})
        for email, (team, rep) in before.items()
        if email not in after
    ]
    old_managers = {m.email.lower(): (t.name, m.name) for t in old.teams for m in t.managers}
    new_managers = {m.email.lower(): (t.name, m.name) for t in new.teams for m in t.managers}
    out += [
        Change("manager_added", {"name": n, "team": t}) for e, (t, n) in new_managers.items() if e not in old_managers
    ]
    out += [
        Change("manager_removed", {"name": n, "team": t}) for e, (t, n) in old_managers.items() if e not in new_managers
    ]
    out += _added_removed("marketer", [p.name for p in old.roles.marketing], [p.name for p in new.roles.marketing])
    return out


def _steps(steps: list[SlaStep]) -> str:
    return ", ".join(f"{s.action} after {format_duration(s.after)}" for s in steps) or "none"


def _sla(old: Mapping[str, SlaPolicy], new: Mapping[str, SlaPolicy]) -> list[Change]:
    out = _added_removed("sla_policy", old, new)
    for name in [n for n in new if n in old]:
        a, b = old[name], new[name]
        for chain in ("accept", "first_touch"):
            x, y = getattr(a, chain), getattr(b, chain)
            if x != y:
                out.append(Change("sla_steps", {"policy": name, "chain": chain, "old": _steps(x), "new": _steps(y)}))
        if a.business_hours != b.business_hours:
            out.append(Change("sla_business_hours", {"policy": name, "new": "on" if b.business_hours else "off"}))
        if a.when_exhausted != b.when_exhausted:
            out.append(Change("sla_exhausted", {"policy": name, "old": a.when_exhausted, "new": b.when_exhausted}))
        if a.cadence != b.cadence:
            out.append(Change("sla_cadence", {"policy": name, "old": _cadence(a), "new": _cadence(b)}))
    return out


def _cadence(policy: SlaPolicy) -> str:
    c = policy.cadence
    if c is None:
        return "none"
    return f"{c.calls} calls and {c.emails} emails in {format_duration(c.window)}"


def _reasons(old: Agreement, new: Agreement) -> list[Change]:
    before = {r.code: r for r in old.rejection_reasons}
    after = {r.code: r for r in new.rejection_reasons}
    out = [Change("reason_added", {"name": r.label, "outcome": r.outcome}) for c, r in after.items() if c not in before]
    out += [Change("reason_removed", {"name": r.label}) for c, r in before.items() if c not in after]
    for code in [c for c in after if c in before]:
        a, b = before[code], after[code]
        if a.label != b.label:
            out.append(Change("reason_label", {"old": a.label, "new": b.label}))
        if a.outcome != b.outcome:
            out.append(Change("reason_outcome", {"name": b.label, "old": a.outcome, "new": b.outcome}))
        if a.note_required != b.note_required:
            out.append(Change("reason_note", {"name": b.label, "new": "required" if b.note_required else "optional"}))
    return out
