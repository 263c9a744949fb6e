"""A source's ``touches`` mapping: a dialer's call log, posted to its source URL, counts as the touches API's."""

from __future__ import annotations

from typing import Any

from handlers.handoff.accept import accept
from handlers.intake.failures import failures
from store.models import Handoff, Lead, Touch
from tests.api.intake_helpers import JSON
from tests.api.source_helpers import JSON_TOKEN
from tests.timers.conftest import offer, rows


async def test_calls_mapped_from_a_dialer_are_logged_as_touches(api: Any, runtime: Any) -> None:
    services = runtime.services
    data = await offer(services)
    (handoff,) = await rows(services, Handoff)
    assert handoff.rep is not None and (await accept(services, data, handoff.rep, "slack")).ok
    (lead,) = await rows(services, Lead)
    body = {
        "lead": {"external_id": lead.external_id, "email": lead.email},
        "calls": [
            {"call_id": "d-77", "agent_email": handoff.rep, "started_at": None, "disposition": "left voicemail"},
        ],
    }
    headers = {"Authorization": f"Bearer {JSON_TOKEN}", **JSON}
    response = await api.post("/api/sources/dialer", json=body, headers=headers)
    answer = await response.json()
    assert response.status == 202, answer
    (result,) = answer["results"]
    assert result["status"] == "unchanged" and result["touches"][0]["status"] == "logged"
    (touch,) = await rows(services, Touch)
    assert touch.external_id == "d-77" and touch.outcome == "left voicemail"
    (lead,) = await rows(services, Lead)
    assert lead.first_touch_at is not None


async def test_a_bad_touch_in_a_dialer_record_is_kept_as_an_intake_failure(api: Any, runtime: Any) -> None:
    body = {"lead": {"external_id": "dial-1", "email": "d@prospect-d.example"}, "calls": [{"agent_email": "nope"}]}
    headers = {"Authorization": f"Bearer {JSON_TOKEN}", **JSON}
    response = await api.post("/api/sources/dialer", json=body, headers=headers)
    answer = await response.json()
    assert response.status == 422 and "touches[0].rep" in {p["field"] for p in answer["problems"]}
    (failure,) = await failures(runtime.services)
    assert failure.source == "dialer" and await rows(runtime.services, Lead) == []
