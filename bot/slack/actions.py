"""Lead and manager buttons: ack first, then one handler call, then the Outcome as an ephemeral.

Accept and Claim call ``handlers.handoff.accept.accept``; the touch buttons ``handlers.handoff.touch.log_touch``;
Take over and the Reassign picker ``handlers.handoff.reassign``. The card update everyone sees goes
through the outbox; only the answer to the clicker is sent from here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.context import SOURCE, Deps, tell
from bot.slack.identity import not_configured, person_for, user_id
from bot.slack.render import REASSIGN_BLOCK
from handlers.agreement.signoff import agree
from handlers.handoff.accept import accept
from handlers.handoff.reassign import reassign, take_over
from handlers.handoff.touch import log_touch
from handlers.text.refusals import RefusalCode, refusal_text
from handlers.views.actions import ACTION_PREFIX, Action, ButtonData, InvalidButton, ReassignChoice
from scoring.agreement import Person

TOUCH_ACTIONS = (Action.LOG_CALL, Action.LOG_EMAIL, Action.MEETING_BOOKED, Action.UNREACHABLE)


async def who_and_what(deps: Deps, body: dict[str, Any], value: str | None) -> tuple[Person, ButtonData] | str:
    """The acting person and the button's data, or the polite refusal to show them."""
    slack_user = user_id(body)
    person = person_for(deps.services.agreement, slack_user)
    if person is None:
        return not_configured(slack_user)
    try:
        return person, ButtonData.unpack(value)
    except InvalidButton:
        return refusal_text(RefusalCode.BUTTON_INVALID)


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return actions[0] if isinstance(actions[0], dict) else {}


Act = Callable[[dict[str, Any], Person, ButtonData], Awaitable[str]]


def _value(action: dict[str, Any]) -> str | None:
    return action.get("value")


def _selected(action: dict[str, Any]) -> str:
    selected = action.get("selected_option")
    return str((selected if isinstance(selected, dict) else {}).get("value") or "")


def _reassign_choice(action: dict[str, Any]) -> ReassignChoice | None:
    try:
        return ReassignChoice.unpack(_selected(action))
    except InvalidButton:
        return None


def _reassign_value(action: dict[str, Any]) -> str:
    # Each option carries the offer (ReassignChoice); cards posted before carried it in the block id.
    choice = _reassign_choice(action)
    if choice is not None:
        return choice.offer.pack()
    return str(action.get("block_id", "")).removeprefix(f"{REASSIGN_BLOCK}|")


# The buttons whose listener (``_button``) runs its handler in ``AckGate.turn``.
_IN_TURN = frozenset(
    a.action_id for a in (Action.ACCEPT, Action.CLAIM, Action.TAKE_OVER, Action.REASSIGN, *TOUCH_ACTIONS)
)


def arrival_key(body: dict[str, Any]) -> str | None:
    """The lead a button click is about (``AckGate.turn`` keeps clicks on one lead in order)."""
    if body.get("type") != "block_actions":
        return None
    action = _action(body)
    if action.get("action_id") not in _IN_TURN:  # e.g. Reject opens a modal: nothing to race
        return None
    for value in (_reassign_value(action), _value(action)):
        try:
            return f"lead:{ButtonData.unpack(value).lead_id}"
        except InvalidButton:
            continue
    return None


def _button(deps: Deps, act: Act, value_of: Callable[[dict[str, Any]], str | None] = _value) -> Callable[..., Any]:
    """A thin listener: ack, identify the clicker and the offer, make one handler call, answer them."""

    async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        async with deps.inflight.track():
            await ack()
            await deps.acks.settled()  # let the other acks of a burst go out before the database work
            action = _action(body)
            async with deps.acks.turn():  # clicks on one lead run in the order Slack delivered them
                found = await who_and_what(deps, body, value_of(action))
                message = found if isinstance(found, str) else await act(action, *found)
            await tell(body, client, respond, message)

    return listener


def register(app: AsyncApp, deps: Deps) -> None:
    services = deps.services

    async def on_accept(action: dict[str, Any], person: Person, data: ButtonData) -> str:
        return (await accept(services, data, person.email, SOURCE)).message

    async def on_touch(action: dict[str, Any], person: Person, data: ButtonData) -> str:
        which = Action(str(action.get("action_id", "")).removeprefix(ACTION_PREFIX))
        return (await log_touch(services, data, person.email, which, SOURCE)).message

    async def on_take_over(action: dict[str, Any], person: Person, data: ButtonData) -> str:
        return (await take_over(services, data, person.email, SOURCE)).message

    async def on_reassign(action: dict[str, Any], person: Person, data: ButtonData) -> str:
        choice = _reassign_choice(action)
        to_rep = choice.to_rep if choice is not None else _selected(action)
        if not to_rep:
            return refusal_text(RefusalCode.PICK_A_REP)
        return (await reassign(services, data, person.email, to_rep, SOURCE)).message

    for action in (Action.ACCEPT, Action.CLAIM):
        app.action(action.action_id)(_button(deps, on_accept))
    for action in TOUCH_ACTIONS:
        app.action(action.action_id)(_button(deps, on_touch))
    app.action(Action.TAKE_OVER.action_id)(_button(deps, on_take_over))
    app.action(Action.REASSIGN.action_id)(_button(deps, on_reassign, _reassign_value))
    app.action(Action.AGREE.action_id)(_agree_listener(deps))


def _agree_listener(deps: Deps) -> Callable[..., Any]:
    """The reviewer's Agree on the quarterly review reminder (issue 16): no offer, so no ButtonData."""

    async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        async with deps.inflight.track():
            await ack()
            slack_user = user_id(body)
            person = person_for(deps.services.agreement, slack_user)
            if person is None:
                message = not_configured(slack_user)
            else:
                message = (await agree(deps.services, _value(_action(body)), person.email, SOURCE)).message
            await tell(body, client, respond, message)

    return listener
