"""The outbox worker: claims due rows, hands them to each platform's sender, records the result.

Nothing is lost and, as far as the platform lets us know, nothing is doubled:

- **Claim** (``handlers.messaging.claim``): a short transaction takes due rows, fast-track cards
  first and then the oldest, that their rate-limit scopes let go now, reserving a pacing slot in
  each scope (state shared in the database by every replica; ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL). A claimed row is in flight (``claimed_at``) under a short lease.
- **Send**, outside any transaction, grouped by conversation (in order within one, several
  conversations at once). A heartbeat renews the lease of every row still held, so a slow send
  keeps its row while a dead worker's rows come back within about one lease. Just before each
  send its scopes are read again: a pause another replica met since the claim holds it back.
- **Settle** (``handlers.messaging.settle``), at once and urgently. A 429 pauses the scopes it
  names (the whole platform when it names none) for its Retry-After, and rows of this sweep
  waiting for those scopes are given back unsent. Transient failures retry with capped,
  jittered backoff until the message is older than the maximum age; permanent ones park the row
  at once with its code, and the admins hear of it once an hour per platform, code and target.

A row claimed again after its lease ran out without a settle reaches the sender as
``Delivery(doubtful=True, claimed_at=...)``: the earlier attempt may have landed, so a sender
that can look (Slack: message metadata) reconciles before posting again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.messaging.claim import Claimed, claim
from handlers.messaging.pacing import Pacing
from handlers.messaging.ports import ConversationGone, Delivered, Delivery, PermanentFailure, RetryLater, Sender
from handlers.messaging.scopes import PauseChecks
from handlers.messaging.settle import Outcome, RetryPolicy, Settled, release, renew, settle, settle_sent
from handlers.services import Services
from store.models import OutboxMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryResult:
    row_id: int
    platform: str
    status: str  # sent | retry | failed | waiting (given back unsent) | stale (claimed again meanwhile)
    error: str | None = None
    latency: float = 0.0  # seconds from enqueue to send
    rate_limited: bool = False
    retry_after: float | None = None
    code: str | None = None  # the platform's error code, when it gave one
    expired: bool = False  # parked because transient failures outlasted the maximum age
    doubtful: bool = False  # this attempt followed one that was never settled


class DeliveryWorker:
    """Deliver what the outbox holds; ``run_once`` is one sweep, ``run`` loops until stopped."""

    def __init__(
        self,
        services: Services,
        senders: Mapping[str, Sender],
        *,
        batch: int = 100,
        lease: timedelta = timedelta(seconds=10),
        renew_every: float | None = None,
        pacing: Pacing | None = None,
        policy: RetryPolicy | None = None,
        concurrency: int = 8,
        send_timeout: float = 120.0,
        on_result: Callable[[DeliveryResult], None] | None = None,
        on_gone: Callable[[Delivery, str], None] | None = None,
    ) -> None:
        self.services = services
        self.senders = dict(senders)
        self.batch = batch
        self.lease = lease
        # Real seconds between lease renewals while sends are in flight: a third of the lease.
        self.renew_every = renew_every if renew_every is not None else max(lease.total_seconds() / 3, 0.05)
        self.pacing = pacing or Pacing.none()
        self.pauses = PauseChecks(services.db)
        self.policy = policy or RetryPolicy()
        self.concurrency = max(concurrency, 1)
        # A send that has not answered by then is abandoned (senders time out sooner themselves);
        # whether it landed is unknown, so the next attempt is doubtful.
        self.send_timeout = send_timeout
        self.on_result = on_result
        self.on_gone = on_gone
        self.wakeup = asyncio.Event()
        self.next_slot: float | None = None  # seconds until a paced-out row could go, after a sweep
        self._sent = _SentBatch(services)

    def wake(self) -> None:
        self.wakeup.set()

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:  # a bad sweep must not end delivery for good
                log.exception("outbox sweep failed")
                sent, self.next_slot = 0, None
            if sent:
                continue
            # Sleep until the earliest pacing slot (never longer than the interval), or a commit wakes us.
            wait = interval if self.next_slot is None else min(interval, max(self.next_slot, 0.005))
            self.wakeup.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wakeup.wait())]
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def run_once(self) -> int:
        """Claim and deliver one batch; returns how many rows were settled (sent or failed)."""
        taken = await claim(self.services, self.senders, self.pacing, batch=self.batch, lease=self.lease)
        self.next_slot = taken.next_slot
        if not taken.rows:
            return 0
        held = {c.row.id: c for c in taken.rows}
        paused: dict[str, datetime] = {}  # scopes a 429 paused during this sweep, until when
        heartbeat = asyncio.create_task(self._heartbeat(held))
        self._sent = _SentBatch(self.services)
        gate = asyncio.Semaphore(self.concurrency)
        groups: dict[str, list[Claimed]] = {}
        for claimed in taken.rows:
            # Rows of one conversation go in order; different conversations at once.
            groups.setdefault(claimed.scopes[0], []).append(claimed)
        try:
            outcomes = await asyncio.gather(
                *(self._group(rows, held, paused, gate) for rows in groups.values()), return_exceptions=True
            )
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        settled = 0
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                # The rows keep their lease and come back (doubtful) once it has run out.
                log.error("delivering part of a sweep failed", exc_info=outcome)
            else:
                settled += outcome
        return settled

    async def _claim(self) -> list[OutboxMessage]:
        """Claim a batch without sending it (what a worker that dies at once leaves behind)."""
        taken = await claim(self.services, self.senders, self.pacing, batch=self.batch, lease=self.lease)
        return [c.row for c in taken.rows]

    async def _group(
        self, rows: list[Claimed], held: dict[int, Claimed], paused: dict[str, datetime], gate: asyncio.Semaphore
    ) -> int:
        settled = 0
        for claimed in rows:
            try:
                result = await self._one(claimed, paused, gate)
            finally:
                held.pop(claimed.row.id, None)
            settled += result.status in ("sent", "failed")
            if self.on_result:
                self.on_result(result)
        return settled

    async def _one(self, claimed: Claimed, paused: dict[str, datetime], gate: asyncio.Semaphore) -> DeliveryResult:
        row = claimed.row
        # The gate bounds calls to the platform, not commits: a send waiting for its result to be
        # recorded gives its place to another conversation's send meanwhile.
        async with gate:
            now = self.services.clock.now()
            waits = [paused[s] for s in claimed.scopes if s in paused and paused[s] > now]
            if not waits and (elsewhere := await self.pauses.paused_until(claimed.scopes, now)):
                waits.append(elsewhere)  # another worker or replica met the 429
            if not waits:
                outcome = await self._send(claimed)
        if waits:
            # A 429 paused one of its scopes after it was claimed: not sent, not an attempt.
            await release(self.services, claimed, max(waits))
            return DeliveryResult(row.id, row.platform, "waiting", "its scope was paused by a rate limit")
        if outcome.pause:
            seconds = outcome.after if outcome.after is not None else self.policy.base
            until = now + timedelta(seconds=seconds)
            for scope in outcome.pause:
                paused[scope] = max(paused.get(scope, until), until)
        if outcome.status == "sent" and not outcome.pause:
            done = await self._sent.settle(claimed, outcome)
        else:
            done = await settle(self.services, claimed, outcome, self.policy)
        return DeliveryResult(
            row.id,
            row.platform,
            done.status,
            done.error,
            (now - row.created_at).total_seconds(),
            outcome.rate_limited,
            outcome.after,
            done.code,
            done.expired,
            claimed.delivery.doubtful,
        )

    async def _send(self, claimed: Claimed) -> Outcome:
        row, delivery = claimed.row, claimed.delivery
        if row.kind == "update" and delivery.target_message is None:
            return Outcome("failed", "the message to update was never delivered", "never_delivered", alert=False)
        try:
            async with asyncio.timeout(self.send_timeout):
                delivered: Delivered | None = await self.senders[row.platform].send(delivery)
        except TimeoutError:
            return Outcome("retry", f"no answer within {self.send_timeout:g} s", "timeout", ambiguous=True)
        except RetryLater as exc:
            scopes = tuple(exc.scopes) or ((row.platform,) if exc.rate_limited else ())
            uncertain = exc.uncertain if exc.uncertain is not None else row.kind == "post"
            return Outcome(
                "retry",
                exc.reason,
                "ratelimited" if exc.rate_limited else _code(exc.reason),
                exc.after,
                exc.rate_limited,
                scopes,
                ambiguous=uncertain,
            )
        except ConversationGone as exc:
            if self.on_gone:
                self.on_gone(delivery, str(exc))
            return Outcome(
                "failed", f"conversation gone: {exc}", exc.code or "conversation_gone", alert=not exc.alerted
            )
        except PermanentFailure as exc:
            reason = str(exc) or type(exc).__name__
            return Outcome("failed", reason, exc.code or _code(reason), alert=not exc.alerted)
        except Exception as exc:  # network errors and the unexpected: back off and try again
            log.warning("delivery of outbox row %s failed: %s", row.id, type(exc).__name__)
            # Nobody can say whether a post got as far as the platform: the next attempt looks first.
            return Outcome(
                "retry",
                f"{type(exc).__name__}: {exc}"[:500],
                type(exc).__name__.lower()[:64],
                ambiguous=row.kind == "post",
            )
        return Outcome("sent", delivered=delivered)

    async def _heartbeat(self, held: dict[int, Claimed]) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                await renew(self.services, list(held.values()), self.lease)
            except Exception:  # a missed renewal only shortens the lease; the next one tries again
                log.warning("renewing the lease of %s outbox rows failed", len(held), exc_info=True)


class _SentBatch:
    """Successful sends of one sweep, recorded together: the first is committed at once, and
    every one that finishes while that commit runs goes into the next (``settle_sent``). Under
    a burst that is a handful of commits a sweep instead of one per row; alone, a send is
    recorded as soon as it would have been. A failed commit fails every row in it alike: each
    keeps its lease and comes back doubtful, as with a lone settle."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.pending: list[tuple[Claimed, Outcome, asyncio.Future[Settled]]] = []
        self.flushing: asyncio.Task[None] | None = None

    async def settle(self, claimed: Claimed, outcome: Outcome) -> Settled:
        done: asyncio.Future[Settled] = asyncio.get_running_loop().create_future()
        self.pending.append((claimed, outcome, done))
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.create_task(self._flush())
        return await done

    async def _flush(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            try:
                results = await settle_sent(self.services, [(c, o) for c, o, _ in batch])
            except BaseException as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("settle cancelled"))
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, _, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)


def _code(reason: str) -> str:
    """A short code from an error text without one ("http_503: ..." -> http_503)."""
    head = reason.split(":", 1)[0].strip().lower().replace(" ", "_")
    return head[:64] if head and len(head) <= 40 else "error"
