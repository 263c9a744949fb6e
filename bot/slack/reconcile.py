"""Did an earlier attempt already post this outbox row? Ask Slack before posting again.

Every chat.postMessage carries message ``metadata`` naming its outbox row
(``event_type`` ``baton_outbox``, ``event_payload`` ``{"outbox_id": id}``); a chart posted
with files_upload_v2 cannot carry metadata, so its first block's ``block_id`` names the row
instead. When a delivery is doubtful (an attempt was claimed and never settled, or its answer
was lost), ``conversations.history`` from a little before that attempt, with
``include_all_metadata``, shows whether it landed. The search is bounded (``MAX_PAGES``): a
channel that busy gets the message again rather than never.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.messaging.ports import Delivered, Delivery

EVENT_TYPE = "baton_outbox"
BLOCK_PREFIX = "baton_outbox_"
# Our clock and Slack's may differ, and the post may have been sent a little before the claim
# was recorded as seen by the worker: look back this far before the claim.
LOOKBACK = timedelta(minutes=5)
PAGE = 200
MAX_PAGES = 5


def metadata(delivery: Delivery) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"outbox_id": delivery.id}}


def mark_blocks(blocks: list[dict[str, Any]], delivery: Delivery) -> list[dict[str, Any]]:
    """The blocks with the first one's ``block_id`` naming the row (for posts without metadata)."""
    if not blocks:
        return blocks
    first = {**blocks[0], "block_id": f"{BLOCK_PREFIX}{delivery.id}"}
    return [first, *blocks[1:]]


def _names_row(message: dict[str, Any], row_id: int) -> bool:
    meta = message.get("metadata")
    if isinstance(meta, dict) and meta.get("event_type") == EVENT_TYPE:
        payload = meta.get("event_payload")
        if isinstance(payload, dict) and str(payload.get("outbox_id")) == str(row_id):
            return True
    wanted = f"{BLOCK_PREFIX}{row_id}"
    return any(isinstance(b, dict) and b.get("block_id") == wanted for b in message.get("blocks") or [])


async def find(client: AsyncWebClient, channel: str, delivery: Delivery) -> Delivered | None:
    """Where this row's message already is in ``channel``, or None. Slack errors propagate.

    From a little before the claim when the worker knows it; else (an answer this process lost
    moments ago) the newest pages, which is where that message would be."""
    since: datetime | None = delivery.claimed_at - LOOKBACK if delivery.claimed_at else None
    oldest = f"{since.timestamp():.6f}" if since else None
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        response = await client.conversations_history(
            channel=channel, include_all_metadata=True, limit=PAGE, cursor=cursor, oldest=oldest, inclusive=bool(oldest)
        )
        for message in response.get("messages") or []:
            if isinstance(message, dict) and _names_row(message, delivery.id):
                return Delivered(channel, str(message.get("ts")))
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not response.get("has_more") or not cursor:
            return None
    return None
