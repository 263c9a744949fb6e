"""A local stand-in for Slack's Socket Mode websocket: an aiohttp server on 127.0.0.1.

Written from Slack's public contract (https://docs.slack.dev/apis/events-api/using-socket-mode/,
apps.connections.open):

* ``apps.connections.open`` (called with the app-level ``xapp-`` token) answers
  ``{"ok": true, "url": "wss://.../link/?ticket=...&app_id=..."}``. Attach this server to the Web
  API fake with ``fake_slack.socket_mode = server.open_url``; its URLs are ``ws://127.0.0.1:<port>``.
  A ticket is good for one connection: a reused or unknown one is refused (HTTP 401).
* On connecting, Slack sends ``{"type": "hello", "num_connections": n, "debug_info": {...},
  "connection_info": {"app_id": ...}}``, then envelopes
  ``{"envelope_id", "type": "events_api"|"interactive"|"slash_commands", "payload",
  "accepts_response_payload", "retry_attempt", "retry_reason"}``; the app acknowledges each
  with ``{"envelope_id": ..., "payload"?: ...}``.
* Slack recycles connections: ``{"type": "disconnect", "reason": "refresh_requested"|"warning"|
  "link_disabled", "debug_info": {...}}`` asks the app to open a new one, and Slack may close the
  socket at any time.

And at its worst: ``hello_delay`` makes the hello slow and ``hold_hello()`` holds it back until
``release_hello()``, ``send_raw`` pushes any frame (a
malformed envelope, a duplicate of one already delivered, text that is not JSON), ``drop``
closes the socket with no warning.

Every wait a test makes here is bounded (10 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = "A0BATON"
WAIT = 10.0


@dataclass
class Connection:
    """One websocket Baton opened: what it was sent and what it answered."""

    ticket: str
    ws: web.WebSocketResponse
    greeted: asyncio.Event = field(default_factory=asyncio.Event)  # hello sent
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    received: list[Any] = field(default_factory=list)  # every text frame from Baton, parsed when JSON
    close_code: int | None = None


class FakeSocketMode:
    """Start with ``await server.start()``, stop with ``await server.stop()``."""

    def __init__(self, *, app_id: str = APP_ID, hello_delay: float = 0.0) -> None:
        self.app_id = app_id
        self.hello_delay = hello_delay
        self.connections: list[Connection] = []
        self.acks: list[dict[str, Any]] = []
        self.refused: list[str] = []  # tickets refused at connect
        self._tickets: set[str] = set()  # handed out, not yet used
        self._ticket_ids = itertools.count(1)
        self._envelope_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._hello_released = asyncio.Event()
        self._hello_released.set()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> FakeSocketMode:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"ws://{host}:{port}"
        return self

    async def stop(self) -> None:
        for connection in self.connections:
            if not connection.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.ws.close(), 2)
        if self._runner is not None:
            await asyncio.wait_for(self._runner.cleanup(), WAIT)
            self._runner = None

    # --- what the Web API fake hands out -----------------------------------------------

    def open_url(self) -> str:
        """A fresh one-use websocket URL, as ``apps.connections.open`` answers."""
        ticket = f"t{next(self._ticket_ids):04d}"
        self._tickets.add(ticket)
        return f"{self.url}/link/?ticket={ticket}&app_id={self.app_id}"

    # --- what tests ask ------------------------------------------------------------------

    def hold_hello(self) -> None:
        """Greet no new connection until ``release_hello()``."""
        self._hello_released.clear()

    def release_hello(self) -> None:
        self._hello_released.set()

    @property
    def open_connections(self) -> list[Connection]:
        return [c for c in self.connections if not c.closed.is_set()]

    async def connected(self, count: int = 1) -> Connection:
        """Wait until the ``count``-th connection has been greeted; that connection."""
        await self._wait_for(lambda: len(self.connections) >= count and self.connections[count - 1].greeted.is_set())
        return self.connections[count - 1]

    async def send_raw(self, frame: str | dict[str, Any], *, to: Connection | None = None) -> None:
        """Send one text frame (a dict is JSON-encoded) to ``to`` or the newest open connection."""
        connection = to or self._current()
        await connection.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    async def deliver(
        self,
        kind: str,
        payload: Any,
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool = False,
        to: Connection | None = None,
    ) -> str:
        """Push an envelope of ``kind`` (events_api, interactive, slash_commands); its id."""
        envelope_id = envelope_id or f"env-{next(self._envelope_ids):04d}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": retry_reason}
        await self.send_raw(envelope, to=to)
        return envelope_id

    async def ack(self, envelope_id: str) -> dict[str, Any]:
        """Wait for Baton's acknowledgement of ``envelope_id``; the first one."""
        try:
            await self._wait_for(lambda: any(a.get("envelope_id") == envelope_id for a in self.acks))
        except TimeoutError:
            raise AssertionError(f"Baton did not acknowledge {envelope_id} within {WAIT:.0f} s") from None
        return next(a for a in self.acks if a.get("envelope_id") == envelope_id)

    async def request(self, kind: str, payload: Any, **kwargs: Any) -> dict[str, Any]:
        """Deliver an envelope and wait for its acknowledgement."""
        return await self.ack(await self.deliver(kind, payload, **kwargs))

    def acks_of(self, envelope_id: str) -> list[dict[str, Any]]:
        return [a for a in self.acks if a.get("envelope_id") == envelope_id]

    async def disconnect(self, reason: str = "refresh_requested", *, to: Connection | None = None) -> None:
        """Ask Baton to reconnect, as Slack does before it recycles a connection."""
        await self.send_raw({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake-1"}}, to=to)

    async def drop(self, *, to: Connection | None = None, code: int = 1001) -> None:
        """Close the socket from Slack's side, with no warning."""
        connection = to or self._current()
        await asyncio.wait_for(connection.ws.close(code=code, message=b"going away"), WAIT)

    async def wait_closed(self, connection: Connection) -> None:
        await asyncio.wait_for(connection.closed.wait(), WAIT)

    # --- the server ----------------------------------------------------------------------

    def _current(self) -> Connection:
        open_ones = [c for c in self.connections if c.greeted.is_set() and not c.closed.is_set()]
        assert open_ones, "Baton has no open Socket Mode connection"
        return open_ones[-1]

    async def _wait_for(self, ready: Any) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(ready)

        await asyncio.wait_for(wait(), WAIT)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            self.refused.append(ticket)
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        connection = Connection(ticket, ws)
        self.connections.append(connection)
        try:
            greeter = asyncio.create_task(self._greet(connection))
            try:
                async for message in ws:  # reading all along answers pings and close frames
                    if message.type != WSMsgType.TEXT:
                        continue
                    await self._received(connection, message.data)
            finally:
                greeter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await greeter
        finally:
            connection.close_code = ws.close_code
            connection.closed.set()
            await self._notify()
        return ws

    async def _greet(self, connection: Connection) -> None:
        if self.hello_delay:
            await asyncio.sleep(self.hello_delay)
        await self._hello_released.wait()  # cancelled with the connection, so never left waiting
        hello = {
            "type": "hello",
            "num_connections": len(self.open_connections),
            "debug_info": {"host": "applink-fake-1", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        await connection.ws.send_str(json.dumps(hello))
        connection.greeted.set()
        await self._notify()

    async def _received(self, connection: Connection, data: str) -> None:
        try:
            frame: Any = json.loads(data)
        except ValueError:
            frame = data
        connection.received.append(frame)
        if isinstance(frame, dict) and "envelope_id" in frame:
            self.acks.append(frame)
        await self._notify()
