"""Why no chat platform reaches a person, in words (``scoring.reach.Unreachable`` → a sentence)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.text import N_, _
from scoring.reach import Gap, PlatformGap, Unreachable

GAPS = {
    Gap.NO_ID: N_("reach.gap.no_id"),
    Gap.NOT_INSTALLED: N_("reach.gap.not_installed"),
    Gap.NO_PLATFORM: N_("reach.gap.no_platform"),
}
# "has a slack_id but Slack is not configured": by how the platform is switched on.
SWITCHED_OFF = {
    "configured": N_("reach.gap.switched_off.configured"),
    "enabled": N_("reach.gap.switched_off.enabled"),
}


def gap_text(gap: PlatformGap | Mapping[str, Any]) -> str:
    found = (
        gap
        if isinstance(gap, PlatformGap)
        else PlatformGap(
            Gap(gap["gap"]), gap.get("platform", ""), gap.get("title", ""), gap.get("switch", "configured")
        )
    )
    values = {"id_key": f"{found.platform}_id", "title": found.title}
    if found.gap is Gap.SWITCHED_OFF:
        return _(SWITCHED_OFF.get(found.switch, SWITCHED_OFF["configured"]), **values)
    return _(GAPS[found.gap], **values)


def unreachable_text(unreachable: Unreachable | Mapping[str, Any]) -> str:
    """E.g. "reachable on no enabled chat platform (no slack_id)"."""
    gaps = unreachable.gaps if isinstance(unreachable, Unreachable) else unreachable.get("gaps", [])
    return _("reach.unreachable", why="; ".join(gap_text(g) for g in gaps))
