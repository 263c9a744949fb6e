"""``ooo on|off``: hand over to ``handlers.handoff.ooo`` and say what happened."""

from __future__ import annotations

from handlers.handoff.ooo import set_out_of_office
from handlers.services import Services
from handlers.views.notice import Notice


async def answer_ooo(services: Services, email: str, on: bool) -> Notice:
    outcome = await set_out_of_office(services, email, on, source="chat")
    if outcome.ok:
        title = "You're out of office." if on else "Welcome back."
        return Notice(title=title, lines=[outcome.message] if outcome.message else [])
    return Notice(title="I couldn't change your out-of-office status.", lines=[outcome.message])
