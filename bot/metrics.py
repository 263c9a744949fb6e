"""Prometheus metrics: ``GET /metrics``, fed by audit events, delivery results and an HTTP middleware.

Each ``Runtime`` owns one ``Metrics`` with its own ``CollectorRegistry``, so two
runtimes in one test process never collide. Domain counters move only when the
transaction that recorded the audit event commits (``Services.on_event``);
the outbox backlog is counted at scrape time, so every replica reports the
shared backlog (alert on ``max``, not ``sum``, across replicas).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from bot.keys import RUNTIME
from handlers.audit import AuditAction
from handlers.followup.escalation import SLA_ACTOR
from handlers.messaging.delivery import DeliveryResult
from handlers.services import RecordedEvent
from store.db import Database
from store.models import OutboxMessage, OutboxStatus

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# SLA step audit actions ("sla.nudged") and the policy action they carry out ("nudge").
_SLA_ACTIONS = {"nudged": "nudge", "escalated": "escalate", "reassigned": "reassign"}
_PREFIX = re.compile(r"^(http_\d{3}|network)\b", re.IGNORECASE)
_HTTP = re.compile(r"\bHTTP (\d{3})\b", re.IGNORECASE)
_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
_WORD = re.compile(r"[a-z][a-z0-9]{0,39}")
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)


def error_code(error: str | None, rate_limited: bool = False) -> str:
    """A short, low-cardinality code from a delivery error, for the ``code`` label.

    "http_503: receiver error" -> http_503; "network: ..." -> network; "Slack refused the
    message: channel_not_found" -> channel_not_found; "TimeoutError: ..." -> timeouterror.
    """
    if rate_limited:
        return "ratelimited"
    if not error:
        return "unknown"
    text = error.strip()
    if found := _PREFIX.match(text):
        return found.group(1).lower()
    if found := _HTTP.search(text):
        return f"http_{found.group(1)}"
    if snake := _SNAKE.findall(text):
        return str(snake[-1])[:40]
    head = text.split(":", 1)[0].strip().lower()
    return head if _WORD.fullmatch(head) else "other"


class Metrics:
    """The process's metrics. Call ``on_event`` for committed audit events, ``on_delivery`` per outbox row."""

    def __init__(self, reasons: frozenset[str] = frozenset()) -> None:
        self.registry = CollectorRegistry()
        self.reasons = reasons
        r = self.registry
        self.leads_received = Counter("baton_leads_received", "New leads stored by intake.", registry=r)
        self.leads_qualified = Counter("baton_leads_qualified", "Leads that became MQLs.", registry=r)
        self.offers = Counter("baton_offers", "Offers of a lead to a rep or team.", registry=r)
        self.accepted = Counter("baton_accepted", "Offers accepted by a rep.", registry=r)
        self.rejected = Counter("baton_rejected", "Offers rejected, by reason.", ["reason"], registry=r)
        self.sla_steps = Counter("baton_sla_steps", "SLA timer steps fired, by action.", ["action"], registry=r)
        self.lead_events = Counter("baton_lead_events", "Every audit event, by action.", ["action"], registry=r)
        self.deliveries = Counter(
            "baton_deliveries", "Outbox delivery attempts, by outcome.", ["platform", "status"], registry=r
        )
        self.delivery_errors = Counter(
            "baton_delivery_errors", "Chat and webhook API errors, by code.", ["platform", "code"], registry=r
        )
        self.parked = Counter(
            "baton_outbox_parked",
            "Outbox rows given up (parked as failed), by platform and "
            "code; code too_old when transient failures outlasted BATON_OUTBOX_MAX_AGE.",
            ["platform", "code"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "baton_delivery_latency_seconds",
            "From enqueue to delivery.",
            ["platform"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.backlog = Gauge("baton_outbox_backlog", "Outbox rows waiting to be sent.", ["platform"], registry=r)
        self.failed = Gauge("baton_outbox_failed", "Outbox rows parked as failed.", ["platform"], registry=r)
        self.oldest = Gauge("baton_outbox_oldest_pending_seconds", "Age of the oldest row still pending.", registry=r)
        self.platform_up = Gauge(
            "baton_platform_up", "1 while a chat platform passes its health check, else 0.", ["platform"], registry=r
        )
        self.write_wait = Gauge(
            "baton_sqlite_write_wait_longest_seconds",
            "Longest wait of a write transaction for SQLite's writer since start; urgent = "
            "delivery's claim and settle.",
            ["kind"],
            registry=r,
        )
        self.source_requests = Counter(
            "baton_source_requests",
            "Requests to POST /api/sources/{name}, by source and outcome (accepted, refused, unauthorized).",
            ["source", "outcome"],
            registry=r,
        )
        self.source_leads = Counter(
            "baton_source_leads", "Leads mapped from a source and taken by intake, by source.", ["source"], registry=r
        )
        self.source_leads_refused = Counter(
            "baton_source_leads_refused",
            "Records from a source that did not map to a valid lead, kept as intake failures, by source.",
            ["source"],
            registry=r,
        )
        self.http = Histogram(
            "baton_http_request_seconds", "HTTP request latency, by route.", ["route", "method", "status"], registry=r
        )

    def on_event(self, event: RecordedEvent) -> None:
        action, after = event.action, event.after or {}
        self.lead_events.labels(action).inc()
        if action == AuditAction.CAPTURED:
            self.leads_received.inc()
        elif action == AuditAction.QUALIFIED:
            self.leads_qualified.inc()
        elif action == AuditAction.OFFERED:
            self.offers.inc()
        elif action == AuditAction.ACCEPTED:
            self.accepted.inc()
        elif action == AuditAction.REJECTED:
            reason = str(after.get("reason") or "unknown")
            # Only the agreed reasons become label values: no unbounded cardinality.
            self.rejected.labels(reason if not self.reasons or reason in self.reasons else "other").inc()
        elif action.startswith("sla."):
            suffix = action.removeprefix("sla.")
            self.sla_steps.labels(_SLA_ACTIONS.get(suffix, suffix)).inc()
        elif action == AuditAction.REASSIGNED and event.actor == SLA_ACTOR:  # the SLA's step, not a manager's
            self.sla_steps.labels("reassign").inc()

    def on_delivery(self, result: DeliveryResult) -> None:
        self.deliveries.labels(result.platform, result.status).inc()
        if result.status == "sent":
            self.delivery_latency.labels(result.platform).observe(max(result.latency, 0.0))
        elif result.error and result.status in ("retry", "failed"):
            code = "ratelimited" if result.rate_limited else (result.code or error_code(result.error))
            self.delivery_errors.labels(result.platform, code[:40]).inc()
        if result.status == "failed":
            parked = "too_old" if result.expired else (result.code or error_code(result.error))
            self.parked.labels(result.platform, parked[:40]).inc()

    async def refresh_outbox(self, db: Database, now: datetime) -> None:
        """Recount the shared outbox (one grouped COUNT over the status index)."""
        query = (
            select(OutboxMessage.platform, OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
            .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
            .group_by(OutboxMessage.platform, OutboxMessage.status)
        )
        async with db.read() as session:  # a scrape never queues behind (or holds up) a writer
            rows = (await session.execute(query)).all()
        self.backlog.clear()
        self.failed.clear()
        oldest: datetime | None = None
        for platform, status, count, first in rows:
            if status == OutboxStatus.PENDING:
                self.backlog.labels(platform).set(count)
                oldest = first if oldest is None or (first and first < oldest) else oldest
            else:
                self.failed.labels(platform).set(count)
        self.oldest.set(max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)

    def refresh_write_gate(self, db: Database) -> None:
        """How long SQLite writers queued (absent on PostgreSQL, which has no single writer)."""
        if db.write_gate is not None:
            stats = db.write_gate.stats
            self.write_wait.labels("urgent").set(stats.longest_urgent)
            self.write_wait.labels("all").set(stats.longest)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Time every request under its route's canonical path (``/api/leads/{external_id}``)."""
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            self.http.labels(route, request.method, str(status)).observe(time.perf_counter() - started)


routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics_view(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    await runtime.metrics.refresh_outbox(runtime.db, runtime.clock.now())
    runtime.metrics.refresh_write_gate(runtime.db)
    return web.Response(body=runtime.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
