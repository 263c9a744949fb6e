"""A local fake of the Slack Web API: an aiohttp server on 127.0.0.1 that records every call.

Point ``AsyncWebClient(base_url=fake.api_url)`` (``SLACK_API_URL``) at it. It answers the
methods Baton uses as Slack does, serves the upload URLs it hands out and the
``response_url``s tests put in payloads, and can be told to fail:

    fake.fail("chat.postMessage", status=429, retry_after=1)   # next call only
    fake.fail("chat.postMessage", error="channel_not_found")
    fake.chaos("chat.postMessage", rate=0.1, retry_after=(0, 1))  # random 429s (benchmarks)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER = "U0BATONBOT"
_JSON_FIELDS = ("blocks", "view", "files", "attachments")


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    ok: bool = True  # False when the fake answered with an error


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: float | None = None


class FakeSlack:
    """Start with ``await fake.start()``, stop with ``await fake.stop()``."""

    def __init__(self, seed: int = 7) -> None:
        self.calls: list[Call] = []
        self.responses: list[Call] = []  # posts to response_url
        self.uploads: dict[str, bytes] = {}
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._chaos: dict[str, tuple[float, tuple[float, ...]]] = {}
        self._random = random.Random(seed)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.url}/response/{name}"

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
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

    def fail(self, method: str, *, status: int = 200, error: str | None = None,
             retry_after: float | None = None, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail this way."""
        for _ in range(times):
            self._failures[method].append(Failure(status, error, retry_after))

    def chaos(self, method: str, rate: float, retry_after: tuple[float, ...] = (0,)) -> None:
        """Answer a random ``rate`` of ``method`` calls with 429 and a Retry-After picked from ``retry_after``."""
        self._chaos[method] = (rate, retry_after)

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls of ``method``; with ``ok``, only those the fake answered successfully (or not)."""
        return [c for c in self.calls if c.method == method and (ok is None or c.ok is ok)]

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

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._body(request)
        call = Call(method, body, dict(request.headers))
        self.calls.append(call)
        failure = self._next_failure(method)
        if failure is not None:
            call.status, call.ok = failure.status, False
            headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after is not None else {}
            error = failure.error or ("ratelimited" if failure.status == 429 else "internal_error")
            return web.json_response({"ok": False, "error": error}, status=failure.status, headers=headers)
        if not request.headers.get("Authorization", "").startswith("Bearer xoxb-"):
            call.ok = False
            return web.json_response({"ok": False, "error": "not_authed"})
        return web.json_response(self._answer(method, body))

    def _next_failure(self, method: str) -> Failure | None:
        if self._failures[method]:
            return self._failures[method].popleft()
        if method in self._chaos:
            rate, choices = self._chaos[method]
            if self._random.random() < rate:
                return Failure(429, "ratelimited", self._random.choice(choices))
        return None

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return {**ok, "user_id": BOT_USER, "bot_id": "B0BATON", "team_id": "T0BATON", "user": "baton"}
        if method == "chat.postMessage":
            channel = str(body.get("channel"))
            channel = "D" + channel[1:] if channel.startswith("U") else channel
            return {**ok, "channel": channel, "ts": self._next_ts(), "message": {"text": body.get("text")}}
        if method == "chat.update":
            return {**ok, "channel": body.get("channel"), "ts": body.get("ts")}
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
            files = body.get("files") or []
            shared_in = body.get("channel_id")
            shares = {"public": {shared_in: [{"ts": self._next_ts()}]}} if shared_in else {}
            return {**ok, "files": [{"id": f.get("id"), "title": f.get("title"), "shares": shares} for f in files]}
        if method == "files.info":
            return {**ok, "file": {"id": body.get("file")}}
        return {"ok": False, "error": "unknown_method"}

    def _next_ts(self) -> str:
        return f"1764000000.{next(self._ts):06d}"

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[request.match_info['file_id']])}")

    async def _response(self, request: web.Request) -> web.Response:
        self.responses.append(Call(f"response/{request.match_info['name']}", await self._body(request)))
        return web.Response(text="ok")
