"""Warnings about people Baton cannot reach, for ``baton config check`` and ``baton serve``'s start.

A rep reachable on no configured chat platform would be offered leads whose cards are then
parked undelivered; routing skips such a rep, and these warnings say so before it matters.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.settings import Settings
from scoring.agreement import Agreement, ChannelRef, Team
from scoring.reach import unreachable_reason

NO_PLATFORM = ("no chat platform is configured (set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, "
               "or enable Teams): every card waits in the outbox until one is")


def _reaches(channel: ChannelRef | None, enabled: Collection[str]) -> bool:
    if channel is None:
        return False
    return bool(("slack" in enabled and channel.slack) or ("teams" in enabled and channel.teams))


def _instead(team: Team, agreement: Agreement, enabled: Collection[str]) -> str:
    """Where a lead nobody in ``team`` can take goes (``handlers.offer``'s fallback)."""
    if _reaches(team.channel, enabled):
        return "its team channel"
    if team.channel is None and _reaches(agreement.channels.managers, enabled):
        return "the managers channel"
    if team.channel is None and agreement.channels.managers is None:
        people = [m.email for m in team.managers] or sorted(a.lower() for a in agreement.roles.admins)
        person = agreement.person_by(email=people[0]) if people else None
        if person is not None and unreachable_reason(person, enabled) is None:
            return f"{person.email} by DM"
    return "nobody reachable: give a rep, the team channel or the managers channel an id on a configured platform"


def reach_warnings(settings: Settings, agreement: Agreement, teams_installed: Collection[str] = ()) -> list[str]:
    """One line per rep no configured platform reaches, and per team left with none."""
    enabled = settings.chat_platforms
    if not enabled:
        return [NO_PLATFORM]
    lines: list[str] = []
    for i, team in enumerate(agreement.teams):
        reasons = [unreachable_reason(rep, enabled, teams_installed) for rep in team.reps]
        for j, (rep, reason) in enumerate(zip(team.reps, reasons, strict=True)):
            if reason is not None:
                lines.append(f"teams[{i}].reps[{j}] {rep.email}: {reason}; routing gives this rep no leads")
        if team.handoff == "direct" and all(reasons):
            lines.append(f"teams[{i}] {team.name}: no rep is reachable; its leads go to "
                         f"{_instead(team, agreement, enabled)}")
    return lines
