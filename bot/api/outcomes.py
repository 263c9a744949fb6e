"""``POST /api/leads/{external_id}/outcome``: the CRM says an opportunity was created, won or lost.

Authenticated and guarded like ``POST /api/leads`` (``bot.api.intake_request``: bearer token or
HMAC signature, ``Content-Type``, ``Idempotency-Key``, the strict JSON parse). The body is one
object (``handlers.intake.outcomes.OutcomeIn``); a refused body gets a 4xx naming each field and
nothing is written. Sending the same outcome again is safe: it is recorded once.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from bot.api.body import Path
from bot.api.errors import validation_problems
from bot.api.intake_request import answer, handle_post
from bot.api.leads import _bad_external_id
from bot.keys import SERVICES
from handlers.intake.leads import LeadForgotten
from handlers.intake.outcomes import OutcomeIn, OutcomeRefused, record_outcome
from handlers.intake.resend import Answer

routes = web.RouteTableDef()
_INVALID = "invalid outcome; nothing was stored"


@routes.post("/api/leads/{external_id}/outcome")
async def post_outcome(request: web.Request) -> web.Response:
    external_id = request.match_info["external_id"]

    async def run(data: Any) -> Answer:
        if (refused := _bad_external_id(external_id)) is not None:
            return refused
        if not isinstance(data, dict):
            return answer(422, _INVALID, [{"field": "(top level)", "message": "send one JSON object"}])
        try:
            item = OutcomeIn.model_validate(data)
        except ValidationError as exc:
            return answer(422, _INVALID, validation_problems(exc))
        try:
            result = await record_outcome(request.app[SERVICES], external_id, item, actor="intake-api")
        except OutcomeRefused as exc:
            problems = [{"field": exc.field, "message": exc.error}] if exc.field else None
            return answer(exc.status, exc.error if exc.status == 409 else _INVALID, problems)
        except LeadForgotten:
            return answer(410, f"lead {external_id!r} was forgotten on request; its outcome is not recorded")
        if result is None:
            return answer(404, f"no lead with external_id {external_id!r}")
        return Answer(200, {"result": result.as_json()})

    def prefix(root: Any) -> Path:
        return ()

    return await handle_post(request, prefix, run)
