"""The welcome: what Baton says once when it is installed, so nobody has to guess what it does.

Once per install, not per restart: the first welcome of a place (a person's chat, a channel, a
team, a group chat, a Slack App Home) is recorded in ``welcomes`` with an insert that skips
an existing row, so two replicas hearing the same install event, or Teams sending both its
``conversationUpdate`` and its ``installationUpdate``, welcome once. Removing the app forgets
the place, so installing it again welcomes again; so does a welcome the platform refused (a 429,
an outage), so the next occasion (event, visit) tries again.

- In a personal chat (and on first opening the Slack App Home): what Baton does for this
  person by role, and the first commands to type; a stranger is told who can add them.
- In a channel, team or group chat: what the agreement has Baton post there.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import delete

from handlers.people import roles_of
from handlers.queries.help import command_line
from handlers.services import Services
from handlers.text import N_, _
from handlers.views.notice import Notice
from scoring.agreement import Agreement
from store.models import Welcome
from store.upsert import insert_ignoring

# The commands a newcomer is shown first (usage, what it answers), by role.
_FIRST = {
    "rep": [("my", N_("help.cmd.my")), ("ooo on", N_("help.cmd.ooo"))],
    "manager": [("stats", N_("help.cmd.stats")), ("sla", N_("help.cmd.sla"))],
    "marketing": [("feedback", N_("help.cmd.feedback")), ("stats", N_("help.cmd.stats"))],
    "admin": [("stats", N_("help.cmd.stats"))],
}
_ROLE_LINES = {
    "rep": N_("welcome.role.rep"),
    "manager": N_("welcome.role.manager"),
    "marketing": N_("welcome.role.marketing"),
    "admin": N_("welcome.role.admin"),
}
_ROLE_ORDER = ("rep", "manager", "marketing", "admin")


class Place(StrEnum):
    """Where a welcome goes; part of its record."""

    PERSONAL = "personal"
    HOME = "home"  # the Slack App Home, first opened
    CHANNEL = "channel"
    TEAM = "team"
    GROUP = "group"


async def first_time(services: Services, platform: str, key: str, place: Place) -> bool:
    """Record the welcome of ``key``; True only for the first caller (so only it sends one)."""
    async with services.db.transaction() as session:
        row = {"platform": platform, "key": key[:320], "place": place.value, "sent_at": services.clock.now()}
        return await insert_ignoring(session, Welcome, row, on=("platform", "key")) == 1


async def forget(services: Services, platform: str, keys: list[str]) -> None:
    """The app was removed there: a later install welcomes again."""
    if not keys:
        return
    async with services.db.transaction() as session:
        await session.execute(delete(Welcome).where(Welcome.platform == platform, Welcome.key.in_(keys)))


def personal(agreement: Agreement, email: str | None, name: str | None = None) -> Notice:
    """The welcome in a person's own chat with Baton: what it does for them, and what to type."""
    roles = roles_of(agreement, email) if email else set()
    held = [role for role in _ROLE_ORDER if role in roles]
    if not held:
        admins = ", ".join(agreement.roles.admins) or _("answer.an_admin")
        return Notice(
            title=_("welcome.title"),
            lines=[_("welcome.intro"), _("welcome.stranger", admins=admins), command_line("help", N_("help.cmd.help"))],
        )
    person = agreement.person_by(email=email) if email else None
    title = _("welcome.title_named", name=person.name if person else name or email)
    lines = [_("welcome.intro"), *(_(_ROLE_LINES[role]) for role in held), _("welcome.first_commands")]
    shown = dict.fromkeys(usage_what for role in held for usage_what in _FIRST[role])
    lines += [command_line(usage, what) for usage, what in shown]
    lines.append(command_line("help", N_("help.cmd.help")))
    return Notice(title=title, lines=lines)


def channel(agreement: Agreement, platform: str, ids: list[str]) -> Notice:
    """The welcome in a channel, team or group chat: what the agreement has Baton post there.

    ``ids``: the conversation's ids on ``platform`` (a Teams team's General is also the team id)."""
    here = set(ids)
    uses = [
        _("welcome.channel.leads", team=team.name)
        for team in agreement.teams
        if team.channel is not None and team.channel.get(platform) in here
    ]
    named = agreement.channels
    for ref, message in (
        (named.managers, N_("welcome.channel.managers")),
        (named.marketing_feedback, N_("welcome.channel.feedback")),
        (named.ops, N_("welcome.channel.ops")),
    ):
        if ref is not None and ref.get(platform) in here:
            uses.append(_(message))
    lines = [_("welcome.intro")]
    lines += [_("welcome.channel.posts_here"), *uses] if uses else [_("welcome.channel.nothing_yet")]
    lines.append(_("welcome.channel.ask"))
    return Notice(title=_("welcome.title"), lines=lines)
