"""``ooo on|off``: hand over to ``handlers.handoff.ooo`` and say what happened."""

from __future__ import annotations

from handlers.handoff.ooo import set_out_of_office
from handlers.services import Services
from handlers.text import _
from handlers.views.notice import Notice


async def answer_ooo(services: Services, email: str, on: bool) -> Notice:
    outcome = await set_out_of_office(services, email, on, source="chat")
    if outcome.ok:
        title = _("ooo.away") if on else _("ooo.back")
        return Notice(title=title, lines=[outcome.message] if outcome.message else [])
    return Notice(title=_("ooo.failed"), lines=[outcome.message])
