"""``define <term>``: the shared definitions, rendered from the agreement the engine runs.

Nothing here is hand-written prose about thresholds or points: every number
comes from the live ``Agreement``, so what Baton says and does cannot disagree.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from handlers.text import n_
from handlers.text.words import version_words
from handlers.views.notice import Field, Notice, Table
from scoring.agreement import Agreement, SlaPolicy, Stage
from scoring.durations import format_duration

_SYNONYMS = {
    "mql": "mql",
    "mqls": "mql",
    "marketing qualified lead": "mql",
    "qualified lead": "mql",
    "lead definition": "mql",
    "definition": "mql",
    "qualification": "mql",
    "sal": "sal",
    "sales accepted lead": "sal",
    "sql": "stage:sql",
    "sales qualified lead": "stage:sql",
    "icp": "icp",
    "ideal customer profile": "icp",
    "ideal customer": "icp",
    "sla": "sla",
    "slas": "sla",
    "service level agreement": "sla",
    "the sla": "sla",
    "scoring": "scoring",
    "score": "scoring",
    "lead scoring": "scoring",
    "points": "scoring",
    "threshold": "scoring",
    "fast track": "scoring",
    "required fields": "required_fields",
    "required": "required_fields",
    "fields": "required_fields",
    "rejection reasons": "reasons",
    "rejection reason": "reasons",
    "reasons": "reasons",
    "rejection": "reasons",
    "reject reasons": "reasons",
}


def _terms(agreement: Agreement) -> dict[str, str]:
    terms = dict(_SYNONYMS)
    for stage, text in agreement.stages.text.items():
        terms.setdefault(stage.value, f"stage:{stage.value}")
        terms.setdefault(text.label.lower(), terms.get(stage.value, f"stage:{stage.value}"))
    return terms


def find_term(agreement: Agreement, raw: str, cutoff: float = 0.7) -> str | None:
    """The topic ``raw`` names, allowing plurals and typos; None if nothing is close."""
    needle = " ".join(raw.lower().replace("-", " ").replace("_", " ").split()).strip(" ?.!")
    terms = _terms(agreement)
    if needle in terms:
        return terms[needle]
    close = difflib.get_close_matches(needle, list(terms), n=1, cutoff=cutoff)
    return terms[close[0]] if close else None


def version_line(agreement: Agreement) -> str:
    definition = agreement.definition
    version, months = version_words(definition.version), definition.review_every_months
    if definition.last_changed:
        changed = f"{definition.last_changed:%-d %b %Y}"
        return n_("define.version_line_changed", months, version=version, changed=changed)
    return n_("define.version_line", months, version=version)


def define(agreement: Agreement, raw: str) -> Notice:
    topic = find_term(agreement, raw)
    if topic is None:
        known = "MQL, SAL, SQL, ICP, SLA, scoring, required fields, rejection reasons, " + ", ".join(
            t.label for s, t in agreement.stages.text.items() if s not in (Stage.MQL, Stage.SAL, Stage.SQL)
        )
        return Notice(title=f"I don't have a definition for “{raw}”.", lines=[f"I can define: {known}."])
    builder = _BUILDERS.get(topic)
    notice = builder(agreement) if builder else _stage(agreement, Stage(topic.split(":", 1)[1]))
    notice.context = version_line(agreement)
    return notice


def _stage(agreement: Agreement, stage: Stage) -> Notice:
    text = agreement.stages.text[stage]
    return Notice(title=f"{text.label}", lines=[text.description] if text.description else [])


def _mql(agreement: Agreement) -> Notice:
    q = agreement.qualification
    notice = _stage(agreement, Stage.MQL)
    notice.lines.append(
        f"A lead becomes an MQL when it has every required field ({', '.join(q.required_fields)}), "
        f"no disqualifier applies, and it scores at least {q.threshold} points."
    )
    fast = _fast_track(agreement)
    if fast:
        notice.lines.append(f"These fast-track it to sales whatever the score: {fast}.")
    notice.fields = [Field(label="Disqualifiers", value=_disqualifiers(agreement))]
    notice.lines.append("How points are earned: `define scoring`.")
    return notice


def _sal(agreement: Agreement) -> Notice:
    notice = _stage(agreement, Stage.SAL)
    if agreement.stages.skip_sal:
        notice.lines.append("This agreement skips the SAL stage: accepted leads go straight on to SQL.")
    notice.lines.append("How fast a lead must be accepted and first touched: `define sla`.")
    return notice


def _icp(agreement: Agreement) -> Notice:
    icp = agreement.qualification.icp or "The agreement does not describe the ideal customer profile yet."
    return Notice(
        title="Ideal customer profile (ICP)",
        lines=[icp],
        fields=[Field(label="Disqualifiers", value=_disqualifiers(agreement))],
    )


def _disqualifiers(agreement: Agreement) -> str:
    items = agreement.qualification.disqualifiers
    return "; ".join(f"{d.reason} ({d.describe()})" for d in items) or "none"


def _fast_track(agreement: Agreement) -> str:
    events = agreement.scoring.implicit.events
    return ", ".join((events[e].label if e in events else "") or e for e in agreement.scoring.implicit.fast_track)


def _scoring(agreement: Agreement) -> Notice:
    implicit = agreement.scoring.implicit
    notice = Notice(
        title="Lead scoring",
        lines=[
            f"Explicit points for fit plus implicit points for behaviour; {agreement.qualification.threshold} "
            "points or more makes an MQL."
        ],
    )
    if implicit.half_life is not None:
        notice.lines.append(f"Behaviour points halve every {format_duration(implicit.half_life)}.")
    fast = _fast_track(agreement)
    if fast:
        notice.lines.append(f"Fast-track events (straight to sales): {fast}.")
    notice.tables = [
        Table(
            columns=["Fit rule", "When", "Points"],
            rows=[[r.name, r.describe(), f"{r.points:+d}"] for r in agreement.scoring.explicit],
        ),
        Table(
            columns=["Behaviour", "Points each", "Cap"],
            rows=[
                [e.label or code, f"{e.points:+d}", str(e.cap) if e.cap is not None else "none"]
                for code, e in implicit.events.items()
            ],
        ),
    ]
    notice.fields = [Field(label="Disqualifiers", value=_disqualifiers(agreement))]
    return notice


def _required(agreement: Agreement) -> Notice:
    fields = agreement.qualification.required_fields
    return Notice(
        title="Required fields",
        lines=[f"Marketing fills these before a lead may be handed to sales: {', '.join(fields)}."],
    )


def _reasons(agreement: Agreement) -> Notice:
    return Notice(
        title="Rejection reasons",
        lines=["A rep rejecting a lead picks one; the lead is recycled to nurture or disqualified."],
        tables=[
            Table(
                columns=["Reason", "Outcome", "Note"],
                rows=[
                    [r.label, r.outcome, "required" if r.note_required else "optional"]
                    for r in agreement.rejection_reasons
                ],
            )
        ],
    )


def _steps(steps: list[tuple[str, str]]) -> str:
    return ", ".join(f"{action} after {after}" for after, action in steps) or "none"


def _policy(name: str, policy: SlaPolicy, teams: list[str]) -> Field:
    clock = "working hours" if policy.business_hours else "round the clock"
    accept = _steps([(format_duration(s.after), s.action) for s in policy.accept])
    touch = _steps([(format_duration(s.after), s.action) for s in policy.first_touch])
    value = f"accept: {accept}; if nobody accepts: {policy.when_exhausted}; first touch: {touch}; {clock}"
    if policy.cadence:
        c = policy.cadence
        value += f"; at least {c.calls} calls and {c.emails} emails within {format_duration(c.window)}"
    used = f" (teams: {', '.join(teams)})" if teams else ""
    return Field(label=f"Policy {name}{used}", value=value)


def _sla(agreement: Agreement) -> Notice:
    per_quarter = agreement.commitment.mqls_per_quarter
    notice = Notice(title="Service level agreement (SLA)")
    if per_quarter:
        notice.lines.append(
            f"Marketing commits to {per_quarter} MQLs a quarter (about {round(per_quarter / 13)} "
            "a week), each with every required field."
        )
    notice.lines.append("Sales commits to accept, touch and follow up on every lead within these steps:")
    for name, policy in agreement.sla.policies.items():
        teams = [t.name for t in agreement.teams if t.sla == name]
        teams += [f"{t.name} fast-track" for t in agreement.teams if t.fast_track_sla == name]
        notice.fields.append(_policy(name, policy, teams))
    return notice


_BUILDERS: dict[str, Callable[[Agreement], Notice]] = {
    "mql": _mql,
    "sal": _sal,
    "icp": _icp,
    "scoring": _scoring,
    "required_fields": _required,
    "reasons": _reasons,
    "sla": _sla,
}
