"""A local fake of the Bot Framework connector (Teams' ``serviceUrl``), for end-to-end tests.

It records what the bot sends (replies, proactive posts, updates, new conversations),
answers with ids like the real service, serves a small member roster, and behaves as the
connector does at its worst:

    connector.fail(429, "TooManyRequests", retry_after="2")   # the next send/update/create
    connector.fail(403, "BotNotInConversationRoster")
    connector.fail(412, "PreconditionFailed")
    connector.fail(502, "", html=True)                        # a gateway's HTML error page
    connector.fail(0, "", drop=True, landed=True)             # sent, then the socket closed
    connector.limit_conversations(rate=7, burst=7)            # per conversation (thread)
    connector.limit_tenant(rate=50, burst=50)                 # per app per tenant
    connector.teams["19:team@thread.tacv2"] = ["19:team@thread.tacv2", "19:sales@thread.tacv2"]

``GET /v3/teams/{teamId}/conversations`` lists a team's channels as the connector does
(``{"conversations": [{"id", "name"}]}``, General first and without a name) for a team the bot
is in, and answers 403 ``BotNotInConversationRoster`` for any other team.

Limits are token buckets on the fake's own ``clock`` (seconds; wall time unless a test injects
its manual clock); every request, answered or not, is in ``attempts`` with its time and
status, while ``calls`` keeps only what the fake accepted (as before).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.limits import Bucket, Limit

HTML_ERROR = "<html><body><h2>502 - Web server received an invalid response while acting as a gateway</h2></body>"


@dataclass
class Call:
    method: str
    kind: str  # send | reply | update | create | member | channels
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any]
    response_id: str | None = None  # the id the fake answered with (activity or conversation id)
    at: float = 0.0  # the fake's clock when the request arrived
    status: int = 0  # what the fake answered (0: the connection was dropped)

    @property
    def mentions(self) -> list[tuple[str, str]]:
        """(id, name) of each mention Teams would honour, as the connector's contract says: an
        entity of type ``mention`` whose ``text`` is a portion of the activity's ``text`` and whose
        ``mentioned`` names someone (a ``29:`` id, an AAD object id or a UPN). Any other mention
        entity is ignored, as Teams ignores it; a bare ``<at>`` in the text notifies nobody."""
        text = self.body.get("text")
        found: list[tuple[str, str]] = []
        for entity in self.body.get("entities") or []:
            if not isinstance(entity, dict) or entity.get("type") != "mention" or not isinstance(text, str):
                continue
            said, mentioned = entity.get("text"), entity.get("mentioned")
            if not isinstance(said, str) or not said.startswith("<at>") or said not in text:
                continue
            if not isinstance(mentioned, dict):
                continue
            who, name = mentioned.get("id"), mentioned.get("name")
            if isinstance(who, str) and who.strip() and isinstance(name, str) and name.strip():
                found.append((who, name))
        return found

    @property
    def notified(self) -> list[str]:
        """Who this call notifies: the mentions of a new message (an edit notifies nobody)."""
        return [who for who, _ in self.mentions] if self.kind in ("send", "reply") else []

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
    html: bool = False  # a body that is not JSON
    drop: bool = False  # close the connection without an answer
    landed: bool = False  # accept the activity first, then fail or drop (the answer is lost)


@dataclass
class FakeConnector:
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id → TeamsChannelAccount JSON
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    server: TestServer | None = None
    clock: Callable[[], float] = time.time
    attempts: list[Call] = field(default_factory=list)
    teams: dict[str, list[str]] = field(default_factory=dict)  # team id → its channel ids, General first

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._conversation_limit: Limit | None = None
        self._tenant_limit: Limit | None = None
        self._buckets: dict[str, Bucket] = {}

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))

    def fail(
        self,
        status: int,
        code: str,
        *,
        retry_after: str | None = None,
        times: int = 1,
        html: bool = False,
        drop: bool = False,
        landed: bool = False,
    ) -> None:
        """Make the next ``times`` sends/updates/creates fail with ``status`` and error ``code``."""
        self.failures.append(Failure(status, code, retry_after, times, html, drop, landed))

    def limit_conversations(self, rate: float, burst: float, *, whole_seconds: bool = True) -> None:
        """Sends and updates: ``rate`` a second into any one conversation, ``burst`` at once."""
        self._conversation_limit = Limit(rate, burst, whole_seconds)

    def limit_tenant(self, rate: float, burst: float, *, whole_seconds: bool = True) -> None:
        """Every request of the bot in one tenant: ``rate`` a second, ``burst`` at once."""
        self._tenant_limit = Limit(rate, burst, whole_seconds)

    def of_kind(self, *kinds: str) -> list[Call]:
        return [c for c in self.calls if c.kind in kinds]

    def _next_failure(self) -> Failure | None:
        if not self.failures:
            return None
        failure = self.failures[0]
        failure.times -= 1
        if failure.times <= 0:
            self.failures.pop(0)
        return failure

    @staticmethod
    def _error(status: int, code: str, retry_after: str | None = None, html: bool = False) -> web.Response:
        headers = {"Retry-After": retry_after} if retry_after else None
        if html:
            return web.Response(status=status, text=HTML_ERROR, content_type="text/html", headers=headers)
        return web.json_response({"error": {"code": code, "message": f"fake {code}"}}, status=status, headers=headers)

    def _limited(self, call: Call) -> web.Response | None:
        """429 with Retry-After when the conversation's or the tenant's bucket is spent."""
        checks: list[tuple[str, Limit]] = []
        if self._tenant_limit is not None:
            conversation = call.body.get("conversation") or {}
            tenant = conversation.get("tenantId") if isinstance(conversation, dict) else None
            checks.append((f"tenant:{tenant or '?'}", self._tenant_limit))
        if self._conversation_limit is not None and call.kind in ("send", "reply", "update"):
            checks.append((f"conversation:{call.conversation_id}", self._conversation_limit))
        buckets = [(self._buckets.setdefault(key, limit.bucket()), limit) for key, limit in checks]
        waits = [(bucket.wait(call.at), limit) for bucket, limit in buckets]
        wait, limit = max(waits, key=lambda pair: pair[0], default=(0.0, None))
        if limit is not None and wait > 0:
            call.status = 429
            return self._error(429, "TooManyRequests", limit.retry_after(wait))
        for bucket, _ in buckets:
            bucket.take(call.at)
        return None

    def _accept(self, call: Call) -> web.Response:
        self.calls.append(call)
        if call.kind == "create":
            call.response_id = f"a:created-{next(self._ids)}"
            call.status = 201
            return web.json_response({"id": call.response_id, "serviceUrl": self.url}, status=201)
        call.response_id = call.activity_id if call.kind == "update" else f"activity-{next(self._ids)}"
        call.status = 200 if call.kind == "update" else 201
        return web.json_response({"id": call.response_id}, status=call.status)

    async def _record(self, request: web.Request, kind: str) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        call = Call(
            request.method,
            kind,
            request.match_info.get("conversation"),
            request.match_info.get("activity"),
            body,
            at=self.clock(),
        )
        self.attempts.append(call)
        failure = self._next_failure()
        if failure is None:
            return self._limited(call) or self._accept(call)
        if failure.landed:
            self._accept(call)
        if failure.drop:
            call.status = 0
            if request.transport is not None:
                request.transport.abort()
            await asyncio.sleep(0)
            return web.Response(text="never sent")
        call.status = failure.status
        return self._error(failure.status, failure.code, failure.retry_after, failure.html)

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
            return web.json_response({"error": {"code": "MemberNotFoundInConversation", "message": "no"}}, status=404)
        return web.json_response(found)

    async def team_channels(self, request: web.Request) -> web.Response:
        team = request.match_info["team"]
        self.calls.append(Call("GET", "channels", team, None, {}))
        channels = self.teams.get(team)
        if channels is None:
            return self._error(403, "BotNotInConversationRoster")
        listed = [{"id": c} if c == team else {"id": c, "name": c.split(":")[1].split("@")[0]} for c in channels]
        return web.json_response({"conversations": listed})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self.create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self.send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self.reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self.update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self.member)
        app.router.add_get("/v3/teams/{team}/conversations", self.team_channels)
        return app

    async def start(self) -> FakeConnector:
        self.server = TestServer(self.app(), host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
