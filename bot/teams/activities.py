"""Bot Framework activities that carry one Adaptive Card."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount, Mention

from bot.teams.cards import CARD_CONTENT_TYPE, Card


def card_activity(
    content: Card,
    summary: str,
    *,
    activity_id: str | None = None,
    image_png_b64: str | None = None,
    image_name: str = "chart.png",
    text: str | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Activity:
    """A message holding ``content`` (and, if given, an inline PNG after it); ``summary`` is the
    notification text; ``activity_id`` names the message an update replaces; ``text`` and
    ``entities`` carry real mentions (``bot.teams.mentions``)."""
    attachments = [Attachment(content_type=CARD_CONTENT_TYPE, content=content)]
    if image_png_b64:
        attachments.append(
            Attachment(content_type="image/png", name=image_name, content_url=f"data:image/png;base64,{image_png_b64}")
        )
    return Activity(
        type=ActivityTypes.message,
        id=activity_id,
        summary=summary[:200],
        attachment_layout="list",
        attachments=attachments,
        text=text,
        text_format="markdown" if text else None,
        entities=[_mention(e) for e in entities] if entities else None,
    )


def _mention(entity: dict[str, Any]) -> Mention:
    # botbuilder's Mention keeps ``mentioned`` when serialised (a bare Entity drops it).
    mentioned = entity["mentioned"]
    return Mention(
        mentioned=ChannelAccount(id=mentioned["id"], name=mentioned["name"]), text=entity["text"], type="mention"
    )
