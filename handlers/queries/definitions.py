"""``define <term>``: the shared definitions, rendered from the agreement the engine runs.

Nothing here is hand-written prose about thresholds or points: every number
comes from the live ``Agreement``, so what Baton says and does cannot disagree.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from handlers.text import N_, _, n_
from handlers.text.conditions import condition_text
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
        stages = ", ".join(
            t.label for s, t in agreement.stages.text.items() if s not in (Stage.MQL, Stage.SAL, Stage.SQL)
        )
        return Notice(title=_("define.unknown", term=raw), lines=[_("define.known", stages=stages)])
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
    notice.lines.append(_("define.mql_rule", fields=", ".join(q.required_fields), threshold=q.threshold))
    fast = _fast_track(agreement)
    if fast:
        notice.lines.append(_("define.mql_fast_track", events=fast))
    notice.fields = [Field(label=_("define.disqualifiers"), value=_disqualifiers(agreement))]
    notice.lines.append(_("define.mql_points"))
    return notice


def _sal(agreement: Agreement) -> Notice:
    notice = _stage(agreement, Stage.SAL)
    if agreement.stages.skip_sal:
        notice.lines.append(_("define.sal_skipped"))
    notice.lines.append(_("define.sal_how_fast"))
    return notice


def _icp(agreement: Agreement) -> Notice:
    icp = agreement.qualification.icp or _("define.icp_missing")
    return Notice(
        title=_("define.icp_title"),
        lines=[icp],
        fields=[Field(label=_("define.disqualifiers"), value=_disqualifiers(agreement))],
    )


def _disqualifiers(agreement: Agreement) -> str:
    items = agreement.qualification.disqualifiers
    return "; ".join(_("define.disqualifier", reason=d.reason, rule=condition_text(d)) for d in items) or _(
        "figure.none"
    )


def _fast_track(agreement: Agreement) -> str:
    events = agreement.scoring.implicit.events
    return ", ".join((events[e].label if e in events else "") or e for e in agreement.scoring.implicit.fast_track)


def _scoring(agreement: Agreement) -> Notice:
    implicit = agreement.scoring.implicit
    notice = Notice(
        title=_("define.scoring_title"),
        lines=[_("define.scoring_rule", threshold=agreement.qualification.threshold)],
    )
    if implicit.half_life is not None:
        notice.lines.append(_("define.half_life", every=format_duration(implicit.half_life)))
    fast = _fast_track(agreement)
    if fast:
        notice.lines.append(_("define.fast_track_events", events=fast))
    notice.tables = [
        Table(
            columns=[_("define.fit_rule"), _("define.when"), _("define.points")],
            rows=[[r.name, condition_text(r), f"{r.points:+d}"] for r in agreement.scoring.explicit],
        ),
        Table(
            columns=[_("define.behaviour"), _("define.points_each"), _("define.cap")],
            rows=[
                [e.label or code, f"{e.points:+d}", str(e.cap) if e.cap is not None else _("figure.none")]
                for code, e in implicit.events.items()
            ],
        ),
    ]
    notice.fields = [Field(label=_("define.disqualifiers"), value=_disqualifiers(agreement))]
    return notice


def _required(agreement: Agreement) -> Notice:
    fields = agreement.qualification.required_fields
    return Notice(title=_("define.required_title"), lines=[_("define.required_rule", fields=", ".join(fields))])


def _reasons(agreement: Agreement) -> Notice:
    return Notice(
        title=_("define.reasons_title"),
        lines=[_("define.reasons_rule")],
        tables=[
            Table(
                columns=[_("define.reason"), _("define.outcome"), _("define.note")],
                rows=[
                    [
                        r.label,
                        _("define.outcome_recycle") if r.outcome == "recycle" else _("define.outcome_disqualify"),
                        _("define.note_required") if r.note_required else _("define.note_optional"),
                    ]
                    for r in agreement.rejection_reasons
                ],
            )
        ],
    )


def _steps(steps: list[tuple[str, str]]) -> str:
    return ", ".join(_("define.step", action=action, after=after) for after, action in steps) or _("figure.none")


def _policy(name: str, policy: SlaPolicy, teams: list[str]) -> Field:
    clock = _("define.working_hours") if policy.business_hours else _("define.round_the_clock")
    accept = _steps([(format_duration(s.after), s.action) for s in policy.accept])
    touch = _steps([(format_duration(s.after), s.action) for s in policy.first_touch])
    exhausted = _(_EXHAUSTED[policy.when_exhausted])
    value = _("define.policy", accept=accept, exhausted=exhausted, touch=touch, clock=clock)
    if policy.cadence:
        c = policy.cadence
        value += _("define.cadence", calls=c.calls, emails=c.emails, window=format_duration(c.window))
    if teams:
        return Field(label=_("define.policy_teams", name=name, teams=", ".join(teams)), value=value)
    return Field(label=_("define.policy_name", name=name), value=value)


_EXHAUSTED = {
    "channel": N_("define.exhausted.channel"),
    "repeat": N_("define.exhausted.repeat"),
    "stop": N_("define.exhausted.stop"),
}


def _sla(agreement: Agreement) -> Notice:
    per_quarter = agreement.commitment.mqls_per_quarter
    notice = Notice(title=_("define.sla_title"))
    if per_quarter:
        notice.lines.append(_("define.marketing_commits", per_quarter=per_quarter, weekly=round(per_quarter / 13)))
    notice.lines.append(_("define.sales_commits"))
    for name, policy in agreement.sla.policies.items():
        teams = [t.name for t in agreement.teams if t.sla == name]
        teams += [_("define.fast_track_team", team=t.name) for t in agreement.teams if t.fast_track_sla == name]
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
