"""CRM write-back: deliver outbox rows of platform ``crm`` (``[[crm_actions]]``) as the vendor expects.

``handlers.messaging.crm`` queues one row per action and event with the filled URL and body; the
header templates keep ``${NAME}`` and are filled from the environment here, just before sending
(secrets never reach the database, and every one is masked in the logs).

Authentication: whatever the headers carry (HubSpot's private app token as a bearer), or an
OAuth 2.0 client-credentials token (Salesforce's Connected App) fetched from the action's token
URL, cached until it expires (``expires_in``, else the action's ``token_lifetime``) and fetched
again once, at once, when the CRM answers 401 (an expired or revoked session).

A 2xx answer means written. 429 pauses every row of the action (scope ``crm:action:<name>``)
for its ``Retry-After``; 5xx, network errors and 4xx are retried with the outbox's backoff
until the row is older than ``BATON_OUTBOX_MAX_AGE`` and then parked; the reason shows in
``baton outbox list`` with the vendor's own error (HubSpot's ``category``/``message``,
Salesforce's ``errorCode``/``message``), never the token. A row queued refused (an owner
without ``crm_id``) and an action no longer in the agreement are parked at once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import aiohttp
from aiohttp import web

from bot.logs import mask_secrets
from bot.settings import ConfigError
from handlers.clock import Clock
from handlers.messaging.crm import render_now
from handlers.messaging.ports import Delivered, Delivery, PermanentFailure, RetryLater, retry_after
from scoring.agreement import Agreement
from scoring.crm_actions import OAuthClientCredentials, missing_secrets

if TYPE_CHECKING:
    from bot.runtime import Runtime

TIMEOUT = aiohttp.ClientTimeout(total=15)
_REASON_CHARS = 300
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TAGS = re.compile(r"<[^>]*>")


def encode(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class _Token:
    value: str
    expires_at: datetime


class TokenError(Exception):
    """The token endpoint did not give a token (reason says why, never the secret)."""


class CrmSender:
    """The ``Sender`` for platform ``crm``. One ``aiohttp.ClientSession`` per process."""

    platform = "crm"

    def __init__(
        self,
        agreement: Agreement,
        clock: Clock,
        secrets: Mapping[str, str],
        timeout: aiohttp.ClientTimeout = TIMEOUT,
    ) -> None:
        self.agreement = agreement
        self.actions = {a.name: a for a in agreement.crm_actions}
        self.clock = clock
        self.secrets = dict(secrets)
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.token_fetches = 0  # how many tokens were fetched (metrics and tests)

    def pacing_scopes(self, delivery: Delivery) -> tuple[str, ...]:
        return (f"crm:action:{delivery.payload.get('action', '')}",)

    async def start(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _env(self, name: str) -> str:
        value = self.secrets.get(name)
        if not value:
            raise PermanentFailure(f"environment variable {name} is not set", code="crm_secret_missing")
        return value

    def _headers(self, templates: Mapping[str, str]) -> dict[str, str]:
        return {key: _ENV.sub(lambda m: self._env(m.group(1)), value) for key, value in templates.items()}

    async def send(self, delivery: Delivery) -> Delivered | None:
        payload = delivery.payload
        name = str(payload.get("action", ""))
        action = self.actions.get(name)
        if action is None:
            raise PermanentFailure(f"crm action {name!r} is no longer in the agreement", code="crm_action_gone")
        if isinstance(payload.get("values"), dict):
            # Filled again with the agreement this process runs: a fixed crm_id or status applies.
            payload = render_now(self.agreement, action, payload["values"])
        if payload.get("refused"):
            raise PermanentFailure(str(payload["refused"]), code="crm_unmapped")
        url, method = payload.get("url"), payload.get("method")
        if not isinstance(url, str) or method not in ("POST", "PUT", "PATCH"):
            raise PermanentFailure("crm row has no url or method", code="crm_bad_row")
        await self.start()
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "Baton-CRM/1"}
        headers.update(self._headers(payload.get("headers") or {}))
        body = payload.get("body")
        data = encode(body if body is not None else {})
        scope = self.pacing_scopes(delivery)
        for attempt in (1, 2):
            if action.oauth is not None:
                headers["Authorization"] = f"Bearer {await self._token(action.name, action.oauth, scope)}"
            status, text, wait = await self._request(str(method), url, data, headers, scope)
            if 200 <= status < 300:
                return None
            if status == 401 and action.oauth is not None and attempt == 1:
                self._tokens.pop(action.name, None)  # expired or revoked: one fresh token, one more try
                continue
            break
        reason = f"http_{status}: {_describe(status)} from {_host(url)}" + (f": {text}" if text else "")
        if status == 429:
            raise RetryLater(wait, reason, rate_limited=True, scopes=scope)
        raise RetryLater(wait, reason)

    async def _request(
        self, method: str, url: str, data: bytes, headers: dict[str, str], scope: tuple[str, ...]
    ) -> tuple[int, str, float | None]:
        assert self._session is not None
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, allow_redirects=False
            ) as response:
                raw = await response.text(errors="replace")
                wait = retry_after(response.headers.get("Retry-After"), self.clock.now())
                return response.status, vendor_error(raw, response.content_type), wait
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(None, f"network: {type(exc).__name__}: {str(exc)[:_REASON_CHARS]}") from None

    async def _token(self, name: str, oauth: OAuthClientCredentials, scope: tuple[str, ...]) -> str:
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(name)
            now = self.clock.now()
            if cached is not None and now < cached.expires_at:
                return cached.value
            try:
                token = await self._fetch_token(oauth, now)
            except TokenError as exc:
                raise RetryLater(None, f"token: {exc}") from None
            self._tokens[name] = token
            mask_secrets([token.value])
            return token.value

    async def _fetch_token(self, oauth: OAuthClientCredentials, now: datetime) -> _Token:
        assert self._session is not None
        client_id, secret = self._env(oauth.client_id_env), self._env(oauth.client_secret_env)
        form = {"grant_type": "client_credentials"}
        headers = {"Accept": "application/json", "User-Agent": "Baton-CRM/1"}
        if oauth.client_auth == "basic":
            pair = f"{_form_quote(client_id)}:{_form_quote(secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form |= {"client_id": client_id, "client_secret": secret}
        if oauth.scope:
            form["scope"] = oauth.scope
        self.token_fetches += 1
        try:
            async with self._session.post(
                oauth.token_url, data=form, headers=headers, allow_redirects=False
            ) as response:
                raw = await response.text(errors="replace")
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TokenError(f"network: {type(exc).__name__}") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
            detail = vendor_error(raw, "application/json" if isinstance(answer, dict) else "text/html")
            raise TokenError(f"http_{status} from {_host(oauth.token_url)}" + (f": {detail}" if detail else ""))
        lifetime = oauth.token_lifetime
        expires_in = answer.get("expires_in")
        if isinstance(expires_in, (int, float, str)) and str(expires_in).isdigit() and int(expires_in) > 0:
            lifetime = timedelta(seconds=int(expires_in))
        # Renewed a minute early (never less than half its life), so a send does not race its expiry.
        margin = min(timedelta(minutes=1), lifetime / 2)
        return _Token(answer["access_token"], now + lifetime - margin)


def _form_quote(text: str) -> str:
    return quote_plus(text)


def vendor_error(raw: str, content_type: str) -> str:
    """The vendor's own words for a refusal, short: HubSpot's category and message, Salesforce's
    errorCode and message (a list of them), OAuth's error and description; an HTML page's text."""
    text = raw.strip()
    if not text:
        return ""
    try:
        found: Any = json.loads(text)
    except ValueError:
        found = None
    parts: list[str] = []
    items = found if isinstance(found, list) else [found] if isinstance(found, dict) else []
    for item in items[:3]:
        if not isinstance(item, dict):
            continue
        code = item.get("errorCode") or item.get("category") or item.get("errorType") or item.get("error")
        message = item.get("message") or item.get("error_description")
        fields = item.get("fields")
        piece = ": ".join(str(p) for p in (code, message) if p)
        if isinstance(fields, list) and fields:
            piece += f" (fields: {', '.join(str(f) for f in fields[:5])})"
        if piece:
            parts.append(piece)
    if not parts:
        parts = [" ".join(_TAGS.sub(" ", text).split())]
    return "; ".join(parts)[:_REASON_CHARS]


def _describe(status: int) -> str:
    if status == 429:
        return "CRM is rate limiting"
    if status == 401:
        return "CRM refused the credentials"
    if status >= 500:
        return "CRM error"
    if 300 <= status < 400:
        return "redirect (not followed; configure the final URL)"
    return "CRM refused the write"


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


class CrmComponent:
    """Plugs the CRM write-back sender into the runtime; it serves no routes."""

    name = "crm"

    def __init__(self, agreement: Agreement, clock: Clock, secrets: Mapping[str, str]) -> None:
        self.crm = CrmSender(agreement, clock, secrets)
        self.sender = self.crm

    def mount(self, app: web.Application) -> None:
        return None

    async def start(self) -> None:
        await self.crm.start()

    async def stop(self) -> None:
        await self.crm.close()

    async def ready(self) -> str:
        # The CRM being down must not take Baton out of the load balancer; rows wait in the outbox.
        return "ok"


def add_crm(runtime: Runtime, secrets: Mapping[str, str] | None = None) -> None:
    """Write back to the CRM from this process; refuses to start without the secrets it names.

    ``secrets``: the ``BATON_CRM_*`` variables (the settings' when None)."""
    secrets = secrets if secrets is not None else runtime.settings.crm_secrets()
    actions = runtime.agreement.crm_actions
    missing = missing_secrets(actions, secrets)
    if missing:
        raise ConfigError("environment", missing)
    mask_secrets(secrets.get(name) for action in actions for name in action.secrets())
    runtime.add(CrmComponent(runtime.agreement, runtime.clock, secrets))
