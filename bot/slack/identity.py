"""Who is clicking: a Slack user id mapped to a person of the agreement."""

from __future__ import annotations

from typing import Any

from handlers.text import _
from handlers.text.refusals import RefusalCode, refusal_text
from scoring.agreement import Agreement, Person


def person_for(agreement: Agreement, slack_user_id: str | None) -> Person | None:
    return agreement.person_by(slack_id=slack_user_id) if slack_user_id else None


def user_id(body: dict[str, Any]) -> str | None:
    """The acting user's id in an interaction, a slash command or an event payload."""
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id")) if user.get("id") else None
    if isinstance(user, str):
        return user
    event = body.get("event")
    if isinstance(event, dict) and isinstance(event.get("user"), str):
        return str(event["user"])
    return str(body["user_id"]) if body.get("user_id") else None


def not_configured(slack_user_id: str | None) -> str:
    return refusal_text(RefusalCode.NOT_CONFIGURED, platform="Slack", user=slack_user_id or _("person.unknown_id"))
