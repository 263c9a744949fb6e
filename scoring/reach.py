"""Whether a person can be reached on a chat platform this deployment has switched on.

Pure: which platforms are on, and who has installed the Baton app in Teams, are passed in.

- Slack reaches a person by ``slack_id``, and only when Slack is configured.
- Teams reaches a person when Teams is enabled and either the agreement gives their
  ``teams_id`` (an AAD object id: Baton opens a 1:1 chat with it), or Baton holds a live Teams
  conversation with them (they installed the app or wrote to it, stored under their email).
  An email alone is not enough: until that person installs the app, a card for them would wait
  in the outbox until it is too old and is parked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from scoring.agreement import Agreement, Person

PLATFORMS = ("slack", "teams")


def unreachable_reason(person: Person, enabled: Collection[str], teams_installed: Collection[str] = ()) -> str | None:
    """Why no enabled platform reaches ``person``, or None when one does."""
    if "slack" in enabled and person.slack_id:
        return None
    if "teams" in enabled and (person.teams_id or person.email.lower() in teams_installed):
        return None
    why: list[str] = []
    if person.slack_id:
        why.append("has a slack_id but Slack is not configured")
    elif "slack" in enabled:
        why.append("no slack_id")
    if "teams" in enabled:
        why.append("no teams_id, and no Teams conversation with Baton: they have not installed the app")
    elif person.teams_id:
        why.append("has a teams_id but Teams is not enabled")
    if not enabled:
        why.append("no chat platform is configured")
    return f"reachable on no enabled chat platform ({'; '.join(why)})"


def unreachable_reps(agreement: Agreement, enabled: Collection[str],
                     teams_installed: Collection[str] = ()) -> Mapping[str, str]:
    """Every rep (lower-case email) no enabled platform reaches, with the reason."""
    found: dict[str, str] = {}
    for _, rep in agreement.reps():
        reason = unreachable_reason(rep, enabled, teams_installed)
        if reason is not None:
            found.setdefault(rep.email.lower(), reason)
    return found
