"""Who may see which numbers, and the polite refusal that says who can.

- admins see everything;
- managers see their teams and their teams' reps;
- marketing sees the totals (everyone or a team) and all feedback, not one rep's numbers;
- a rep sees their own numbers and their own team's totals (without colleagues' rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from handlers.people import roles_of
from handlers.queries.figures import Scope
from handlers.text import _
from scoring.agreement import Agreement, Person, Team


@dataclass(frozen=True)
class Viewer:
    email: str
    roles: frozenset[str]
    managed: tuple[str, ...]
    own_team: str | None

    @classmethod
    def of(cls, agreement: Agreement, email: str) -> Viewer:
        email = email.lower()
        found = agreement.rep(email)
        return cls(
            email,
            frozenset(roles_of(agreement, email)),
            tuple(t.name for t in agreement.managed_teams(email)),
            found[0].name if found else None,
        )

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


@dataclass(frozen=True)
class Access:
    """A decision: ``scope`` to show (with ``rep_rows`` saying whether per-rep rows may be shown),
    or a ``refusal`` sentence."""

    scope: Scope | None = None
    rep_rows: bool = False
    refusal: str | None = None


def _names(people: list[Person]) -> str:
    return ", ".join(p.name for p in people) or _("roles.nobody_yet")


def _admins(agreement: Agreement) -> str:
    return ", ".join(agreement.roles.admins) or _("roles.the_admins")


def _and(names: Iterable[str]) -> str:
    return _("roles.and").join(names)


def team_scope(agreement: Agreement, teams: list[Team], label: str) -> Scope:
    return Scope(
        teams=tuple(t.name for t in teams),
        label=label,
        rep_emails=tuple(r.email.lower() for t in teams for r in t.reps),
    )


def everyone(agreement: Agreement) -> Scope:
    return Scope(label=_("roles.everyone"), rep_emails=tuple(r.email.lower() for _team, r in agreement.reps()))


def default_access(agreement: Agreement, viewer: Viewer) -> Access:
    """What plain ``stats`` shows: the widest view the asker has."""
    if viewer.is_admin:
        return Access(everyone(agreement), rep_rows=True)
    if viewer.managed:
        teams = [t for t in agreement.teams if t.name in viewer.managed]
        return Access(team_scope(agreement, teams, _and(viewer.managed)), rep_rows=True)
    if "marketing" in viewer.roles:
        return Access(everyone(agreement))
    if viewer.own_team is not None:
        return rep_access(agreement, viewer, viewer.email)
    return Access(refusal=_("roles.stats_for_people", admins=_admins(agreement)))


def team_access(agreement: Agreement, viewer: Viewer, team: Team) -> Access:
    managers = _names(team.managers)
    scope = team_scope(agreement, [team], _("roles.team", team=team.name))
    if viewer.is_admin or team.name in viewer.managed:
        return Access(scope, rep_rows=True)
    if "marketing" in viewer.roles or viewer.own_team == team.name:
        return Access(scope, rep_rows=False)
    return Access(refusal=_("roles.team_numbers", team=team.name, managers=managers, admins=_admins(agreement)))


def rep_access(agreement: Agreement, viewer: Viewer, rep_email: str) -> Access:
    found = agreement.rep(rep_email)
    assert found is not None
    team, rep = found
    scope = Scope(teams=(team.name,), rep=rep.email.lower(), label=rep.name, rep_emails=(rep.email.lower(),))
    if viewer.email == rep.email.lower() or viewer.is_admin or team.name in viewer.managed:
        return Access(scope, rep_rows=True)
    return Access(
        refusal=_(
            "roles.rep_numbers",
            rep=rep.name,
            managers=_names(team.managers),
            admins=_admins(agreement),
            team=team.name,
        )
    )


def feedback_access(agreement: Agreement, viewer: Viewer) -> Access:
    """Feedback is marketing's loop: marketing and admins see all, managers their teams, reps their own."""
    if viewer.is_admin or "marketing" in viewer.roles:
        return Access(everyone(agreement), rep_rows=True)
    if viewer.managed:
        teams = [t for t in agreement.teams if t.name in viewer.managed]
        return Access(team_scope(agreement, teams, _and(viewer.managed)), rep_rows=True)
    if viewer.own_team is not None:
        return rep_access(agreement, viewer, viewer.email)
    return Access(refusal=_("roles.feedback_for", admins=_admins(agreement)))


def may_see_lead(agreement: Agreement, viewer: Viewer, team: str | None, reps: set[str]) -> bool:
    """A lead is visible to admins, marketing, its team's managers, and reps it was offered to."""
    if viewer.is_admin or "marketing" in viewer.roles:
        return True
    if team is not None and team in viewer.managed:
        return True
    return viewer.email in reps
