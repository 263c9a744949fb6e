"""App Home: a rep's open offers (with Accept / Reject), accepted leads and their next deadline,
and touches logged this week, from ``handlers.queries.my.my_leads``."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import log_failure
from bot.slack.blocks import Block, clip, context, divider, escape, section
from bot.slack.context import Deps
from bot.slack.identity import not_configured, person_for
from bot.slack.render import actions_blocks
from bot.slack.welcome import welcome_home
from handlers.handoff.cards import local_time
from handlers.queries.my import MyLead, MyLeads, my_leads
from handlers.text import _, n_
from handlers.views.actions import ButtonData
from handlers.views.lead_card import offer_buttons
from scoring.agreement import Agreement

log = logging.getLogger(__name__)
MAX_HOME_BLOCKS = 100


def _label(item: MyLead) -> str:
    at = _("form.at_company", company=escape(item.company)) if item.company else ""
    return _("home.lead", name=f"*{escape(item.name)}*", at=at, score=item.score)


def home_view(agreement: Agreement, email: str, mine: MyLeads) -> dict[str, Any]:
    """The Home tab as a Block Kit view; pure."""
    blocks: list[Block] = [section(_("home.offered", count=len(mine.offers)))]
    if not mine.offers:
        blocks.append(context(_("home.nothing_waiting")))
    for item in mine.offers:
        due = "\n" + _("home.accept_by", when=escape(local_time(agreement, email, item.due_at))) if item.due_at else ""
        blocks.append(section(_label(item) + due))
        blocks += actions_blocks(offer_buttons(ButtonData(item.lead_id, item.handoff_id), "direct"))
    blocks += [divider(), section(_("home.accepted", count=len(mine.accepted)))]
    lines = [
        f"• {_label(item)}: "
        + (
            _("home.first_touch_done", when=escape(local_time(agreement, email, item.first_touch_at)))
            if item.first_touch_at
            else _("home.first_touch_due", when=escape(local_time(agreement, email, item.due_at)))
            if item.due_at
            else _("home.no_deadline")
        )
        for item in mine.accepted
    ]
    blocks.append(section(clip("\n".join(lines), 3000)) if lines else context(_("home.no_accepted")))
    blocks += [divider(), context(n_("home.touches_this_week", mine.touches_this_week))]
    if len(blocks) > MAX_HOME_BLOCKS:
        blocks = [*blocks[: MAX_HOME_BLOCKS - 1], context(_("home.more"))]
    return {"type": "home", "blocks": blocks}


def stranger_view(slack_user: str) -> dict[str, Any]:
    return {"type": "home", "blocks": [section(escape(not_configured(slack_user)))]}


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        async with deps.inflight.track():
            slack_user = str(event.get("user") or "")
            await welcome_home(deps, client, slack_user)  # the first visit, to either tab
            if event.get("tab", "home") != "home":
                return
            person = person_for(deps.services.agreement, slack_user)
            if person is None:
                view = stranger_view(slack_user)
            else:
                mine = await my_leads(deps.services, person.email)
                view = home_view(deps.services.agreement, person.email, mine)
            try:
                await client.views_publish(user_id=slack_user, view=view)
            except Exception as exc:
                log_failure(log, f"could not publish the App Home for {slack_user}", exc)

    app.event("app_home_opened")(on_home_opened)
