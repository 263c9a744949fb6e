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
from handlers.views.actions import ButtonData
from handlers.views.lead_card import LeadCard
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
        return (
            f"New lead: {view.headline} (score {view.score})"
            if view.status == "offered"
            else f"{view.headline}: {status_word(view.status)}"
        )
    if isinstance(view, Notice):
        return view.title
    if isinstance(view, RejectForm):
        return f"Reject {view.lead_name}"
    return "Baton"


def _who(person: PersonRef | None) -> str:
    return bold(person.name) if person else ""


def _status_line(view: LeadCard) -> str:
    if view.status == "offered":
        who = (
            f" to {_who(view.offered_to)}"
            if view.offered_to and view.mode == "direct"
            else (f" to the {escape(view.team)} team" if view.team else "")
        )
        due = f"; please act by **{escape(view.due_text)}**" if view.due_text else ""
        return f"Offered{who}{due}"
    by = f" by {_who(view.status_by)}" if view.status_by else ""
    when = f" {escape(view.status_text)}" if view.status_text else ""
    return f"{_EMOJI.get(view.status, '')}{escape(status_word(view.status))}{by}{when}"


def _refresh_users(view: LeadCard) -> list[str]:
    people = [p for p in (view.offered_to, view.status_by) if p and p.teams_id]
    ids = list(dict.fromkeys(f"8:orgid:{p.teams_id}" for p in people))
    return ids[:MAX_REFRESH_USERS]


def lead_card(view: LeadCard) -> Card:
    """The lead card: who, why it qualified (score breakdown), the offer's status and its buttons."""
    header = ("🔥 Fast track: " if view.fast_track else "New lead: ") if view.status == "offered" else ""
    body: list[dict[str, Any]] = [
        text(f"{header}{bold(view.headline)}", size="Large", weight="Bolder"),
    ]
    about = " · ".join(escape(p) for p in (view.title, view.industry, view.country) if p)
    if about:
        body.append(text(about, isSubtle=True, spacing="None"))
    fact_set = facts(
        [
            ("Email", view.email),
            ("Employees", f"{view.employees:,}" if view.employees is not None else None),
            ("Score", f"{view.score} (threshold {view.threshold}; fit {view.explicit}, behaviour {view.implicit})"),
            ("Stage", view.stage_label),
            ("Source", view.source),
            ("Campaign", view.campaign),
            ("Team", view.team),
        ]
    )
    if fact_set:
        body.append(fact_set)
    if view.fast_track_events:
        body.append(text("Fast-tracked by: " + ", ".join(escape(e) for e in view.fast_track_events)))
    if view.lines:
        body.append(text("**Why it qualified**", spacing="Medium"))
        body += [
            text(
                f"{line.points:+d} {escape(line.rule)}" + (f" ({escape(line.detail)})" if line.detail else ""),
                spacing="None",
            )
            for line in view.lines
        ]
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
