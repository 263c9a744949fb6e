"""Adaptive Card building blocks shared by the Teams renderers (schema 1.5, no Teams-only extensions)."""

from __future__ import annotations

from typing import Any

from bot.teams.markdown import escape
from handlers.text import _
from handlers.views.actions import Action, Button, ButtonData, InvalidButton, ReassignChoice

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
REFRESH_VERB = "refresh"
REJECT_SUBMIT_VERB = "reject_submit"
_STYLE = {"primary": "positive", "danger": "destructive"}

Card = dict[str, Any]


def card(
    body: list[dict[str, Any]],
    actions: list[dict[str, Any]] | None = None,
    *,
    fallback: str | None = None,
    refresh: dict[str, Any] | None = None,
) -> Card:
    out: Card = {"type": "AdaptiveCard", "version": CARD_VERSION, "body": body}
    if actions:
        out["actions"] = actions
    if refresh:
        out["refresh"] = refresh
    if fallback:
        # The schema says fallback text may contain markdown, so it is escaped like the rest.
        out["fallbackText"] = escape(fallback[:1000])
    return out


def text(value: str, **style: Any) -> dict[str, Any]:
    """A wrapped TextBlock; ``value`` must already be escaped (or be Baton's own markdown)."""
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def facts(pairs: list[tuple[str, str | None]]) -> dict[str, Any] | None:
    shown = [{"title": escape(k), "value": escape(v)} for k, v in pairs if v not in (None, "")]
    return {"type": "FactSet", "facts": shown} if shown else None


# Marks a button pressed on a notice (a nudge), not on the lead card: the answer must not swap the
# lead card in where the notice was.
FROM_NOTICE = "from_notice"


def execute(
    verb: str, title: str, value: str, *, style: str | None = None, inputs: bool = True, notice: bool = False
) -> dict[str, Any]:
    """An ``Action.Execute`` (Universal Actions): Teams sends an ``adaptiveCard/action`` invoke."""
    data: dict[str, Any] = {"value": value, FROM_NOTICE: True} if notice else {"value": value}
    action: dict[str, Any] = {"type": "Action.Execute", "title": title, "verb": verb, "data": data}
    if style in _STYLE:
        action["style"] = _STYLE[style]
    if not inputs:
        action["associatedInputs"] = "none"
    return action


def choice_input_id(button: Button) -> str:
    """The input id a picker button's choice arrives under in the invoke's ``data``."""
    return f"{button.action.value}_choice"


def buttons(items: list[Button], *, notice: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Body inputs (pickers) and card actions for ``items`` (``notice``: on a notice, not a lead card)."""
    inputs: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for button in items:
        if button.choices:
            inputs.append(
                {
                    "type": "Input.ChoiceSet",
                    "id": choice_input_id(button),
                    "style": "compact",
                    "label": button.label,
                    "isRequired": True,
                    "errorMessage": _("card.choose_someone", action=button.label.lower()),
                    "choices": [{"title": c.label, "value": _choice_value(button, c.value)} for c in button.choices],
                }
            )
        actions.append(
            execute(
                button.action.value,
                button.label,
                button.value,
                style=button.style,
                inputs=bool(button.choices),
                notice=notice,
            )
        )
    return inputs, actions


def _choice_value(button: Button, value: str) -> str:
    """A Reassign option carries the typed ``ReassignChoice`` (offer and rep), as on Slack."""
    if button.action is not Action.REASSIGN:
        return value
    try:
        return ReassignChoice(ButtonData.unpack(button.value), value).pack()
    except InvalidButton:
        return value
