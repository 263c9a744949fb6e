"""The reject-reason form as an Adaptive Card: a reason picker, a note, and field errors."""

from __future__ import annotations

from typing import Any

from bot.teams.cards import REFRESH_VERB, REJECT_SUBMIT_VERB, Card, card, execute, text
from bot.teams.markdown import bold, escape
from handlers.text import _
from handlers.views.reject_form import RejectForm


def reject_form_card(
    form: RejectForm, errors: dict[str, str] | None = None, *, reason: str | None = None, note: str | None = None
) -> Card:
    """The form; ``errors`` (field → problem) and the previous answers when it is shown again.

    The card marks the note required only once the chosen reason needs one (a card cannot make
    one input depend on another); the server validates either way.
    """
    errors = errors or {}
    company = _("form.at_company", company=escape(form.company)) if form.company else ""
    codes = {c.value for c in form.reasons}
    chosen = reason if reason in codes else None
    needs_note = [c.label for c in form.reasons if c.value in form.note_required]
    picker: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": "reason",
        "label": _("form.reason"),
        "isRequired": True,
        "style": "compact",
        "placeholder": _("form.choose_reason"),
        "errorMessage": _("reject.error.choose_reason"),
        "choices": [{"title": c.label, "value": c.value} for c in form.reasons],
    }
    if chosen:
        picker["value"] = chosen
    note_input: dict[str, Any] = {
        "type": "Input.Text",
        "id": "note",
        "label": _("form.note"),
        "isMultiline": True,
        "maxLength": form.note_max,
        "placeholder": _("form.note_placeholder"),
        "isRequired": bool(chosen and chosen in form.note_required),
        "errorMessage": _("form.note_required_here"),
    }
    if note:
        note_input["value"] = note[: form.note_max]
    body: list[dict[str, Any]] = [
        text(_("form.teams_heading", name=bold(form.lead_name), at=company), size="Medium", weight="Bolder")
    ]
    if form.note_required:
        body.append(
            text(_("form.note_required_for", reasons="; ".join(escape(label) for label in needs_note)), isSubtle=True)
        )
    body.append(picker)
    if "reason" in errors:
        body.append(text(escape(errors["reason"]), color="Attention", spacing="None"))
    body.append(note_input)
    if "note" in errors:
        body.append(text(escape(errors["note"]), color="Attention", spacing="None"))
    actions = [
        execute(REJECT_SUBMIT_VERB, _("form.title"), form.value, style="danger"),
        execute(REFRESH_VERB, _("form.cancel"), form.value, inputs=False),
    ]
    return card(body, actions, fallback=_("form.teams_heading", name=form.lead_name, at=""))
