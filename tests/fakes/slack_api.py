"""A local fake of the Slack Web API: an aiohttp server on 127.0.0.1 that records every call.

Point ``AsyncWebClient(base_url=fake.api_url)`` (``SLACK_API_URL``) at it. It answers the
methods Baton uses as Slack does, serves the upload URLs it hands out and the
``response_url``s tests put in payloads, keeps what was posted (with its ``metadata``) and
answers ``conversations.history`` from it, and behaves as Slack does at its worst:

    fake.fail("chat.postMessage", status=429, retry_after=1)   # next call only
    fake.fail("chat.postMessage", error="channel_not_found")   # HTTP 200, ok:false
    fake.fail("chat.postMessage", status=500, html=True)       # a proxy's HTML error page
    fake.fail("chat.postMessage", drop=True, landed=True)      # posted, then the socket closed
    fake.fail("chat.postMessage", delay=2)                     # a slow answer
    fake.outage(status=503)  ...  fake.recover()               # every method down for a while
    fake.limit_channels(rate=1, burst=3)                       # chat.postMessage per channel
    fake.limit_method("chat.update", rate=50 / 60, burst=5)    # a method's tier, workspace-wide
    fake.chaos("chat.postMessage", rate=0.1, retry_after=(0, 1))  # random 429s (benchmarks)

``apps.connections.open`` takes the app-level (``xapp-``) token, not the bot token, and hands
out a websocket URL from ``socket_mode`` (``FakeSocketMode.open_url``, tests/fakes/slack_socket.py).

Limits are measured on the fake's own clock (``clock``: seconds; wall time unless a test
injects its manual clock) and every call records when it arrived (``Call.at``), so tests can
check that nothing was sent into a window Slack had closed with ``Retry-After``. With an
injected clock, message timestamps (``ts``) are that clock's epoch seconds, as Slack's are.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.limits import Bucket, Limit
from tests.fakes.slack_history import History

BOT_USER = "U0BATONBOT"
_JSON_FIELDS = ("blocks", "view", "files", "attachments", "metadata")
HTML_ERROR = "<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>Oops</h1></body></html>"
# Messages a channel's history holds: where a post lands, and what chat.update changes.
_POSTING = ("chat.postMessage", "files.completeUploadExternal")


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    ok: bool = True  # False when the fake answered with an error
    at: float = 0.0  # the fake's clock when the call arrived
    error: str | None = None  # the ok:false error, "ratelimited", "html" or "dropped"
    retry_after: str | None = None  # the Retry-After the fake answered with
    peer: tuple[str, int] | None = None  # the caller's address and port: one per connection

    @property
    def channel(self) -> str | None:
        value = self.body.get("channel") or self.body.get("channel_id")
        return str(value) if value else None


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: float | None = None
    html: bool = False  # answer with a body that is not JSON
    content_type: str = "text/html"
    drop: bool = False  # close the connection without any answer
    landed: bool = False  # do the work first (the post happens), then fail or drop
    delay: float = 0.0  # real seconds before answering (the work happens after the wait)


class FakeSlack:
    """Start with ``await fake.start()``, stop with ``await fake.stop()``."""

    def __init__(self, seed: int = 7, clock: Callable[[], float] | None = None) -> None:
        self.calls: list[Call] = []
        self.responses: list[Call] = []  # posts to response_url
        self.uploads: dict[str, bytes] = {}
        self.history = History()
        self.clock: Callable[[], float] = clock or time.time
        self._epoch_ts = clock is not None  # ts from the clock, as Slack's are; else a legacy counter
        self._last_ts = 0.0
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._outage: tuple[Failure, frozenset[str] | None] | None = None
        self._chaos: dict[str, tuple[float, tuple[float, ...]]] = {}
        self._channel_limit: Limit | None = None
        self._method_limits: dict[str, Limit] = {}
        self._buckets: dict[str, Bucket] = {}
        self._random = random.Random(seed)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.socket_mode: Callable[[], str] | None = None  # gives apps.connections.open's URL

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.url}/response/{name}"

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{name}", self._response)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests ask ---------------------------------------------------------------

    def use_clock(self, clock: Callable[[], float]) -> None:
        """Measure limits and stamp calls and message ts with ``clock`` (a test's manual clock)."""
        self.clock, self._epoch_ts = clock, True

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: float | None = None,
        times: int = 1,
        html: bool = False,
        content_type: str = "text/html",
        drop: bool = False,
        landed: bool = False,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail this way."""
        for _ in range(times):
            self._failures[method].append(Failure(status, error, retry_after, html, content_type, drop, landed, delay))

    def outage(self, *, status: int = 500, html: bool = True, methods: set[str] | None = None) -> None:
        """Answer every call (or every call of ``methods``) with ``status`` until ``recover()``."""
        self._outage = (Failure(status, None, None, html), frozenset(methods) if methods else None)

    def recover(self) -> None:
        self._outage = None

    def limit_channels(self, rate: float = 1.0, burst: float = 3.0, *, whole_seconds: bool = True) -> None:
        """chat.postMessage: ``rate`` messages a second into any one channel, ``burst`` at once."""
        self._channel_limit = Limit(rate, burst, whole_seconds)

    def limit_method(self, method: str, rate: float, burst: float = 1.0, *, whole_seconds: bool = True) -> None:
        """``method``'s tier: ``rate`` calls a second for the whole workspace, ``burst`` at once."""
        self._method_limits[method] = Limit(rate, burst, whole_seconds)

    def chaos(self, method: str, rate: float, retry_after: tuple[float, ...] = (0,)) -> None:
        """Answer a random ``rate`` of ``method`` calls with 429 and a Retry-After picked from ``retry_after``."""
        self._chaos[method] = (rate, retry_after)

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls of ``method``; with ``ok``, only those the fake answered successfully (or not)."""
        return [c for c in self.calls if c.method == method and (ok is None or c.ok is ok)]

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages that landed (in ``channel``, or anywhere), oldest first, as history holds them."""
        names = [channel] if channel else list(self.history.channels)
        return [m for name in names for m in self.history.messages(name)]

    def reset(self) -> None:
        self.calls.clear()
        self.responses.clear()

    def all_text(self) -> str:
        """Every recorded request body as JSON: for asserting what never reached Slack."""
        return json.dumps([c.body for c in [*self.calls, *self.responses]], ensure_ascii=False)

    # --- the server ---------------------------------------------------------------------

    async def _body(self, request: web.Request) -> dict[str, Any]:
        # slack_sdk sends some methods' arguments as JSON, others as a form or the query string.
        body: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            data = await request.json()
            return {**body, **data} if isinstance(data, dict) else {**body, "_": data}
        body.update(parse_qsl(await request.text()))
        for name in _JSON_FIELDS:  # form posts carry JSON-encoded structures
            if isinstance(body.get(name), str):
                with contextlib.suppress(ValueError):
                    body[name] = json.loads(body[name])
        return body

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        body = await self._body(request)
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        call = Call(method, body, dict(request.headers), at=self.clock(), peer=tuple(peer[:2]) if peer else None)
        self.calls.append(call)
        failure = self._next_failure(method)
        if failure is not None:
            return await self._fail(request, call, failure)
        if method == "apps.connections.open":
            return self._connections_open(call, request.headers.get("Authorization", ""))
        if not request.headers.get("Authorization", "").startswith("Bearer xoxb-"):
            call.ok, call.error = False, "not_authed"
            return web.json_response({"ok": False, "error": "not_authed"})
        limited = self._limited(call)
        if limited is not None:
            return limited
        if method in self._chaos:
            rate, choices = self._chaos[method]
            if self._random.random() < rate:
                return await self._fail(request, call, Failure(429, "ratelimited", self._random.choice(choices)))
        answer = self._answer(method, body)
        if answer.get("ok") is False:
            call.ok, call.error = False, str(answer.get("error"))
        return web.json_response(answer)

    def _connections_open(self, call: Call, authorization: str) -> web.Response:
        """Only an app-level token opens a Socket Mode connection; a bot token is the wrong type."""
        if authorization.startswith("Bearer xapp-") and self.socket_mode is not None:
            return web.json_response({"ok": True, "url": self.socket_mode()})
        if authorization.startswith("Bearer xapp-"):
            error = "access_denied"  # Socket Mode is not switched on for this app
        else:
            error = "not_allowed_token_type" if authorization.startswith("Bearer xox") else "not_authed"
        call.ok, call.error = False, error
        return web.json_response({"ok": False, "error": error})

    def _next_failure(self, method: str) -> Failure | None:
        if self._outage is not None and (self._outage[1] is None or method in self._outage[1]):
            return self._outage[0]
        if self._failures[method]:
            return self._failures[method].popleft()
        return None

    async def _fail(self, request: web.Request, call: Call, failure: Failure) -> web.StreamResponse:
        if failure.delay:
            await asyncio.sleep(failure.delay)
        slow_only = failure.status == 200 and not (failure.error or failure.html or failure.drop)
        if failure.landed or slow_only:
            answer = self._answer(call.method, call.body)
            if slow_only:
                return web.json_response(answer)
        call.ok, call.status = False, failure.status
        if failure.drop:
            call.error = "dropped"
            if request.transport is not None:
                request.transport.abort()
            await asyncio.sleep(0)
            return web.Response(text="never sent")
        headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after is not None else {}
        call.retry_after = headers.get("Retry-After")
        if failure.html:
            call.error = "html"
            return web.Response(
                status=failure.status, text=HTML_ERROR, headers=headers, content_type=failure.content_type
            )
        call.error = failure.error or ("ratelimited" if failure.status == 429 else "internal_error")
        return web.json_response({"ok": False, "error": call.error}, status=failure.status, headers=headers)

    def _limited(self, call: Call) -> web.Response | None:
        """429 with Retry-After when a limit this call counts against is spent (nothing consumed then)."""
        now = call.at
        checks: list[tuple[str, Limit]] = []
        if call.method in self._method_limits:
            checks.append((f"method:{call.method}", self._method_limits[call.method]))
        if call.method == "chat.postMessage" and self._channel_limit is not None:
            checks.append((f"channel:{self._im(call.channel or '')}", self._channel_limit))
        buckets = [(self._buckets.setdefault(key, limit.bucket()), limit) for key, limit in checks]
        waits = [(bucket.wait(now), limit) for bucket, limit in buckets]
        longest = max(waits, key=lambda pair: pair[0], default=(0.0, None))
        if longest[1] is not None and longest[0] > 0:
            call.ok, call.status, call.error = False, 429, "ratelimited"
            call.retry_after = longest[1].retry_after(longest[0])
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": call.retry_after}
            )
        for bucket, _ in buckets:
            bucket.take(now)
        return None

    @staticmethod
    def _im(channel: str) -> str:
        return "D" + channel[1:] if channel.startswith("U") else channel

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return {**ok, "user_id": BOT_USER, "bot_id": "B0BATON", "team_id": "T0BATON", "user": "baton"}
        if method == "chat.postMessage":
            return self._post(body)
        if method == "chat.update":
            stored = self.history.find(str(body.get("channel")), str(body.get("ts")))
            if stored is not None:
                stored.update({k: body[k] for k in ("text", "blocks") if k in body}, edited={"user": BOT_USER})
            return {**ok, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "conversations.history":
            return self.history.answer(body)
        if method == "chat.postEphemeral":
            return {**ok, "message_ts": self._next_ts()}
        if method == "conversations.open":
            return {**ok, "channel": {"id": "D" + str(body.get("users", "X"))[1:]}}
        if method in ("views.open", "views.update", "views.publish"):
            view_id = body.get("view_id") or f"V{next(self._ids):08d}"
            return {**ok, "view": {"id": view_id, "hash": f"h{next(self._ids)}", **(body.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):08d}"
            return {**ok, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            return self._share(body)
        if method == "files.info":
            return {**ok, "file": {"id": body.get("file")}}
        return {"ok": False, "error": "unknown_method"}

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._im(str(body.get("channel") or ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        metadata = body.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            return {"ok": False, "error": "invalid_metadata_format"}
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": "B0BATON",
            "ts": ts,
            "text": body.get("text"),
            "blocks": body.get("blocks"),
            **({"metadata": metadata} if metadata else {}),
        }
        self.history.add(channel, message)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": body.get("text")}}

    def _share(self, body: dict[str, Any]) -> dict[str, Any]:
        files = body.get("files") or []
        shared_in = body.get("channel_id")
        shares: dict[str, Any] = {}
        if shared_in:
            ts = self._next_ts()
            self.history.add(
                str(shared_in),
                {
                    "type": "message",
                    "user": BOT_USER,
                    "bot_id": "B0BATON",
                    "ts": ts,
                    "text": body.get("initial_comment") or "",
                    "blocks": body.get("blocks"),
                    "files": [{"id": f.get("id")} for f in files],
                },
            )
            shares = {"public": {shared_in: [{"ts": ts}]}}
        return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title"), "shares": shares} for f in files]}

    def _next_ts(self) -> str:
        if not self._epoch_ts:
            return f"1764000000.{next(self._ts):06d}"
        # Slack's ts is the epoch time in microseconds, unique within a channel.
        self._last_ts = max(self.clock(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[request.match_info['file_id']])}")

    async def _response(self, request: web.Request) -> web.Response:
        self.responses.append(Call(f"response/{request.match_info['name']}", await self._body(request)))
        return web.Response(text="ok")
