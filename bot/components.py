"""Which integrations a process runs, from its settings and the platform registry."""

from __future__ import annotations

import logging

from bot.crm import add_crm
from bot.runtime import Runtime
from bot.webhooks import add_webhooks

log = logging.getLogger(__name__)


def add_components(runtime: Runtime) -> None:
    """Plug in webhooks, the CRM write-back and every registered chat platform the settings enable."""
    if runtime.agreement.webhooks:
        add_webhooks(runtime)
    if runtime.agreement.crm_actions:
        add_crm(runtime)
    for platform in runtime.platforms:
        if platform.enabled(runtime.settings):
            runtime.add(platform.component(runtime))
        elif platform.not_configured:
            log.warning("%s", platform.not_configured)
