"""``POST /api/sources/{name}``: a configured source's own payload in, mapped to leads, taken as ``/api/leads``.

Each ``[[sources]]`` entry gets this URL. The request is authenticated the source's way (401 and
nothing kept when that fails), its payload parsed (JSON by the strict reader of ``bot.api.body``;
a Salesforce Outbound Message by ``bot.api.soap``), each record mapped (``scoring.sources``) and
validated as a ``LeadIn``; only when every record maps is anything stored, by the same
``handlers.intake.leads.ingest`` as ``POST /api/leads``, with the audit actor ``source:<name>``.
Answers are in the source's own shape: JSON, or SOAP (``<Ack>true</Ack>``, or a fault).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from bot.api import soap
from bot.api.auth import SIGNATURE_WINDOW
from bot.api.body import BodyError, check_content_type, parse
from bot.api.errors import problem, validation_problems
from bot.api.source_auth import baton_ok, hubspot_ok, salesforce_org_ok, token_ok
from bot.keys import RUNTIME, SERVICES, SETTINGS
from handlers.intake import leads as intake
from handlers.intake import resend
from handlers.intake.leads import InvalidActivities, LeadIn
from scoring.agreement_check import format_path
from scoring.sources import Source, map_record

routes = web.RouteTableDef()
_leads = TypeAdapter(list[LeadIn])
_LEAD_PATH = re.compile(r"^leads\[(?P<i>\d+)\]\.(?P<rest>.+)$")
_XML_TYPES = frozenset({"text/xml", "application/soap+xml"})


class Refused(Exception):
    """The request is not taken: ``status``, a summary and each problem as ``(where, message)``."""

    def __init__(self, status: int, error: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.problems = status, error, problems or []


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
    if source.preset == "salesforce":
        return await _salesforce(request, source, body)
    try:
        await _authenticate(request, source, body)
        try:
            check_content_type(request.content_type, request.charset)
            data = parse(body)
        except BodyError as exc:
            raise Refused(exc.status, exc.error, [(format_path(path), m) for path, m in exc.problems]) from None
        records = data if isinstance(data, list) else [data]
        results = await _take(request, source, records, lambda i: f"[{i}]" if isinstance(data, list) else "")
    except Refused as exc:
        _count(request, source, "unauthorized" if exc.status == 401 else "refused")
        found = [{"field": where, "message": message} for where, message in exc.problems]
        return problem(exc.status, exc.error, found or None)
    _count(request, source, "accepted", len(results))
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
        _count(request, source, "unauthorized" if exc.status == 401 else "refused")
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


def _public_uri(request: web.Request) -> str:
    # The URL as the sender called it: behind a proxy, the scheme and host it forwarded (the
    # signature still needs the secret, so trusting these headers forges nothing).
    scheme = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    return f"{scheme}://{host}{request.raw_path}"


async def _take(request: web.Request, source: Source, records: list[Any], where: Any) -> list[dict[str, Any]]:
    """Map and validate every record, then store them all (or refuse naming each problem)."""
    if not records:
        raise Refused(400, "no records in the request; nothing was stored")
    if len(records) > intake.MAX_BATCH:
        raise Refused(413, f"{len(records):,} records in one request; the limit is {intake.MAX_BATCH:,}")
    mapped, problems = [], []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            problems.append((where(i) or "(top level)", "not an object; each record is a JSON object"))
            continue
        lead = map_record(source, record)
        try:
            mapped.append(LeadIn.model_validate(lead))
        except ValidationError as exc:
            for found in validation_problems(exc):
                problems.append((_join(where(i), found["field"]), found["message"] + _mapped_from(source, found)))
    if problems:
        raise Refused(
            422, f"the payload does not map to valid leads for source {source.name!r}; nothing was stored", problems
        )
    try:
        outcomes = await intake.ingest(
            request.app[SERVICES], mapped, actor=f"source:{source.name}", chunk=request.app[SETTINGS].intake_batch
        )
    except InvalidActivities as exc:
        raise Refused(422, "invalid activities; nothing was stored", [_split(p, where) for p in exc.problems]) from None
    except intake.PartlyStored as exc:
        # 503, so the sender retries (HubSpot and Salesforce both do on 5xx): stored leads come back unchanged.
        raise Refused(
            503,
            f"{len(exc.failed)} leads could not be stored because of an error on Baton's side; "
            "the others were stored, and sending the request again is safe",
        ) from None
    return [o.as_json() for o in outcomes]


def _split(found: str, where: Any) -> tuple[str, str]:
    # Intake names the lead by its place in the batch ("leads[3].activities[0].type"); the
    # sender knows it by its place in its own payload.
    path, _, message = found.partition(": ")
    lead = _LEAD_PATH.match(path)
    if lead is not None:
        path = _join(where(int(lead["i"])), lead["rest"])
    return path, message


def _join(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if prefix and field != "(top level)" else (prefix or field)


def _mapped_from(source: Source, found: dict[str, str]) -> str:
    expression = source.mapping().get(found["field"].split(".")[0].split("[")[0])
    return f" (mapped from {json.dumps(expression)})" if expression else ""
