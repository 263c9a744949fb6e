"""Questions typed to the bot: in a personal chat, or in a channel/group chat with an @mention.

The mention is stripped and the text goes to the same query engine as Slack's ``/baton``;
the answer (a ``Notice``) comes back as a card in the same conversation.
"""

from __future__ import annotations

import html
import logging
import re

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.logs import log_failure
from bot.teams.activities import card_activity
from bot.teams.render import render_view, summary
from handlers.queries import answer  # the same engine as Slack's /baton
from handlers.services import Services
from handlers.text import _
from handlers.views.notice import Notice

log = logging.getLogger(__name__)
_TAGS = re.compile(r"<[^>]+>")
MAX_QUESTION = 500


def mentions_bot(activity: Activity) -> bool:
    recipient = activity.recipient.id if activity.recipient else None
    for mention in TurnContext.get_mentions(activity):
        mentioned = (mention.additional_properties or {}).get("mentioned") or {}
        if recipient and mentioned.get("id") == recipient:
            return True
    return False


def question_text(activity: Activity) -> str | None:
    """The question, without the bot's mention and markup; ``None`` when it is not for Baton."""
    if activity.conversation and activity.conversation.conversation_type in ("channel", "groupChat"):
        if not mentions_bot(activity):
            return None  # channel chatter that merely reached the bot
        TurnContext.remove_recipient_mention(activity)
    # Teams may send formatted messages as HTML; the query engine wants plain words.
    text = html.unescape(_TAGS.sub(" ", activity.text or ""))
    return " ".join(text.split())[:MAX_QUESTION]


async def answer_message(services: Services, context: TurnContext, asker_email: str | None) -> bool:
    """Answer the message if it is a question for Baton; returns whether it was."""
    text = question_text(context.activity)
    if text is None:
        return False
    try:
        notice = await answer(services, text or "help", asker_email)
    except Exception as exc:  # a broken query must still get an answer, not silence (as on Slack)
        log_failure(log, f"the query engine failed on {text[:80]!r}", exc, logging.ERROR)
        notice = Notice(title=_("answer.failed"), lines=[_("answer.try_again", help="help")])
    try:
        await context.send_activity(card_activity(render_view(notice), summary(notice)))
    except Exception as exc:  # the answer is a courtesy: the message itself was received and remembered
        log_failure(log, "could not answer a Teams message", exc)
    return True
