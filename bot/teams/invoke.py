"""``adaptiveCard/action`` invokes (Universal Actions): one button press → one handler call → one answer.

The answer is the refreshed card (Teams swaps it in for the presser; the outbox update
swaps it for everyone else), the reject form, or a card-level message. Missing or forged
data gets a 400 error response and a refused action a message; neither changes anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.teams.cards import CARD_CONTENT_TYPE, FROM_NOTICE, REFRESH_VERB, REJECT_SUBMIT_VERB, Card
from bot.teams.current import current_card
from bot.teams.identity import not_configured
from bot.teams.render import lead_card
from bot.teams.render_form import reject_form_card
from handlers.handoff import accept as accepting
from handlers.handoff import reassign as reassigning
from handlers.handoff import reject as rejecting
from handlers.handoff import touch as touching
from handlers.handoff.outcome import Outcome
from handlers.services import Services
from handlers.text.refusals import RefusalCode, refusal_text
from handlers.views.actions import Action, ButtonData, InvalidButton, ReassignChoice
from handlers.views.reject_form import RejectForm

SOURCE = "teams"
_TOUCHES = {Action.LOG_CALL, Action.LOG_EMAIL, Action.MEETING_BOOKED, Action.UNREACHABLE}


def card_response(content: Card) -> dict[str, Any]:
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": content}


def message_response(text: str) -> dict[str, Any]:
    """A card-level message: Teams shows it on the card and leaves the card as it was."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def error_response(message: str, status: int = 400, code: str = "BadRequest") -> dict[str, Any]:
    return {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    }


def _string(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value.strip() or None if isinstance(value, str) else None


def parse(value: Any) -> tuple[str, ButtonData, dict[str, Any]] | dict[str, Any]:
    """The verb, button data and inputs of an invoke, or the error response for bad ones."""
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict) or action.get("type") != "Action.Execute":
        return error_response(refusal_text(RefusalCode.NOT_A_CARD_ACTION))
    verb, data = action.get("verb"), action.get("data")
    if not isinstance(verb, str) or verb not in HANDLERS:
        return error_response(refusal_text(RefusalCode.UNKNOWN_CARD_ACTION, verb=str(verb)[:40]))
    if not isinstance(data, dict):
        return error_response(refusal_text(RefusalCode.CARD_WITHOUT_DATA))
    try:
        button = ButtonData.unpack(data.get("value") if isinstance(data.get("value"), str) else None)
    except InvalidButton:
        return error_response(refusal_text(RefusalCode.BUTTON_INVALID))
    return verb, button, data


async def _card_or(
    services: Services, button: ButtonData, outcome: Outcome, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    if not outcome.ok or (data or {}).get(FROM_NOTICE) is True:
        # Pressed on a nudge: say what happened there; the outbox updates the notice and the card.
        return message_response(outcome.message)
    card = await current_card(services, button)
    return card_response(lead_card(card)) if card else message_response(outcome.message)


Handler = Callable[[Services, ButtonData, str, dict[str, Any]], Awaitable[dict[str, Any]]]


async def _refresh(services: Services, button: ButtonData, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    card = await current_card(services, button)
    return (
        card_response(lead_card(card)) if card else error_response(refusal_text(RefusalCode.LEAD_GONE), 404, "NotFound")
    )


async def _accept(services: Services, button: ButtonData, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    return await _card_or(services, button, await accepting.accept(services, button, actor, SOURCE), data)


async def _reject_form(services: Services, button: ButtonData, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    form = await rejecting.reject_form(services, button, actor)
    return card_response(reject_form_card(form)) if isinstance(form, RejectForm) else message_response(form.message)


async def _reject_submit(services: Services, button: ButtonData, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    return await _reject(services, button, actor, _string(data, "reason"), _string(data, "note"))


def _touch(action: Action) -> Handler:
    async def touch(services: Services, button: ButtonData, actor: str, data: dict[str, Any]) -> dict[str, Any]:
        outcome = await touching.log_touch(services, button, actor, action, SOURCE)
        return await _card_or(services, button, outcome, data)

    return touch


def _reassign_to(button: ButtonData, chosen: str) -> str | None:
    """The rep a Reassign choice names: a ``ReassignChoice`` for this very offer, or (cards posted
    before choices were typed) a bare email; None for a choice that names another offer."""
    try:
        choice = ReassignChoice.unpack(chosen)
    except InvalidButton:
        return None if chosen.startswith("v1:") else chosen
    return choice.to_rep if choice.offer == button else None


async def _reassign(services: Services, button: ButtonData, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    chosen = _string(data, f"{Action.REASSIGN.value}_choice")
    if not chosen:
        return message_response(refusal_text(RefusalCode.PICK_A_REP))
    to_rep = _reassign_to(button, chosen)
    if to_rep is None:
        return error_response(refusal_text(RefusalCode.BUTTON_INVALID))
    return message_response((await reassigning.reassign(services, button, actor, to_rep, SOURCE)).message)


async def _take_over(services: Services, button: ButtonData, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    return message_response((await reassigning.take_over(services, button, actor, SOURCE)).message)


# One verb, one handler: the Teams twin of Slack's ``app.action(...)`` listeners.
HANDLERS: dict[str, Handler] = {
    REFRESH_VERB: _refresh,
    Action.ACCEPT.value: _accept,
    Action.CLAIM.value: _accept,
    Action.REJECT.value: _reject_form,
    REJECT_SUBMIT_VERB: _reject_submit,
    **{action.value: _touch(action) for action in _TOUCHES},
    Action.REASSIGN.value: _reassign,
    Action.TAKE_OVER.value: _take_over,
}


async def handle(
    services: Services, value: Any, actor_email: str | None, actor_id: str | None = None
) -> dict[str, Any]:
    """Answer one ``adaptiveCard/action`` invoke whose ``value`` came from Teams."""
    if _agree_verb(value):
        return await _agree(services, value, actor_email, actor_id)
    parsed = parse(value)
    if isinstance(parsed, dict):
        return parsed
    verb, button, data = parsed
    if actor_email is None:
        # Refreshes too: a card is shown only to people the agreement knows.
        return message_response(not_configured(actor_id))
    return await HANDLERS[verb](services, button, actor_email, data)


async def _reject(
    services: Services, button: ButtonData, actor: str, reason: str | None, note: str | None
) -> dict[str, Any]:
    result = await rejecting.reject(services, button, actor, reason, note, SOURCE)
    if result.ok:
        card = await current_card(services, button)
        return card_response(lead_card(card)) if card else message_response(result.message)
    if result.errors:
        form = await rejecting.reject_form(services, button, actor)
        if isinstance(form, RejectForm):
            return card_response(reject_form_card(form, result.errors, reason=reason, note=note))
    return message_response(result.message)


def _agree_verb(value: Any) -> bool:
    action = value.get("action") if isinstance(value, dict) else None
    return (
        isinstance(action, dict) and action.get("type") == "Action.Execute" and action.get("verb") == Action.AGREE.value
    )


async def _agree(services: Services, value: Any, actor_email: str | None, actor_id: str | None) -> dict[str, Any]:
    """A reviewer's Agree on the review reminder (issue 16): carries the agreement's hash, no offer."""
    from handlers.agreement.signoff import agree

    if actor_email is None:
        return message_response(not_configured(actor_id))
    data = value["action"].get("data")
    button = data.get("value") if isinstance(data, dict) else None
    outcome = await agree(services, button if isinstance(button, str) else None, actor_email, SOURCE)
    return message_response(outcome.message)
