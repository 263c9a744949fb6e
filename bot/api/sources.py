"""``POST /api/sources/{name}``: a configured source's own payload in, mapped to leads, taken as ``/api/leads``.

Each ``[[sources]]`` entry gets this URL. The request is authenticated the source's way (401 and
nothing kept when that fails), its payload parsed (JSON by the strict reader of ``bot.api.body``;
a Salesforce Outbound Message by ``bot.api.soap``), each record mapped (``scoring.sources``) and
validated as a ``LeadIn``; only when every record maps is anything stored, by the same
``handlers.intake.leads.ingest`` as ``POST /api/leads``, with the audit actor ``source:<name>``.
Answers are in the source's own shape: JSON, or SOAP (``<Ack>true</Ack>``, or a fault).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.api import soap
from bot.api.auth import SIGNATURE_WINDOW
from bot.api.body import BodyError, check_content_type, parse
from bot.api.errors import problem
from bot.api.source_auth import baton_ok, hubspot_ok, salesforce_org_ok, token_ok
from bot.keys import RUNTIME, SERVICES, SETTINGS
from handlers.intake import failures, resend
from handlers.intake import leads as intake
from handlers.intake.leads import InvalidActivities, LeadForgotten
from handlers.intake.outcomes import OutcomeRefused, record_outcome
from handlers.intake.source_records import check_record
from handlers.intake.touches import TouchRefused, log_touches
from handlers.text import _, n_
from scoring.agreement_check import format_path
from scoring.sources import Source

routes = web.RouteTableDef()
_LEAD_PATH = re.compile(r"^leads\[(?P<i>\d+)\]\.(?P<rest>.+)$")
_XML_TYPES = frozenset({"text/xml", "application/soap+xml"})


class Refused(Exception):
    """The request is not taken: ``status``, a summary, each problem as ``(where, message)`` and
    the intake failures its refused records were kept as."""

    def __init__(
        self, status: int, error: str, problems: list[tuple[str, str]] | None = None, failures: list[int] | None = None
    ) -> None:
        super().__init__(error)
        self.status, self.error, self.problems, self.failures = status, error, problems or [], failures or []


def _count(request: web.Request, source: Source, outcome: str, leads: int = 0) -> None:
    metrics = request.app[RUNTIME].metrics
    metrics.source_requests.labels(source.name, outcome).inc()
    if leads:
        metrics.source_leads.labels(source.name).inc(leads)


@routes.post("/api/sources/{name}")
async def post_source(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    source = request.app[SERVICES].agreement.source(name)
    if source is None:
        return problem(404, f"no source named {name[:60]!r} in the agreement's [[sources]]")
    body = await request.read()  # bounded by the app's client_max_size
    if not source.auth.allows(_client_address(request)):
        # Kept nowhere, like a bad signature: the caller is not on the source's allow-list.
        _count(request, source, "unauthorized")
        error = _("api.sources.address_refused", source=source.name)
        if source.preset == "salesforce":
            return web.Response(text=soap.fault(error, []), status=403, content_type="text/xml", charset="utf-8")
        return problem(403, error)
    if source.preset == "salesforce":
        return await _salesforce(request, source, body)
    try:
        await _authenticate(request, source, body)
        try:
            check_content_type(request.content_type, request.charset)
            data = parse(body)
        except BodyError as exc:
            raise Refused(exc.status, exc.error, [(format_path(path), m) for path, m in exc.problems]) from None
        records = source.records_in(data)
        listed = not (len(records) == 1 and records[0] is data)
        results = await _take(request, source, records, lambda i: f"[{i}]" if listed else "")
    except Refused as exc:
        _count(request, source, "unauthorized" if exc.status in (401, 403) else "refused")
        answer: dict[str, Any] = {"error": exc.error}
        if exc.problems:
            answer["problems"] = [{"field": where, "message": message} for where, message in exc.problems]
        if exc.failures:
            answer["failures"] = exc.failures
        return web.json_response(answer, status=exc.status)
    stored = sum(1 for r in results if r.get("status") != "refused")
    _count(request, source, "accepted", stored)
    return web.json_response({"results": results}, status=202)


async def _salesforce(request: web.Request, source: Source, body: bytes) -> web.Response:
    try:
        if request.content_type not in _XML_TYPES or (request.charset or "utf-8").lower() not in {"utf-8", "utf8"}:
            raise Refused(415, f"Content-Type must be text/xml; charset=utf-8 (got {request.content_type or 'none'})")
        try:
            message = soap.parse(body)
        except soap.SoapError as exc:
            raise Refused(
                400, "the Outbound Message cannot be read; nothing was stored", [("", p) for p in exc.problems]
            ) from None
        assert source.auth.organization_id is not None  # the model requires it for this kind
        if not salesforce_org_ok(source.auth.organization_id, message.organization_id):
            raise Refused(401, "the OrganizationId is not this source's organization; nothing was stored")
        records = [n.record for n in message.notifications]
        results = await _take(request, source, records, lambda i: f"Notification[{i}]")
    except Refused as exc:
        _count(request, source, "unauthorized" if exc.status in (401, 403) else "refused")
        problems = [f"{where}: {message}" if where else message for where, message in exc.problems]
        return web.Response(
            text=soap.fault(exc.error, problems), status=exc.status, content_type="text/xml", charset="utf-8"
        )
    _count(request, source, "accepted", len(results))
    return web.Response(text=soap.ACK, content_type="text/xml", charset="utf-8")


async def _authenticate(request: web.Request, source: Source, body: bytes) -> None:
    settings, services = request.app[SETTINGS], request.app[SERVICES]
    auth = source.auth
    assert auth.secret_env is not None  # every kind but salesforce requires it
    secret = settings.source_secret(auth.secret_env)
    if secret is None:
        # Baton's configuration, not the sender, is at fault: 503 so the sender tries again later.
        raise Refused(503, f"source {source.name!r} is not ready: its secret {auth.secret_env} is not set")
    now = services.clock.now()
    if auth.kind == "bearer":
        if not token_ok(secret, request.headers):
            raise Refused(401, f"missing or wrong credentials: send Authorization: Bearer <{auth.secret_env}>")
        return
    if auth.kind == "hmac":
        if not baton_ok(secret, request.headers, body, now.timestamp()):
            raise Refused(401, "missing or wrong X-Baton-Signature, or X-Baton-Timestamp not within 5 minutes")
        signature = request.headers["X-Baton-Signature"]
        until = datetime.fromtimestamp(int(request.headers["X-Baton-Timestamp"]), now.tzinfo) + timedelta(
            seconds=SIGNATURE_WINDOW
        )
        await _first_use(services, signature, until)
        return
    uri = _public_uri(request)
    if not hubspot_ok(secret, request.method, uri, body, request.headers, int(now.timestamp() * 1000)):
        raise Refused(
            401,
            "missing or wrong X-HubSpot-Signature-v3, or X-HubSpot-Request-Timestamp not within 5 minutes; "
            f"check the app's client secret in {auth.secret_env} and that HubSpot calls {uri}",
        )
    signature = request.headers["X-HubSpot-Signature-v3"]
    until = datetime.fromtimestamp(int(request.headers["X-HubSpot-Request-Timestamp"]) / 1000, now.tzinfo)
    await _first_use(services, f"hubspot:{signature}", until + timedelta(minutes=5))


async def _first_use(services: Any, signature: str, until: datetime) -> None:
    if not await resend.first_use(services, signature, until):
        raise Refused(401, "this signed request was received before (a replay)")


def _client_address(request: web.Request) -> str | None:
    """The caller's address: the connection's, or (only when configured) the last entry of the
    header the trusted proxy in front of Baton sets."""
    header = request.app[SETTINGS].trusted_proxy_header
    if header:
        forwarded = request.headers.get(header)
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.remote


def _public_uri(request: web.Request) -> str:
    # The URL as the sender called it: behind a proxy, the scheme and host it forwarded (the
    # signature still needs the secret, so trusting these headers forges nothing).
    scheme = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    return f"{scheme}://{host}{request.raw_path}"


async def _take(request: web.Request, source: Source, records: list[Any], where: Any) -> list[dict[str, Any]]:
    """Map and validate every record, then store them: all or none, or (a source that does not
    retry a 4xx) each on its own. Every refused record is kept as an intake failure."""
    if not records:
        raise Refused(400, "no records in the request; nothing was stored")
    if len(records) > intake.MAX_BATCH:
        raise Refused(413, f"{len(records):,} records in one request; the limit is {intake.MAX_BATCH:,}")
    services = request.app[SERVICES]
    now = services.clock.now()
    checked = [check_record(services.agreement, now, source, record) for record in records]
    refused = [(i, c) for i, c in enumerate(checked) if c.lead is None]
    failure_ids = await failures.keep(services, source, [c for _i, c in refused]) if refused else []
    failure_of = {i: failure_ids[n] for n, (i, _c) in enumerate(refused)}
    if refused:
        request.app[RUNTIME].metrics.source_leads_refused.labels(source.name).inc(len(refused))
    problems = [(_join(where(i), found), message) for i, c in refused for found, message in c.problems]
    if refused and (not source.takes_each_lead or len(refused) == len(records)):
        kept = n_("api.sources.kept", len(refused), ids=", ".join(map(str, failure_ids)))
        raise Refused(
            422,
            _("api.sources.refused", source=source.name) + kept,
            problems,
            failures=failure_ids,
        )
    good = [c for c in checked if c.lead is not None]
    leads = [c.lead for c in good if c.lead is not None]
    try:
        outcomes = await intake.ingest(
            services, leads, actor=f"source:{source.name}", chunk=request.app[SETTINGS].intake_batch
        )
    except InvalidActivities as exc:  # checked per record above; kept for a change of agreement between
        raise Refused(422, "invalid activities; nothing was stored", [_split(p, where) for p in exc.problems]) from None
    except intake.PartlyStored as exc:
        # 503, so the sender retries (HubSpot and Salesforce both do on 5xx): stored leads come back unchanged.
        raise Refused(
            503,
            f"{len(exc.failed)} leads could not be stored because of an error on Baton's side; "
            "the others were stored, and sending the request again is safe",
        ) from None
    answers = iter(outcomes)
    results: list[dict[str, Any]] = []
    for i, c in enumerate(checked):
        if c.lead is None:
            found = [{"field": f, "message": m} for f, m in c.problems]
            results.append({"status": "refused", "failure_id": failure_of[i], "problems": found})
            continue
        result = next(answers).as_json()
        if c.touches:
            try:
                logged = await log_touches(services, result["external_id"], c.touches)
                result["touches"] = [t.as_json() for t in logged]
            except TouchRefused as exc:
                result["touches"] = {
                    "error": exc.error,
                    "problems": [{"field": f, "message": m} for f, m in exc.problems],
                }
        if c.outcome is not None:
            result["outcome"] = await _outcome(services, source, result["external_id"], c)
        results.append(result)
    return results


async def _outcome(services: Any, source: Source, external_id: str, c: Any) -> dict[str, Any]:
    """Record a mapped outcome as ``POST /api/leads/{external_id}/outcome`` would: the lead is
    stored either way; a refusal (its stage does not allow it yet) is reported beside it."""
    try:
        recorded = await record_outcome(services, external_id, c.outcome, actor=f"source:{source.name}")
    except OutcomeRefused as exc:
        return {"error": exc.error, "status": exc.status}
    except LeadForgotten:
        return {"error": f"lead {external_id!r} was forgotten on request; its outcome is not recorded", "status": 410}
    if recorded is None:  # the lead was just stored, so this is a race with an erasure
        return {"error": f"no lead with external_id {external_id!r}", "status": 404}
    return recorded.as_json()


def _split(found: str, where: Any) -> tuple[str, str]:
    # Intake names the lead by its place in the batch ("leads[3].activities[0].type"); the
    # sender knows it by its place in its own payload.
    path, _colon, message = found.partition(": ")
    lead = _LEAD_PATH.match(path)
    if lead is not None:
        path = _join(where(int(lead["i"])), lead["rest"])
    return path, message


def _join(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if prefix and field != "(top level)" else (prefix or field)
