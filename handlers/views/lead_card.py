"""The lead card: what a rep sees when a lead is offered, and after they act on it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from handlers.people import PersonRef
from handlers.text import _
from handlers.views import register_view
from handlers.views.actions import Action, Button, ButtonData
from handlers.views.status import status_word


class ScoreLineView(BaseModel):
    rule: str
    kind: Literal["explicit", "implicit"]
    points: int
    detail: str = ""


def score_line(line: ScoreLineView) -> str:
    """One rule of the breakdown, the same words on both platforms (raw text: renderers escape it)."""
    points = f"{line.points:+d}"
    if line.detail:
        return _("card.score_line_detail", rule=line.rule, points=points, detail=line.detail)
    return _("card.score_line", rule=line.rule, points=points)


@register_view
class LeadCard(BaseModel):
    """Everything a card shows. Built once by ``handlers.handoff.cards``; each platform renders it."""

    type: Literal["lead_card"] = "lead_card"
    lead_id: int
    handoff_id: int | None
    name: str
    email: str
    title: str | None = None
    company: str | None = None
    employees: int | None = None
    industry: str | None = None
    country: str | None = None
    source: str | None = None
    campaign: str | None = None
    score: int
    threshold: int
    explicit: int = 0
    implicit: int = 0
    lines: list[ScoreLineView] = []
    fast_track: bool = False
    fast_track_events: list[str] = []
    stage_label: str
    team: str | None = None
    mode: Literal["direct", "channel", "none"] = "direct"
    offered_to: PersonRef | None = None
    due_at: datetime | None = None
    due_text: str | None = None  # the deadline in the recipient's time zone, e.g. "Mon 09:25 EST"
    status: Literal["offered", "accepted", "rejected", "reassigned", "sql", "unreachable", "withdrawn"]
    status_by: PersonRef | None = None
    status_text: str | None = None  # e.g. "at 10:42, 3 min after offer"
    notes: list[str] = []  # nudges, escalations, touches: the card's running history
    buttons: list[Button] = []

    @property
    def headline(self) -> str:
        return _("card.headline", name=self.name, company=self.company) if self.company else self.name

    @property
    def summary(self) -> str:
        """The one-line text both platforms notify with (Slack ``text``, Teams fallback and summary)."""
        if self.status == "offered":
            return _("card.new_lead_scored", headline=self.headline, score=self.score)
        return _("card.with_status", headline=self.headline, status=status_word(self.status))


def offer_buttons(data: ButtonData, mode: str) -> list[Button]:
    value = data.pack()
    first = Action.CLAIM if mode == "channel" else Action.ACCEPT
    return [
        Button(
            action=first,
            label=_("button.claim") if first is Action.CLAIM else _("button.accept"),
            value=value,
            style="primary",
        ),
        Button(action=Action.REJECT, label=_("button.reject"), value=value, style="danger"),
    ]


def follow_up_buttons(data: ButtonData) -> list[Button]:
    value = data.pack()
    return [
        Button(action=Action.LOG_CALL, label=_("button.log_call"), value=value),
        Button(action=Action.LOG_EMAIL, label=_("button.log_email"), value=value),
        Button(action=Action.MEETING_BOOKED, label=_("button.meeting_booked"), value=value, style="primary"),
        Button(action=Action.UNREACHABLE, label=_("button.unreachable"), value=value),
    ]
