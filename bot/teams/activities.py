"""Bot Framework activities that carry one Adaptive Card."""

from __future__ import annotations

from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.teams.cards import CARD_CONTENT_TYPE, Card


def card_activity(
    content: Card,
    summary: str,
    *,
    activity_id: str | None = None,
    image_png_b64: str | None = None,
    image_name: str = "chart.png",
) -> Activity:
    """A message holding ``content`` (and, if given, an inline PNG after it); ``summary`` is the
    notification text; ``activity_id`` names the message an update replaces."""
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
    )
