"""Sign-off: each reviewer's "Agree" to the running agreement, stored against its content hash.

Both sides must agree: at least one sales reviewer (a rep or manager of a team) and one
marketing reviewer (in ``roles.marketing``). A reviewer who is neither may agree too; their
sign-off is shown but completes neither side. A click from someone who is not a reviewer, or
for a content that is no longer the running one, is refused politely and changes nothing; a
second click is a no-op that says when they agreed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.agreement.versions import content_hash
from handlers.handoff.outcome import Outcome
from handlers.services import Services
from handlers.text import _
from handlers.views.actions import Action, Button, InvalidButton
from scoring.agreement import Agreement
from store.models import AgreementSignoff
from store.upsert import insert_ignoring

Side = Literal["sales", "marketing", "other"]
_PREFIX = "v1:agree:"


@dataclass(frozen=True)
class AgreeData:
    """What an Agree button carries: the content hash of the agreement it was sent for."""

    content_hash: str

    def pack(self) -> str:
        return _PREFIX + self.content_hash

    @classmethod
    def unpack(cls, value: str | None) -> AgreeData:
        if not value or len(value) > 100 or not value.startswith(_PREFIX):
            raise InvalidButton("not an Agree button value")
        digest = value.removeprefix(_PREFIX)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InvalidButton("not an Agree button value")
        return cls(digest)


def agree_button(agreement: Agreement) -> Button:
    return Button(
        action=Action.AGREE,
        label=_("signoff.button", version=agreement.definition.version),
        value=AgreeData(content_hash(agreement)).pack(),
        style="primary",
    )


def side_of(agreement: Agreement, email: str) -> Side:
    email = email.lower()
    if any(p.email.lower() == email for p in agreement.roles.marketing):
        return "marketing"
    if agreement.rep(email) is not None or agreement.managed_teams(email):
        return "sales"
    return "other"


@dataclass(frozen=True)
class Signed:
    reviewer: str
    side: str
    signed_at: datetime


async def signoffs(services: Services, digest: str | None = None) -> list[Signed]:
    """Who agreed to the content ``digest`` (the running one by default), oldest first."""
    digest = digest or content_hash(services.agreement)
    async with services.db.read() as session:
        rows = await session.scalars(
            select(AgreementSignoff).where(AgreementSignoff.content_hash == digest).order_by(AgreementSignoff.id)
        )
        return [Signed(r.reviewer, r.side, r.signed_at) for r in rows]


def complete(signed: list[Signed]) -> bool:
    return {"sales", "marketing"} <= {s.side for s in signed}


def _day(services: Services, at: datetime) -> str:
    return f"{at.astimezone(ZoneInfo(services.agreement.digest.timezone)):%-d %b %Y}"


def _name(agreement: Agreement, email: str) -> str:
    person = agreement.person_by(email=email)
    return person.name if person is not None else email


async def agree(services: Services, value: str | None, actor_email: str, source: str) -> Outcome:
    """Record ``actor_email``'s Agree to the agreement the button was sent for."""
    agreement = services.agreement
    try:
        data = AgreeData.unpack(value)
    except InvalidButton:
        return Outcome.refused("invalid", _("signoff.invalid"))
    actor = actor_email.lower()
    reviewers = [r.lower() for r in agreement.definition.reviewers]
    if actor not in reviewers:
        names = ", ".join(_name(agreement, r) for r in reviewers) or "-"
        return Outcome.refused("not_allowed", _("signoff.not_reviewer", names=names))
    if data.content_hash != content_hash(agreement):
        return Outcome.refused("finished", _("signoff.not_running", version=agreement.definition.version))
    now = services.clock.now()
    async with services.db.transaction() as session:
        inserted = await insert_ignoring(
            session,
            AgreementSignoff,
            {
                "content_hash": data.content_hash,
                "version": agreement.definition.version,
                "reviewer": actor,
                "side": side_of(agreement, actor),
                "source": source[:16],
                "signed_at": now,
            },
            on=("content_hash", "reviewer"),
        )
    signed = await signoffs(services, data.content_hash)
    if not inserted:
        mine = next(s for s in signed if s.reviewer == actor)
        return Outcome.done(_("signoff.already", day=_day(services, mine.signed_at)))
    if complete(signed):
        return Outcome.done(_("signoff.complete", version=agreement.definition.version))
    return Outcome.done(
        _("signoff.waiting", version=agreement.definition.version, status=status_line_of(services, signed))
    )


def status_line_of(services: Services, signed: list[Signed]) -> str:
    agreement = services.agreement
    if not signed:
        return _("signoff.unsigned", version=agreement.definition.version)
    who = ", ".join(
        _("signoff.who", name=_name(agreement, s.reviewer), day=_day(services, s.signed_at)) for s in signed
    )
    if complete(signed):
        return _("signoff.agreed_by", who=who)
    missing = ", ".join(side for side in ("sales", "marketing") if side not in {s.side for s in signed})
    return _("signoff.agreed_by_partly", who=who, missing=missing)


async def status_line(services: Services) -> str:
    """``Agreed by … on …``, or the flag that nobody (or only one side) signed the running version."""
    return status_line_of(services, await signoffs(services))


async def unsigned_flag(services: Services) -> str | None:
    """The warning for the digest and ``config check`` when the running version is not signed by
    both sides; None when it is."""
    signed = await signoffs(services)
    return None if complete(signed) else status_line_of(services, signed)
