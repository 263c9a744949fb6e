"""Telling the admins that messages were parked: one notice per platform, code and target per hour.

When delivery gives a message up (a permanent error, or a transient one that lasted past the
maximum age) the admins hear of it in the ``[channels] ops`` channel, else the managers
channel. Many messages failing the same way (sixty cards to an archived channel) make one
notice an hour, not sixty: the outbox's dedupe key holds the platform, code, target and hour,
and is written in the same transaction that parks the row. An alert that cannot be delivered
itself is parked quietly; it never raises another alert.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messaging import outbox
from handlers.services import Services
from handlers.text import N_, _
from handlers.views.notice import Field, Notice
from store.models import OutboxMessage

log = logging.getLogger(__name__)
ALERT_DEDUPE = "delivery-alert:"
_PLATFORMS = {
    "slack": N_("alert.platform.slack"),
    "teams": N_("alert.platform.teams"),
    "webhook": N_("alert.platform.webhook"),
    "crm": N_("alert.platform.crm"),
}


def is_alert(row: OutboxMessage) -> bool:
    """An alert of ours (its dedupe key says so): never alerted about in turn."""
    return bool(row.dedupe_key) and ALERT_DEDUPE in str(row.dedupe_key)


def target_of(row: OutboxMessage, target_channel: str | None = None) -> str:
    """Where the row was going, for people: a channel, a person or a webhook's host."""
    payload = row.payload or {}
    if row.kind in ("webhook", "crm_action"):
        url = str(payload.get("url") or "")
        return url.split("://", 1)[-1].split("/", 1)[0] or _("alert.a_webhook")
    for key in ("channel", "email", "user"):
        if payload.get(key):
            return str(payload[key])
    return target_channel or str(row.message_key or "unknown")


def _short(text: str) -> str:
    # Dedupe keys are at most 200 characters; a long Teams conversation id is hashed.
    return text if len(text) <= 60 else hashlib.sha256(text.encode()).hexdigest()[:16]


async def alert_parked(
    session: AsyncSession, services: Services, row: OutboxMessage, *, code: str, reason: str, target: str, expired: bool
) -> bool:
    """Enqueue the alert for a parked row in the caller's transaction; False when there is
    nowhere to send it (no ops or managers channel) or it is an alert itself."""
    if is_alert(row):
        log.warning("an alert to the admins could not be delivered (outbox row %s): %s", row.id, reason)
        return False
    channels = services.agreement.channels
    where = channels.ops or channels.managers
    if where is None:
        log.warning("outbox row %s parked (%s) and no [channels] ops or managers channel to tell", row.id, code)
        return False
    now = services.clock.now()
    hour = now.strftime("%Y%m%d%H")
    platform = _(_PLATFORMS[row.platform]) if row.platform in _PLATFORMS else row.platform
    if expired:
        title = _("alert.gave_up", platform=platform)
        lines = [_("alert.gave_up_why", target=target), _("alert.gave_up_fix")]
    else:
        title = _("alert.refused", platform=f"{platform[:1].upper()}{platform[1:]}")
        lines = [_("alert.refused_why", target=target), _("alert.refused_fix")]
    notice = Notice(
        title=title,
        lines=lines,
        fields=[
            Field(label=_("alert.code"), value=code),
            Field(label=_("alert.target"), value=target),
            Field(label=_("alert.reason"), value=reason[:300]),
            Field(label=_("alert.outbox_row"), value=str(row.id)),
        ],
        context=_("alert.context", platform=row.platform, code=code, seen=now.strftime("%Y-%m-%d %H:%M")),
    )
    dedupe = f"{ALERT_DEDUPE}{row.platform}:{code[:40]}:{_short(target)}:{hour}"
    await outbox.post(session, services, notice, to_channel=where, dedupe=dedupe)
    return True
