"""Reject: the button opens the reason modal, its submission calls ``handlers.handoff.reject.reject``.

A ``trigger_id`` dies 3 s after Slack sends it, so the modal is opened right after
``ack()`` with a placeholder, and filled in (or replaced by the refusal) with
``views.update`` once ``reject_form`` has checked the offer.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.actions import who_and_what
from bot.slack.blocks import escape, plain, section
from bot.slack.context import SOURCE, Deps, tell
from bot.slack.render import NOTE_ACTION, NOTE_BLOCK, REASON_ACTION, REASON_BLOCK, REJECT_CALLBACK, reject_modal
from handlers.handoff.outcome import Outcome
from handlers.handoff.reject import reject, reject_form
from handlers.text import _
from handlers.views.actions import Action

log = logging.getLogger(__name__)
_FIELD_BLOCKS = {"reason": REASON_BLOCK, "note": NOTE_BLOCK}


def info_modal(title: str, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain(_("form.close"), 24),
        "blocks": [section(escape(text))],
    }


def _submitted(view: dict[str, Any]) -> tuple[str | None, str | None]:
    values = (view.get("state") or {}).get("values") or {}
    selected = ((values.get(REASON_BLOCK) or {}).get(REASON_ACTION) or {}).get("selected_option") or {}
    note = ((values.get(NOTE_BLOCK) or {}).get(NOTE_ACTION) or {}).get("value")
    return selected.get("value"), note


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def register(app: AsyncApp, deps: Deps) -> None:
    services = deps.services

    async def on_reject(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        async with deps.inflight.track():
            await ack()
            action = (body.get("actions") or [{}])[0]
            found = await who_and_what(deps, body, action.get("value"))  # no I/O: the trigger id is ticking
            if isinstance(found, str):
                return await tell(body, client, respond, found)
            person, data = found
            try:
                opened = await client.views_open(
                    trigger_id=body["trigger_id"], view=info_modal(_("form.title"), _("form.loading"))
                )
            except SlackApiError as exc:
                log.warning("views.open failed: %s", exc.response.get("error"))
                return await tell(body, client, respond, _("form.open_too_late"))
            form = await reject_form(services, data, person.email)
            channel = (body.get("channel") or {}).get("id")
            view = (
                info_modal(_("form.cant_reject"), form.message)
                if isinstance(form, Outcome)
                else reject_modal(form, channel)
            )
            try:
                await client.views_update(view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=view)
            except SlackApiError as exc:  # the modal stays on "Loading"; the rep can close and retry
                log.warning("views.update failed: %s", exc.response.get("error"))

    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        async with deps.inflight.track():
            meta = _metadata(view)
            found = await who_and_what(deps, body, meta.get("value"))
            if isinstance(found, str):
                await ack(response_action="errors", errors={REASON_BLOCK: found[:150]})
                return
            person, data = found
            reason, note = _submitted(view)
            result = await reject(services, data, person.email, reason, note, SOURCE)
            if result.errors:
                await ack(
                    response_action="errors",
                    errors={_FIELD_BLOCKS.get(k, REASON_BLOCK): v for k, v in result.errors.items()},
                )
                return
            if not result.ok:
                await ack(response_action="update", view=info_modal(_("form.not_rejected"), result.message))
                return
            await ack()
            where = {"channel": {"id": meta["channel"]}} if meta.get("channel") else {}
            await tell({**body, **where}, client, None, result.message)

    app.action(Action.REJECT.action_id)(on_reject)
    app.view(REJECT_CALLBACK)(on_submit)
