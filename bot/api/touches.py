"""``POST /api/leads/{external_id}/touches``: calls, emails and meetings logged in the CRM, dialer or email tool.

Authenticated as ``/api/leads`` (bearer token or Baton's HMAC, Idempotency-Key honoured). The body is
one touch, a list of them, or ``{"touches": [...]}``; each is ``kind`` (call, email, meeting), ``at``
(ISO 8601 with offset; default now), ``rep`` (email) or ``rep_crm_id``, ``outcome`` and ``id``.
Every touch is checked before any is stored: a 4xx names each problem and writes nothing.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from bot.api.body import Path
from bot.api.errors import validation_problems
from bot.api.intake_request import answer, handle_post
from bot.api.leads import _bad_external_id
from bot.keys import SERVICES
from handlers.intake.resend import Answer
from handlers.intake.touch_input import TouchIn
from handlers.intake.touches import MAX_TOUCHES, TouchRefused, log_touches
from handlers.text import _

routes = web.RouteTableDef()
_touches = TypeAdapter(list[TouchIn])


@routes.post("/api/leads/{external_id}/touches")
async def post_touches(request: web.Request) -> web.Response:
    external_id = request.match_info["external_id"]

    async def run(data: Any) -> Answer:
        if (refused := _bad_external_id(external_id)) is not None:
            return refused
        wrapped = isinstance(data, dict) and set(data) == {"touches"}
        items = data["touches"] if wrapped else data
        single = isinstance(items, dict)
        if single:
            items = [items]
        if not isinstance(items, list):
            return answer(422, _("api.touches.shape"))
        if not 1 <= len(items) <= MAX_TOUCHES:
            return answer(422, _("api.touches.count", most=MAX_TOUCHES))
        try:
            touches = _touches.validate_python(items)
        except ValidationError as exc:
            found = validation_problems(exc, ("touches",) if wrapped else ())
            if single:  # one touch: its fields by name, not "[0].kind"
                for p in found:
                    p["field"] = p["field"].removeprefix("[0].").removeprefix("[0]") or "(top level)"
            return answer(422, _("api.touches.invalid"), found)
        try:
            logged = await log_touches(request.app[SERVICES], external_id, touches)
        except TouchRefused as exc:
            problems = [{"field": f.removeprefix("[0].") if single else f, "message": m} for f, m in exc.problems]
            return answer(exc.status, exc.error, problems or None)
        return Answer(202, {"results": [t.as_json() for t in logged]})

    def prefix(root: Any) -> Path:
        return ()

    return await handle_post(request, prefix, run)
