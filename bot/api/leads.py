"""``POST /api/leads``, ``POST /api/leads/{external_id}/activities`` and ``GET /api/leads/{external_id}``."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from bot.api.body import Path
from bot.api.errors import problem, validation_problems
from bot.api.intake_request import answer, authenticate, handle_post
from bot.keys import SERVICES, SETTINGS
from handlers.intake import leads as intake
from handlers.intake.leads import ActivityIn, InvalidActivities, LeadForgotten, LeadIn
from handlers.intake.resend import Answer
from scoring.lead import one_line

routes = web.RouteTableDef()
_leads = TypeAdapter(list[LeadIn])
_activities = TypeAdapter(list[ActivityIn])
_INVALID_LEADS = "invalid leads; nothing was stored"
_INVALID_ACTIVITIES = "invalid activities; nothing was stored"


@routes.post("/api/leads")
async def post_leads(request: web.Request) -> web.Response:
    async def run(data: Any) -> Answer:
        items = data if isinstance(data, list) else [data]
        if not items:
            return answer(400, "no leads in the request")
        if len(items) > intake.MAX_BATCH:
            return answer(413, f"{len(items):,} leads in one request; the limit is {intake.MAX_BATCH:,}")
        try:
            leads = _leads.validate_python(items)
        except ValidationError as exc:
            return answer(422, _INVALID_LEADS, validation_problems(exc, ("leads",)))
        try:
            outcomes = await intake.ingest(
                request.app[SERVICES], leads, actor="intake-api", chunk=request.app[SETTINGS].intake_batch
            )
        except InvalidActivities as exc:
            return answer(422, _INVALID_LEADS, _split(exc.problems))
        except intake.PartlyStored as exc:
            # 500, so the CRM retries: the stored leads come back unchanged, the others get another go.
            return Answer(
                500,
                {
                    "error": f"{len(exc.failed)} of {len(leads)} leads could not be stored because of an error "
                    "on Baton's side (it is logged); the others were stored, and sending the request "
                    "again is safe",
                    "failed": [{"external_id": external_id} for external_id in exc.failed],
                    "results": [o.as_json() for o in exc.outcomes],
                },
            )
        return Answer(202, {"results": [o.as_json() for o in outcomes]})

    def prefix(root: Any) -> Path:
        return ("leads",) if isinstance(root, list) else ("leads", 0)

    return await handle_post(request, prefix, run)


@routes.post("/api/leads/{external_id}/activities")
async def post_activities(request: web.Request) -> web.Response:
    external_id = request.match_info["external_id"]

    async def run(data: Any) -> Answer:
        if (refused := _bad_external_id(external_id)) is not None:
            return refused
        items = data["activities"] if isinstance(data, dict) and set(data) == {"activities"} else data
        if not isinstance(items, list):
            return answer(422, 'send a list of activities, or {"activities": [...]} and nothing else')
        if not items or len(items) > intake.MAX_BATCH:
            return answer(422, f"send between 1 and {intake.MAX_BATCH:,} activities")
        try:
            activities = _activities.validate_python(items)
        except ValidationError as exc:
            return answer(422, _INVALID_ACTIVITIES, validation_problems(exc, ("activities",)))
        try:
            outcome = await intake.add_activities(request.app[SERVICES], external_id, activities, actor="intake-api")
        except InvalidActivities as exc:
            return answer(422, _INVALID_ACTIVITIES, _split(exc.problems))
        except LeadForgotten:
            return answer(
                410,
                f"lead {external_id!r} was forgotten on request; "
                "send it again as a new lead if the person has opted back in",
            )
        if outcome is None:
            return answer(404, f"no lead with external_id {external_id!r}")
        return Answer(202, {"result": outcome.as_json()})

    def prefix(root: Any) -> Path:
        return ("activities",) if isinstance(root, list) else ()

    return await handle_post(request, prefix, run)


@routes.get("/api/leads/{external_id}")
async def get_lead(request: web.Request) -> web.Response:
    await authenticate(request, await request.read())
    external_id = request.match_info["external_id"]
    if (refused := _bad_external_id(external_id)) is not None:
        return web.json_response(refused.body, status=refused.status)
    found = await intake.lead_summary(request.app[SERVICES], external_id)
    if found is None:
        return problem(404, f"no lead with external_id {external_id!r}")
    return web.json_response(found)


def _bad_external_id(external_id: str) -> Answer | None:
    """The id in the path obeys the rules of the field (and never reaches the database otherwise)."""
    if not 1 <= len(external_id) <= 128:
        return answer(422, "invalid external_id", [{"field": "external_id", "message": "1 to 128 characters"}])
    try:
        one_line(external_id)
    except ValueError as exc:
        return answer(422, "invalid external_id", [{"field": "external_id", "message": str(exc)}])
    return None


def _split(problems: list[str]) -> list[dict[str, str]]:
    return [dict(zip(("field", "message"), p.split(": ", 1), strict=True)) for p in problems]
