"""Find the rep or team a question names: a Slack mention, an email, ``@name`` or a plain name."""

from __future__ import annotations

from collections.abc import Callable

from scoring.agreement import Agreement, Rep, Team


def find_rep(agreement: Agreement, raw: str, slack_id: str | None = None) -> Rep | None:
    """The rep named by ``raw``: Slack id, email, full name, first name or email's local part."""
    if slack_id:
        person = agreement.person_by(slack_id=slack_id)
        found = agreement.rep(person.email) if person else None
        return found[1] if found else None
    needle = raw.strip().lstrip("@").lower()
    if not needle:
        return None
    reps = [r for _, r in agreement.reps()]
    # Most exact first; a name two reps share matches nobody rather than the wrong one.
    keys: list[Callable[[Rep], str | None]] = [
        lambda r: r.email.lower(),
        lambda r: r.teams_id.lower() if r.teams_id else None,
        lambda r: r.name.lower(),
        lambda r: r.email.lower().split("@")[0],
        lambda r: r.name.lower().split()[0],
    ]
    for key in keys:
        matches = [r for r in reps if key(r) == needle]
        if len(matches) == 1:
            return matches[0]
    return None


def find_team(agreement: Agreement, name: str) -> Team | None:
    return agreement.team(name.strip().lower())
