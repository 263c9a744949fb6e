"""Typed aiohttp application keys: how request handlers reach the process's services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.settings import Settings
from handlers.services import Services

if TYPE_CHECKING:
    from bot.runtime import Runtime

SETTINGS = web.AppKey("settings", Settings)
MAX_BODY = web.AppKey("max_body", int)
SERVICES = web.AppKey("services", Services)
RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")
