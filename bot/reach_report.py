"""Warnings about people Baton cannot reach, for ``baton config check`` and ``baton serve``'s start.

A rep reachable on no configured chat platform would be offered leads whose cards are then
parked undelivered; routing skips such a rep, and these warnings say so before it matters.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from bot.platforms import Registry, built_in
from bot.settings import Settings
from handlers.text import _
from handlers.text.reach import unreachable_text
from scoring.agreement import Agreement, ChannelRef, Team
from scoring.platforms import ChatPlatform
from scoring.reach import unreachable_reason


def _reaches(channel: ChannelRef | None, enabled: Collection[str]) -> bool:
    return channel is not None and any(channel.get(name) for name in enabled)


def _instead(team: Team, agreement: Agreement, enabled: Collection[str], chat: Sequence[ChatPlatform]) -> str:
    """Where a lead nobody in ``team`` can take goes (``handlers.handoff.offer``'s fallback)."""
    if _reaches(team.channel, enabled):
        return _("reach.instead.team_channel")
    if team.channel is None and _reaches(agreement.channels.managers, enabled):
        return _("reach.instead.managers_channel")
    if team.channel is None and agreement.channels.managers is None:
        people = [m.email for m in team.managers] or sorted(a.lower() for a in agreement.roles.admins)
        person = agreement.person_by(email=people[0]) if people else None
        if person is not None and unreachable_reason(person, enabled, installed={}, platforms=chat) is None:
            return _("reach.instead.dm", email=person.email)
    return _("reach.instead.nobody")


def reach_warnings(
    settings: Settings,
    agreement: Agreement,
    teams_installed: Collection[str] = (),
    *,
    installed: Mapping[str, Collection[str]] | None = None,
    platforms: Registry | None = None,
) -> list[str]:
    """One line per rep no configured platform reaches, and per team left with none.

    ``installed``: per platform that resolves people by email, who holds a conversation with Baton
    (``teams_installed`` is the older spelling for Teams alone)."""
    registry = platforms or built_in()
    enabled, chat = registry.enabled(settings), registry.chat
    holding = installed if installed is not None else {"teams": teams_installed}
    if not enabled:
        return [_("reach.no_platform")]
    lines: list[str] = []
    for i, team in enumerate(agreement.teams):
        reasons = [unreachable_reason(rep, enabled, installed=holding, platforms=chat) for rep in team.reps]
        for j, (rep, reason) in enumerate(zip(team.reps, reasons, strict=True)):
            if reason is not None:
                path = f"teams[{i}].reps[{j}]"
                lines.append(_("reach.rep", path=path, email=rep.email, why=unreachable_text(reason)))
        if team.handoff == "direct" and all(reasons):
            instead = _instead(team, agreement, enabled, chat)
            lines.append(_("reach.team", path=f"teams[{i}]", team=team.name, instead=instead))
    return lines
