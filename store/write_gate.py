"""A fair, in-process queue for SQLite's single writer.

SQLite lets one transaction write at a time; the rest poll ``busy_timeout``, and polling is
unfair: a task that commits and at once begins again (intake's back-to-back batches) wins the
lock over one that has been waiting for hundreds of milliseconds (delivery recording a send).
The gate hands the writer's turn over in order instead, and lets *urgent* work (delivery's
short claim and settle) go before everything queued that is not urgent, so it waits for at
most the one transaction that holds the lock. It only orders this process's writers; another
process (a CLI command) still meets busy_timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class WaitStats:
    """How long write transactions waited for their turn (seconds), for benchmarks and metrics."""

    count: int = 0
    total: float = 0.0
    longest: float = 0.0
    longest_urgent: float = 0.0
    recent_urgent: deque[float] = field(default_factory=lambda: deque(maxlen=1000))

    def add(self, waited: float, urgent: bool) -> None:
        self.count += 1
        self.total += waited
        self.longest = max(self.longest, waited)
        if urgent:
            self.longest_urgent = max(self.longest_urgent, waited)
            self.recent_urgent.append(waited)


class WriteGate:
    """``async with gate.turn(urgent=...)``: one holder at a time, urgent waiters first, FIFO within."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()
        self.stats = WaitStats()

    @property
    def waiting(self) -> int:
        return sum(not f.done() for f in (*self._urgent, *self._normal))

    async def acquire(self, urgent: bool = False) -> None:
        started = time.perf_counter()
        if not self._held and not self.waiting:
            self._held = True
            self.stats.add(0.0, urgent)
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._normal).append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # the turn was handed over just as we were cancelled: pass it on
            raise
        self.stats.add(time.perf_counter() - started, urgent)

    def release(self) -> None:
        # Hand the turn straight to the next waiter, so nobody arriving meanwhile can take it.
        for queue in (self._urgent, self._normal):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._held = False
