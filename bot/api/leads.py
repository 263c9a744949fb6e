"""``POST /api/leads``, ``POST /api/leads/{external_id}/activities`` and ``GET /api/leads/{external_id}``."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from bot.api.auth import bearer_ok, signature_ok
from bot.api.errors import problem, validation_problems
from bot.keys import SERVICES, SETTINGS
from handlers import intake
from handlers.intake import ActivityIn, LeadForgotten, LeadIn, UnknownEventTypes

routes = web.RouteTableDef()
_leads = TypeAdapter(list[LeadIn])
_activities = TypeAdapter(list[ActivityIn])


async def _authenticated_body(request: web.Request) -> bytes:
    settings = request.app[SETTINGS]
    body = await request.read()  # bounded by the app's client_max_size
    if bearer_ok(request.headers.get("Authorization"), settings.intake_token):
        return body
    if signature_ok(settings.intake_hmac_secret, request.headers.get("X-Baton-Timestamp"),
                    request.headers.get("X-Baton-Signature"), body):
        return body
    raise web.HTTPUnauthorized(
        text=json.dumps({"error": "missing or wrong credentials: send Authorization: Bearer <BATON_INTAKE_TOKEN>"}),
        content_type="application/json")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"body is not valid JSON: {exc}"}),
                                 content_type="application/json") from None


@routes.post("/api/leads")
async def post_leads(request: web.Request) -> web.Response:
    data = _json(await _authenticated_body(request))
    items = data if isinstance(data, list) else [data]
    if not items:
        return problem(400, "no leads in the request")
    if len(items) > intake.MAX_BATCH:
        return problem(413, f"{len(items):,} leads in one request; the limit is {intake.MAX_BATCH:,}")
    try:
        leads = _leads.validate_python(items)
    except ValidationError as exc:
        return problem(422, "invalid leads; nothing was stored", validation_problems(exc, ("leads",)))
    try:
        outcomes = await intake.ingest(request.app[SERVICES], leads, actor="intake-api",
                                       chunk=request.app[SETTINGS].intake_batch)
    except UnknownEventTypes as exc:
        return problem(422, "invalid leads; nothing was stored", _split(exc.problems))
    except intake.PartlyStored as exc:
        # 500, so the CRM retries: the stored leads come back unchanged, the others get another go.
        return web.json_response({
            "error": f"{len(exc.failed)} of {len(leads)} leads could not be stored because of an error "
                     "on Baton's side (it is logged); the others were stored, and sending the request "
                     "again is safe",
            "failed": [{"external_id": external_id} for external_id in exc.failed],
            "results": [o.as_json() for o in exc.outcomes]}, status=500)
    return web.json_response({"results": [o.as_json() for o in outcomes]}, status=202)


@routes.post("/api/leads/{external_id}/activities")
async def post_activities(request: web.Request) -> web.Response:
    data = _json(await _authenticated_body(request))
    items = data.get("activities") if isinstance(data, dict) and "activities" in data else data
    items = items if isinstance(items, list) else [items]
    if not items or len(items) > intake.MAX_BATCH:
        return problem(422, f"send between 1 and {intake.MAX_BATCH:,} activities")
    try:
        activities = _activities.validate_python(items)
    except ValidationError as exc:
        return problem(422, "invalid activities; nothing was stored", validation_problems(exc, ("activities",)))
    try:
        outcome = await intake.add_activities(request.app[SERVICES], request.match_info["external_id"],
                                              activities, actor="intake-api")
    except UnknownEventTypes as exc:
        return problem(422, "invalid activities; nothing was stored", _split(exc.problems))
    except LeadForgotten:
        return problem(410, f"lead {request.match_info['external_id']!r} was forgotten on request; "
                            "send it again as a new lead if the person has opted back in")
    if outcome is None:
        return problem(404, f"no lead with external_id {request.match_info['external_id']!r}")
    return web.json_response({"result": outcome.as_json()}, status=202)


@routes.get("/api/leads/{external_id}")
async def get_lead(request: web.Request) -> web.Response:
    await _authenticated_body(request)
    found = await intake.lead_summary(request.app[SERVICES], request.match_info["external_id"])
    if found is None:
        return problem(404, f"no lead with external_id {request.match_info['external_id']!r}")
    return web.json_response(found)


def _split(problems: list[str]) -> list[dict[str, str]]:
    return [dict(zip(("field", "message"), p.split(": ", 1), strict=True)) for p in problems]
