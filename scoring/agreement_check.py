"""Build an ``Agreement`` from plain data and report every problem by its path."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from scoring.agreement import Agreement
from scoring.lead import email_problem


class AgreementError(ValueError):
    """The configuration is invalid; ``problems`` lists each as ``path: what is wrong``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_agreement(data: dict[str, Any], platforms: Iterable[object] | None = None) -> Agreement:
    """``platforms``: the registered chat platforms (names or ``ChatPlatform``s) whose ids the
    agreement may give; the built-in Slack and Teams when None."""
    context = {"platforms": tuple(platforms)} if platforms is not None else None
    try:
        agreement = Agreement.model_validate(data, context=context)
    except ValidationError as exc:
        raise AgreementError(format_validation_errors(exc)) from None
    problems = check_references(agreement)
    if problems:
        raise AgreementError(problems)
    return agreement


def format_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


_FRIENDLY = {
    "missing": "required but missing",
    "extra_forbidden": "unknown setting",
    "value_error": None,
}


def format_validation_errors(exc: ValidationError) -> list[str]:
    """One ``path: message`` line per error, in words a person can act on."""
    lines = []
    for error in exc.errors():
        # Union and tagged-type branches add their own loc parts; they only confuse a reader.
        loc = tuple(
            p
            for p in error["loc"]
            if not (
                isinstance(p, str) and (p.startswith("function-") or p in {"str", "int", "float", "bool", "list[...]"})
            )
        )
        message = _FRIENDLY.get(error["type"]) or error["msg"]
        if "email address" in message:
            message = email_problem(message)
        message = message.removeprefix("Value error, ")
        lines.append(f"{format_path(loc)}: {message}")
    return lines


def check_references(agreement: Agreement) -> list[str]:
    """Names that point at other parts of the agreement must exist."""
    problems: list[str] = []
    team_names = {t.name for t in agreement.teams}
    policies = agreement.sla.policies
    emails = Counter(r.email.lower() for _, r in agreement.reps())

    for i, team in enumerate(agreement.teams):
        if [t.name for t in agreement.teams].count(team.name) > 1:
            problems.append(f"teams[{i}].name: team {team.name!r} is defined more than once")
        if team.sla not in policies:
            problems.append(f"teams[{i}].sla: no SLA policy named {team.sla!r} in [sla.policies]")
        if team.fast_track_sla and team.fast_track_sla not in policies:
            problems.append(f"teams[{i}].fast_track_sla: no SLA policy named {team.fast_track_sla!r} in [sla.policies]")
        managers = {m.email.lower() for m in team.managers}
        for j, rep in enumerate(team.reps):
            if emails[rep.email.lower()] > 1:
                problems.append(f"teams[{i}].reps[{j}].email: {rep.email} is a rep in more than one place")
            if rep.manager and rep.manager.lower() not in managers:
                problems.append(f"teams[{i}].reps[{j}].manager: {rep.manager} is not one of this team's managers")
    for i, rule in enumerate(agreement.routing.rules):
        if rule.team not in team_names:
            problems.append(f"routing.rules[{i}].team: no team named {rule.team!r}")
    if agreement.routing.default_team and agreement.routing.default_team not in team_names:
        problems.append(f"routing.default_team: no team named {agreement.routing.default_team!r}")
    for domain, owner in agreement.routing.account_owners.items():
        if agreement.rep(owner) is None:
            problems.append(f"routing.account_owners.{domain}: {owner} is not a rep of any team")
    codes = Counter(r.code for r in agreement.rejection_reasons)
    for i, reason in enumerate(agreement.rejection_reasons):
        if codes[reason.code] > 1:
            problems.append(f"rejection_reasons[{i}].code: {reason.code!r} is used more than once")
    for i, event in enumerate(agreement.scoring.implicit.fast_track):
        if not event.strip():
            problems.append(f"scoring.implicit.fast_track[{i}]: empty event type")
    return problems
