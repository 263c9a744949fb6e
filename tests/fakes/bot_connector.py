"""A local fake of the Bot Framework connector (Teams' ``serviceUrl``), for end-to-end tests.

It records what the bot sends (replies, proactive posts, updates, new conversations),
answers with ids like the real service, serves a small member roster, and can be told to
fail the next requests (429 with Retry-After, 403 BotNotInConversationRoster, 5xx).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Call:
    method: str
    kind: str  # send | reply | update | create | member
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any]
    response_id: str | None = None  # the id the fake answered with (activity or conversation id)

    @property
    def card(self) -> dict[str, Any] | None:
        """The first Adaptive Card the activity carries."""
        for item in self.body.get("attachments") or []:
            if item.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content: dict[str, Any] = item["content"]
                return content
        return None


@dataclass
class Failure:
    status: int
    code: str
    retry_after: str | None = None
    times: int = 1


@dataclass
class FakeConnector:
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id → TeamsChannelAccount JSON
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    server: TestServer | None = None

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))

    def fail(self, status: int, code: str, *, retry_after: str | None = None, times: int = 1) -> None:
        """Make the next ``times`` sends/updates/creates fail with ``status`` and error ``code``."""
        self.failures.append(Failure(status, code, retry_after, times))

    def of_kind(self, *kinds: str) -> list[Call]:
        return [c for c in self.calls if c.kind in kinds]

    def _failure(self) -> web.Response | None:
        if not self.failures:
            return None
        failure = self.failures[0]
        failure.times -= 1
        if failure.times <= 0:
            self.failures.pop(0)
        headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
        return web.json_response({"error": {"code": failure.code, "message": f"fake {failure.code}"}},
                                 status=failure.status, headers=headers)

    async def _record(self, request: web.Request, kind: str) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        call = Call(request.method, kind, request.match_info.get("conversation"),
                    request.match_info.get("activity"), body)
        failed = self._failure()
        if failed is not None:
            return failed
        self.calls.append(call)
        if kind == "create":
            call.response_id = f"a:created-{next(self._ids)}"
            return web.json_response({"id": call.response_id, "serviceUrl": self.url}, status=201)
        call.response_id = call.activity_id if kind == "update" else f"activity-{next(self._ids)}"
        return web.json_response({"id": call.response_id}, status=200 if kind == "update" else 201)

    async def send(self, request: web.Request) -> web.Response:
        return await self._record(request, "send")

    async def reply(self, request: web.Request) -> web.Response:
        return await self._record(request, "reply")

    async def update(self, request: web.Request) -> web.Response:
        return await self._record(request, "update")

    async def create(self, request: web.Request) -> web.Response:
        return await self._record(request, "create")

    async def member(self, request: web.Request) -> web.Response:
        found = self.members.get(request.match_info["member"])
        self.calls.append(Call("GET", "member", request.match_info["conversation"], None, {}))
        if found is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation", "message": "no"}},
                                     status=404)
        return web.json_response(found)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self.create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self.send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self.reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self.update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self.member)
        return app

    async def start(self) -> FakeConnector:
        self.server = TestServer(self.app(), host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
