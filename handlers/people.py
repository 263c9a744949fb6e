"""Who is acting: a person from the agreement, found by their chat identity."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationInfo, model_validator

from scoring.agreement import Agreement, Person, fold_chat_ids


class PersonRef(BaseModel):
    """A person as views carry them: enough for each platform to mention them."""

    name: str
    email: str
    # Platform → id, as on ``Person``; views stored before it read their ``slack_id``/``teams_id``.
    chat_ids: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _chat_ids(cls, data: object, info: ValidationInfo) -> object:
        if isinstance(data, dict) and isinstance(data.get("chat_ids"), dict):
            # Views in the outbox name whatever platforms were registered when they were written.
            return data
        return fold_chat_ids(data, info)

    @classmethod
    def of(cls, person: Person) -> PersonRef:
        return cls(name=person.name, email=person.email.lower(), chat_ids=dict(person.chat_ids))

    @property
    def slack_id(self) -> str | None:
        return self.chat_ids.get("slack")

    @property
    def teams_id(self) -> str | None:
        return self.chat_ids.get("teams")


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
