"""CRM sync-back: deliver outbox rows of platform ``webhook`` as signed JSON POSTs.

``handlers.messaging.events.record`` enqueues one row per subscribed URL in the same
transaction as the audit event; ``DeliveryWorker`` calls ``WebhookSender.send``.
Each request carries:

- ``X-Baton-Event``: the event name (``lead.accepted``...);
- ``X-Baton-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Baton-Signature: sha256=<hex HMAC-SHA256(BATON_WEBHOOK_SECRET, "<timestamp>." + body)>``,
  the same scheme the intake API accepts (``bot.api.auth.sign``);
- ``X-Baton-Delivery``: the outbox row id, the same on every retry, so a receiver can deduplicate.

A 2xx answer means delivered. 429, 5xx and network errors are retried (honouring
``Retry-After``); other answers too, with backoff, because a receiver is often
misconfigured only for a while. Once the row is older than ``BATON_OUTBOX_MAX_AGE`` it is
parked as failed and ``baton outbox list --status failed`` shows why. A slow or
dead receiver never pauses other rows: no answer here pauses the platform.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from bot.api.auth import sign
from bot.settings import ConfigError
from handlers.clock import Clock
from handlers.messaging.ports import Delivered, Delivery, PermanentFailure, RetryLater, Sender, retry_after

if TYPE_CHECKING:
    from bot.runtime import Runtime

TIMEOUT = aiohttp.ClientTimeout(total=10)
_REASON_CHARS = 200


def encode(body: object) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


class WebhookSender:
    """The ``Sender`` for platform ``webhook``. One ``aiohttp.ClientSession`` per process."""

    platform = "webhook"

    def __init__(self, secret: str, clock: Clock, timeout: aiohttp.ClientTimeout = TIMEOUT) -> None:
        self.secret = secret
        self.clock = clock
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def pacing_scopes(self, delivery: Delivery) -> tuple[str, ...]:
        return ()

    async def start(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, delivery: Delivery) -> Delivered | None:
        url, body = delivery.payload.get("url"), delivery.payload.get("body")
        if not isinstance(url, str) or not isinstance(body, dict):
            raise PermanentFailure("webhook row has no url or body")
        await self.start()
        assert self._session is not None
        data = encode(body)
        now = self.clock.now()
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Baton-Webhooks/1",
            "X-Baton-Event": str(body.get("event", "")),
            "X-Baton-Timestamp": timestamp,
            "X-Baton-Signature": sign(self.secret, timestamp, data),
            "X-Baton-Delivery": str(delivery.id),
        }
        try:
            async with self._session.post(url, data=data, headers=headers, allow_redirects=False) as response:
                if 200 <= response.status < 300:
                    return None
                text = (await response.text(errors="replace"))[:_REASON_CHARS]
                wait = retry_after(response.headers.get("Retry-After"), now)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(None, f"network: {type(exc).__name__}: {str(exc)[:_REASON_CHARS]}") from None
        reason = f"http_{status}: {_describe(status)} from {_host(url)}" + (f": {text.strip()}" if text.strip() else "")
        # Retried whatever the status; Retry-After is honoured for any of them.
        raise RetryLater(wait, reason)


def _describe(status: int) -> str:
    if status == 429:
        return "receiver is rate limiting"
    if status >= 500:
        return "receiver error"
    if 300 <= status < 400:
        return "redirect (not followed; configure the final URL)"
    return "receiver refused the request"


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


class WebhooksComponent:
    """Plugs the webhook sender into the runtime; it serves no routes."""

    name = "webhooks"

    def __init__(self, secret: str, clock: Clock) -> None:
        self.webhooks = WebhookSender(secret, clock)
        self.sender: Sender | None = self.webhooks

    def mount(self, app: web.Application) -> None:
        return None

    async def start(self) -> None:
        await self.webhooks.start()

    async def stop(self) -> None:
        await self.webhooks.close()

    async def ready(self) -> str:
        # Receivers belong to the CRM; one being down must not take Baton out of the load balancer.
        return "ok"


def add_webhooks(runtime: Runtime) -> None:
    """Deliver CRM webhooks from this process; refuses to start unsigned (the receiver could not verify)."""
    if not runtime.settings.webhook_secret:
        raise ConfigError(
            "environment",
            ["BATON_WEBHOOK_SECRET: required when the agreement configures [[webhooks]] (used to sign them)"],
        )
    runtime.add(WebhooksComponent(runtime.settings.webhook_secret, runtime.clock))
