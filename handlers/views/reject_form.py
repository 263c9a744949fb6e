"""The form a rep fills in to reject a lead: a reason from the agreement and a note."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from handlers.views import register_view
from handlers.views.actions import Choice


@register_view
class RejectForm(BaseModel):
    type: Literal["reject_form"] = "reject_form"
    lead_id: int
    handoff_id: int
    value: str  # the packed ButtonData, carried through the form (Slack private_metadata)
    lead_name: str
    company: str | None = None
    reasons: list[Choice]
    note_required: list[str] = []  # reason codes whose note is mandatory
    note_max: int = 2000
