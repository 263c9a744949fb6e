"""Tell the admins, once an hour at most, that a chat platform is failing its health check.

The alert is an outbox message like any other, so it is written once across replicas (the
outbox dedupe key names the platform, the hour and the admin) and goes out on every platform
the admin is on: the copy on the failing platform waits in the outbox and is sent when that
platform recovers, the copy on the other platform (if the admin has one) goes out at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from handlers.messaging import outbox
from handlers.services import Services
from handlers.text import _
from handlers.views.notice import Notice

log = logging.getLogger(__name__)
LABELS = {"slack": "Slack", "teams": "Microsoft Teams"}


def alert_dedupe(platform: str, now: datetime) -> str:
    """The dedupe key's stem: one alert per platform per UTC hour."""
    return f"platform-down:{platform}:{now:%Y-%m-%dT%H}"


def platform_notice(platform: str, detail: str, now: datetime) -> Notice:
    label = LABELS.get(platform, platform)
    return Notice(
        title=_("alert.down.title", platform=label),
        lines=[
            _("alert.down.since", since=f"{now:%Y-%m-%d %H:%M}", platform=label, detail=detail),
            _("alert.down.still_taken", platform=label),
            _("alert.down.check"),
        ],
        context=_("alert.down.context", platform=label),
    )


async def alert_platform_down(services: Services, platform: str, detail: str) -> int:
    """Enqueue the alert for every admin with a chat identity (else the managers channel);
    returns how many recipients it was addressed to. Repeats within the hour change nothing."""
    agreement = services.agreement
    now = services.clock.now()
    notice = platform_notice(platform, detail, now)
    stem = alert_dedupe(platform, now)
    admins = sorted({a.lower() for a in agreement.roles.admins if agreement.person_by(email=a)})
    channel = agreement.channels.managers
    if not admins and channel is None:
        log.warning(
            "%s is failing (%s) and no admin has a chat identity and there is no managers channel to tell",
            LABELS.get(platform, platform),
            detail,
        )
        return 0
    async with services.db.transaction() as session:
        for admin in admins:
            await outbox.post(session, services, notice, to_person=admin, dedupe=f"{stem}:{admin}")
        if not admins and channel is not None:
            await outbox.post(session, services, notice, to_channel=channel, dedupe=f"{stem}:managers")
    services.wake_delivery()
    return len(admins) or 1
