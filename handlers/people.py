"""Who is acting: a person from the agreement, found by their chat identity."""

from __future__ import annotations

from pydantic import BaseModel

from scoring.agreement import Agreement, Person


class PersonRef(BaseModel):
    """A person as views carry them: enough for each platform to mention them."""

    name: str
    email: str
    slack_id: str | None = None
    teams_id: str | None = None

    @classmethod
    def of(cls, person: Person) -> PersonRef:
        return cls(name=person.name, email=person.email.lower(), slack_id=person.slack_id,
                   teams_id=person.teams_id)


def person_ref(agreement: Agreement, email: str | None) -> PersonRef | None:
    if not email:
        return None
    person = agreement.person_by(email=email)
    return PersonRef.of(person) if person else PersonRef(name=email, email=email.lower())


def roles_of(agreement: Agreement, email: str) -> set[str]:
    """The roles a person holds: rep, manager, marketing, admin."""
    email = email.lower()
    roles: set[str] = set()
    if agreement.rep(email):
        roles.add("rep")
    if agreement.managed_teams(email):
        roles.add("manager")
    if any(p.email.lower() == email for p in agreement.roles.marketing):
        roles.add("marketing")
    if email in {a.lower() for a in agreement.roles.admins}:
        roles.add("admin")
    return roles
