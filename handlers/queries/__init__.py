"""The query engine: one entry point for every chat surface (Slack command, mention, DM, Teams).

``answer(services, text, asker_email)`` parses the text, checks who is asking
and returns a ``Notice`` for the platform to render. It never raises for bad
input: unknown commands get the help, bad arguments get a sentence saying why.
"""

from __future__ import annotations

from handlers.queries.definitions import define, find_term
from handlers.queries.feedback import answer_feedback
from handlers.queries.help import help_notice
from handlers.queries.lead_lookup import answer_lead
from handlers.queries.my import MyLead, MyLeads, answer_my, my_leads
from handlers.queries.ooo import answer_ooo
from handlers.queries.parser import (
    BadQuery,
    DefineQuery,
    FeedbackQuery,
    HelpQuery,
    LeadQuery,
    MyQuery,
    OooQuery,
    StatsQuery,
    parse,
)
from handlers.queries.roles import Viewer
from handlers.queries.stats import answer_stats
from handlers.services import Services
from handlers.text import _
from handlers.views.notice import Notice

__all__ = ["MyLead", "MyLeads", "answer", "my_leads"]


def _stranger(agreement_admins: list[str]) -> Notice:
    admins = ", ".join(agreement_admins) or _("answer.an_admin")
    return Notice(title=_("answer.stranger"), lines=[_("answer.stranger_why", admins=admins), _("answer.anyone_may")])


async def _define(services: Services, term: str) -> Notice:
    """The definition, with who signed off the running version (or the flag that nobody did)."""
    from handlers.agreement.signoff import status_line

    notice = define(services.agreement, term)
    if notice.context:
        notice.context = f"{notice.context} {await status_line(services)}"
    return notice


async def answer(services: Services, text: str, asker_email: str | None) -> Notice:
    """Answer ``text`` for the person ``asker_email`` (None when the chat user is not configured)."""
    query = parse(text)
    agreement = services.agreement
    if isinstance(query, HelpQuery):
        # A bare term ("mql", "sla?") is a definition question, not a typo.
        if query.unknown and find_term(agreement, query.unknown, cutoff=0.85):
            return await _define(services, query.unknown)
        return help_notice(query.unknown, query.suggestion)
    if isinstance(query, DefineQuery):
        if query.question is not None and find_term(agreement, query.term) is None:
            return help_notice(query.question)  # "what is the meaning of life": not a definition lookup
        return await _define(services, query.term)
    if isinstance(query, BadQuery):
        return Notice(title=_("answer.bad_query", command=query.command), lines=[query.message])
    # Admins are listed by email only, so "known" means holding any role, not being a Person.
    viewer = Viewer.of(agreement, asker_email) if asker_email else None
    if viewer is None or not viewer.roles:
        return _stranger(list(agreement.roles.admins))
    if isinstance(query, StatsQuery):
        return await answer_stats(services, query, viewer)
    if isinstance(query, FeedbackQuery):
        return await answer_feedback(services, query, viewer)
    if isinstance(query, LeadQuery):
        return await answer_lead(services, query.key, viewer)
    if isinstance(query, MyQuery):
        if "rep" not in viewer.roles:
            return Notice(title=_("my.not_a_rep"), lines=[_("my.not_a_rep_hint")])
        return await answer_my(services, viewer.email)
    if isinstance(query, OooQuery):
        if "rep" not in viewer.roles:
            return Notice(title=_("ooo.not_a_rep"), lines=[_("ooo.not_a_rep_hint")])
        return await answer_ooo(services, viewer.email, query.on)
    return help_notice()
