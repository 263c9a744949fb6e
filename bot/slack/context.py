"""What every Slack listener is given, and how it answers the person who acted.

``Inflight`` counts listener bodies still running after their ``ack()``: bolt runs
them as background tasks, so shutdown (and tests) wait on it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import log_failure
from bot.slack.render import ephemeral
from handlers.services import Services

log = logging.getLogger(__name__)
SOURCE = "slack"


class Inflight:
    """How many listener bodies are running; ``wait`` returns once none is."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def wait(self, grace: float | None = None) -> bool:
        """``True`` once idle, ``False`` if ``grace`` seconds ran out first."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
            return True
        except TimeoutError:
            return False

    @property
    def count(self) -> int:
        return self._count


@dataclass
class Ticket:
    """One keyed request's place in line: its arrival number and the lead it is about."""

    seq: int
    key: str
    done: asyncio.Event = field(default_factory=asyncio.Event)


# The ticket of the request being handled; bolt's listener tasks inherit it from the request.
_TICKET: ContextVar[Ticket | None] = ContextVar("baton_slack_ticket", default=None)


class AckGate:
    """Gives acknowledging priority over the work that follows an ack, and keeps clicks in order.

    Every HTTP request from Slack is counted while bolt dispatches it (until its ack
    becomes the response). A listener that has acked calls ``settled()`` before its
    handler: it waits until no request is being dispatched and none arrived for
    ``quiet`` seconds, so under a burst of clicks the acks go out first and the
    database work runs after. ``max_wait`` bounds the wait so a steady stream never
    starves the work.

    Waking from ``settled()`` is in no particular order, so a click on a lead also takes a
    ticket when it arrives (``ticket(key)``) and runs its handler in ``turn()``: after
    every earlier click on the same lead has run its own. The first Claim Slack delivered is
    the one that wins. ``max_turn`` bounds that wait too (a request whose listener never runs
    releases its ticket through ``release``).
    """

    def __init__(self, quiet: float = 0.02, max_wait: float = 0.5, max_turn: float = 5.0) -> None:
        self.quiet = quiet
        self.max_wait = max_wait
        self.max_turn = max_turn
        self._pending = 0
        self._last = 0.0
        self._seq = 0
        self._lines: dict[str, list[Ticket]] = {}

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        self._pending += 1
        self._last = asyncio.get_running_loop().time()
        try:
            yield
        finally:
            self._pending -= 1

    @property
    def issued(self) -> int:
        """How many tickets were taken so far (a click's arrival number)."""
        return self._seq

    def ticket(self, key: str | None) -> Ticket | None:
        """Take the request's place in line for ``key`` (None: not a click on a lead)."""
        if key is None:
            return None
        self._seq += 1
        ticket = Ticket(self._seq, key)
        self._lines.setdefault(key, []).append(ticket)
        _TICKET.set(ticket)  # the listener task bolt starts from this request inherits it
        return ticket

    async def settled(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        # A time-based debounce (quiet for ``quiet`` seconds), so polling rather than an Event.
        while loop.time() < deadline and (self._pending or loop.time() - self._last < self.quiet):  # noqa: ASYNC110
            await asyncio.sleep(self.quiet / 2)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Run the body after every earlier keyed request on the same lead has run its own."""
        ticket = _TICKET.get()
        if ticket is None:
            yield
            return
        earlier = [t.done.wait() for t in self._lines.get(ticket.key, []) if t.seq < ticket.seq and not t.done.is_set()]
        try:
            if earlier:
                try:
                    await asyncio.wait_for(asyncio.gather(*earlier), self.max_turn)
                except TimeoutError:
                    log.warning(
                        "Slack: a click on %s waited %.1f s for an earlier one; going ahead", ticket.key, self.max_turn
                    )
            yield
        finally:
            self.release(ticket)

    def release(self, ticket: Ticket | None) -> None:
        """Let later clicks on the same lead go (done, or never going to run)."""
        if ticket is None or ticket.done.is_set():
            return
        ticket.done.set()
        line = self._lines.get(ticket.key, [])
        if ticket in line:
            line.remove(ticket)
        if not line:
            self._lines.pop(ticket.key, None)


@dataclass
class Deps:
    services: Services
    inflight: Inflight = field(default_factory=Inflight)
    acks: AckGate = field(default_factory=AckGate)
    welcome: bool = True  # BATON_WELCOME


async def tell(body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond | None, text: str) -> None:
    """Answer only the person who acted: ephemeral in place, else in their DM with Baton.

    A failed answer is logged, never raised: the action itself already happened (or didn't).
    """
    rendered = ephemeral(text)
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    try:
        if respond is not None and body.get("response_url"):
            await respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral", replace_original=False)
        elif channel and user:
            await client.chat_postEphemeral(channel=channel, user=user, text=rendered.text, blocks=rendered.blocks)
        elif user:
            await client.chat_postMessage(channel=user, text=rendered.text, blocks=rendered.blocks)
    except Exception as exc:  # the answer is a courtesy; the action's outcome is already committed
        log_failure(log, f"could not answer Slack user {user}", exc)
