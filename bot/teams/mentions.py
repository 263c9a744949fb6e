"""Real @mentions in Teams messages: ``<at>Name</at>`` in the activity's text, plus a ``mention``
entity naming the person, beside the Adaptive Card.

That is the Bot Framework's contract for a mention that notifies (a card's TextBlock showing a
bold name notifies nobody): the entity's ``text`` must match a portion of the activity's
``text`` exactly, or Teams ignores the mention; ``mentioned.id`` is the user's Teams id
(``29:…``), their AAD object id, or their UPN. Baton uses the AAD object id when the agreement
has it (``teams_id``), else the id Teams gave the person when they installed the app, else their
email as the UPN.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape as html_escape
from typing import Any

from bot.teams import references
from bot.teams.markdown import escape
from handlers.people import PersonRef
from handlers.services import Services
from handlers.text import _


@dataclass(frozen=True)
class Mention:
    id: str
    name: str

    @property
    def text(self) -> str:
        # The name as Teams renders it between the tags: no markup can ride in on it.
        return f"<at>{html_escape(self.name, quote=False)}</at>"

    def entity(self) -> dict[str, Any]:
        return {"type": "mention", "text": self.text, "mentioned": {"id": self.id, "name": self.name}}


async def resolve(services: Services, people: list[PersonRef]) -> list[Mention]:
    """One mention per distinct person, in order."""
    found: list[Mention] = []
    seen: set[str] = set()
    for person in people:
        if person.email in seen:
            continue
        seen.add(person.email)
        found.append(Mention(id=await _id_of(services, person), name=person.name))
    return found


async def _id_of(services: Services, person: PersonRef) -> str:
    if person.teams_id:
        return person.teams_id
    row = await references.find(services, person.email)
    user = (row.reference.get("user") or {}) if row is not None and row.kind == "user" else {}
    if isinstance(user, dict):
        for key in ("aadObjectId", "id"):
            if isinstance(user.get(key), str) and user[key]:
                return str(user[key])
    return person.email  # the UPN, which is the sign-in address in most tenants


def text_with(mentions: list[Mention], title: str) -> str:
    """The activity's text: the mentions, then the notice's title (escaped for Teams markdown)."""
    return _("notice.teams_mentions", people=", ".join(m.text for m in mentions), title=escape(title))
