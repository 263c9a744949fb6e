"""How Baton names a lead and a person in its messages: one rule, used by every view and answer."""

from __future__ import annotations

from handlers.people import person_ref
from handlers.text import _
from scoring.agreement import Agreement
from store.models import Lead

# The actor of the SLA's automatic steps in the audit trail; people read it as person.baton_sla.
SLA_ACTOR = "baton:sla"


def lead_name(lead: Lead, *, company: bool = False) -> str:
    """The person's name as people say it, else their email, else the forgotten marker.

    With ``company``, the company follows in brackets when the lead has one.
    """
    data = lead.data
    name = " ".join(str(p) for p in (data.get("first_name"), data.get("last_name")) if p)
    name = name or lead.email or _("name.forgotten_lead")
    return _("lead.name_with_company", name=name, company=data["company"]) if company and data.get("company") else name


def person_name(agreement: Agreement, email: str | None, fallback: str | None = None) -> str:
    """The agreement's name for ``email``; else ``fallback``, else the email itself."""
    ref = person_ref(agreement, email)
    if ref:
        return ref.name
    return fallback if fallback is not None else (email or _("person.someone"))


def actor_name(agreement: Agreement, email: str | None) -> str:
    """Who did something, as people read it: the SLA (or an offer closed by nobody) is "Baton (SLA)"."""
    if email is None or email == SLA_ACTOR:
        return _("person.baton_sla")
    return person_name(agreement, email)
