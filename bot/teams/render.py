"""View-models in, Adaptive Card 1.5 dicts out: the lead card, and the dispatch for every view.

Pure: no botbuilder, no I/O. Every string from a lead (or a person) is escaped for Teams
markdown here; view-models carry raw text.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bot.teams.cards import REFRESH_VERB, Card, buttons, card, facts, text
from bot.teams.markdown import bold, escape
from bot.teams.render_form import reject_form_card
from bot.teams.render_notice import notice_card
from handlers.people import PersonRef
from handlers.text import _, n_
from handlers.views.actions import ButtonData
from handlers.views.lead_card import LeadCard, score_line
from handlers.views.notice import Notice
from handlers.views.reject_form import RejectForm
from handlers.views.status import status_word

# Teams decorates the status word with an emoji; the word itself is the catalogue's.
_EMOJI = {"accepted": "✅ ", "rejected": "❌ ", "reassigned": "↪️ ", "sql": "🎯 ", "unreachable": "📵 "}
# Automatic refresh is limited to a short list of users; Teams names them by MRI.
MAX_REFRESH_USERS = 60


def render_view(view: BaseModel, *, image_png_b64: str | None = None) -> Card:
    """The Adaptive Card for any Baton view (lead card, notice, reject form)."""
    if isinstance(view, LeadCard):
        return lead_card(view)
    if isinstance(view, Notice):
        return notice_card(view, image_png_b64=image_png_b64)
    if isinstance(view, RejectForm):
        return reject_form_card(view)
    raise ValueError(f"Teams cannot render a {type(view).__name__}")


def summary(view: BaseModel) -> str:
    """Plain text for notifications and clients that cannot show cards."""
    if isinstance(view, LeadCard):
        return view.summary
    if isinstance(view, Notice):
        return view.title
    if isinstance(view, RejectForm):
        return _("card.reject_summary", name=view.lead_name)
    return "Baton"


def _who(person: PersonRef | None) -> str:
    return bold(person.name) if person else ""


def _offer_line(view: LeadCard) -> str:
    if view.mode == "channel":
        offer = _("card.offer.channel", team=bold(view.team or ""))
    elif view.offered_to:
        offer = _("card.offer.direct", name=_who(view.offered_to))
    else:
        offer = escape(_("card.offer.nobody"))
    if view.due_text:
        return _("card.respond_by", offer=offer, due=bold(view.due_text))
    return offer


def _status_line(view: LeadCard) -> str:
    if view.status == "offered":
        return _offer_line(view)
    word = escape(status_word(view.status))
    line = _("card.status_by", status=word, name=_who(view.status_by)) if view.status_by else word
    when = f" {escape(view.status_text)}" if view.status_text else ""
    return f"{_EMOJI.get(view.status, '')}{line}{when}"


def _refresh_users(view: LeadCard) -> list[str]:
    people = [p for p in (view.offered_to, view.status_by) if p and p.teams_id]
    ids = list(dict.fromkeys(f"8:orgid:{p.teams_id}" for p in people))
    return ids[:MAX_REFRESH_USERS]


def lead_card(view: LeadCard) -> Card:
    """The lead card: who, why it qualified (score breakdown), the offer's status and its buttons."""
    headline = bold(view.headline)
    if view.status != "offered":
        header = headline
    elif view.fast_track:
        header = "🔥 " + _("card.fast_track_lead", headline=headline)
    else:
        header = _("card.new_lead", headline=headline)
    body: list[dict[str, Any]] = [text(header, size="Large", weight="Bolder")]
    if view.title:
        body.append(text(escape(view.title), isSubtle=True, spacing="None"))
    employees = n_("card.employees", view.employees) if view.employees is not None else None
    score = _("card.score", score=view.score, threshold=view.threshold, explicit=view.explicit, implicit=view.implicit)
    fact_set = facts(
        [
            (_("card.fact.email"), view.email),
            (_("card.fact.company_size"), employees),
            (_("card.fact.industry"), view.industry),
            (_("card.fact.country"), view.country),
            (_("card.fact.score"), score),
            (_("card.fact.stage"), view.stage_label),
            (_("card.fact.source"), view.source),
            (_("card.fact.campaign"), view.campaign),
            (_("card.fact.team"), view.team),
        ]
    )
    if fact_set:
        body.append(fact_set)
    if view.fast_track_events:
        body.append(text(escape(_("card.fast_tracked_by", events=", ".join(view.fast_track_events)))))
    if view.lines:
        body.append(text(bold(_("card.why")), spacing="Medium"))
        body += [text(escape(score_line(line)), spacing="None") for line in view.lines]
    body.append(text(_status_line(view), spacing="Medium", weight="Bolder"))
    body += [text(f"• {escape(note)}", isSubtle=True, spacing="None") for note in view.notes]
    inputs, actions = buttons(view.buttons)
    body += inputs
    refresh: dict[str, Any] | None = None
    if view.handoff_id is not None:
        # Teams asks for the current card (verb "refresh") when a listed user opens it.
        value = ButtonData(lead_id=view.lead_id, handoff_id=view.handoff_id).pack()
        refresh = {"action": {"type": "Action.Execute", "verb": REFRESH_VERB, "data": {"value": value}}}
        users = _refresh_users(view)
        if users:
            refresh["userIds"] = users
    return card(body, actions, fallback=summary(view), refresh=refresh)
