"""Resending is safe: activities have an identity, Idempotency-Key replays the first answer,
and a signed request cannot be replayed."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.api.auth import sign
from handlers.clock import ManualClock
from store.db import Database
from store.models import Activity, IdempotencyKey, Lead, SeenSignature
from tests.api.intake_helpers import JSON, count, post_raw, snapshot
from tests.conftest import auth
from tests.factories import lead_payload

SECRET = "hmac-secret-for-tests"
WEBINAR = {"type": "webinar_attended", "occurred_at": "2026-11-20T15:00:00Z"}


async def score_of(db: Database, external_id: str) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(Lead.score).where(Lead.external_id == external_id)) or 0)


def signed(runtime: Any, body: bytes, at: int | None = None) -> dict[str, str]:
    runtime.settings.intake_hmac_secret = SECRET
    ts = str(at if at is not None else int(runtime.clock.now().timestamp()))
    return {"X-Baton-Timestamp": ts, "X-Baton-Signature": sign(SECRET, ts, body), **JSON}


# --- activities have an identity -----------------------------------------------------------------


async def test_a_lead_posted_three_times_with_its_webinar_scores_it_once(api: Any, db: Database) -> None:
    payload = lead_payload(external_id="again-1", activities=[WEBINAR])
    for _ in range(3):
        assert (await api.post("/api/leads", json=payload, headers=auth())).status == 202
    once = lead_payload(external_id="again-2", activities=[WEBINAR])
    await api.post("/api/leads", json=once, headers=auth())
    assert await score_of(db, "again-1") == await score_of(db, "again-2")
    assert await count(db, Activity) == 2


async def test_a_resent_lead_with_untimed_activities_adds_none(api: Any, db: Database) -> None:
    payload = lead_payload(external_id="untimed-1", activities=[{"type": "blog_visit"}, {"type": "blog_visit"}])
    first = await api.post("/api/leads", json=payload, headers=auth())
    again = await api.post("/api/leads", json=payload, headers=auth())
    assert (await again.json())["results"][0]["score"] == (await first.json())["results"][0]["score"]
    assert await count(db, Activity) == 2


async def test_a_resent_activities_request_adds_its_points_once(api: Any, db: Database) -> None:
    await api.post("/api/leads", json=lead_payload(external_id="act-1"), headers=auth())
    before = await score_of(db, "act-1")
    scores = []
    for _ in range(3):
        response = await api.post("/api/leads/act-1/activities", json=[WEBINAR], headers=auth())
        scores.append((await response.json())["result"]["score"])
    assert scores[0] > before and scores == [scores[0]] * 3 and await count(db, Activity) == 1


async def test_an_activity_with_a_client_id_is_stored_once_whatever_its_time(api: Any, db: Database) -> None:
    await api.post("/api/leads", json=lead_payload(external_id="cid-1"), headers=auth())
    await api.post("/api/leads/cid-1/activities", json=[{"id": "ev-9", **WEBINAR}], headers=auth())
    later = {"id": "ev-9", "type": "webinar_attended", "occurred_at": "2026-11-21T15:00:00Z"}
    response = await api.post("/api/leads/cid-1/activities", json=[later], headers=auth())
    assert (await response.json())["result"]["status"] == "unchanged" and await count(db, Activity) == 1


async def test_two_distinct_activities_of_one_type_both_count(api: Any, db: Database) -> None:
    await api.post("/api/leads", json=lead_payload(external_id="two-1"), headers=auth())
    second = {"type": "webinar_attended", "occurred_at": "2026-11-21T15:00:00Z"}
    await api.post("/api/leads/two-1/activities", json=[WEBINAR, second], headers=auth())
    assert await count(db, Activity) == 2


async def test_the_same_instant_in_another_zone_is_the_same_activity(api: Any, db: Database) -> None:
    await api.post("/api/leads", json=lead_payload(external_id="tz-1"), headers=auth())
    await api.post("/api/leads/tz-1/activities", json=[WEBINAR], headers=auth())
    shifted = {"type": "webinar_attended", "occurred_at": "2026-11-20T16:00:00+01:00"}
    await api.post("/api/leads/tz-1/activities", json=[shifted], headers=auth())
    assert await count(db, Activity) == 1


# --- Idempotency-Key ---------------------------------------------------------------------------------


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(api: Any, db: Database) -> None:
    body = json.dumps(lead_payload(external_id="idem-1"))
    headers = {**auth(), **JSON, "Idempotency-Key": "k-1"}
    first = await api.post("/api/leads", data=body, headers=headers)
    after_first = await snapshot(db)
    retry = await api.post("/api/leads", data=body, headers=headers)
    assert retry.status == first.status == 202 and await retry.json() == await first.json()
    assert retry.headers["Idempotent-Replayed"] == "true" and await snapshot(db) == after_first


async def test_an_idempotency_key_reused_for_another_body_is_422(api: Any, db: Database) -> None:
    headers = {**auth(), "Idempotency-Key": "k-2"}
    await api.post("/api/leads", json=lead_payload(external_id="idem-2"), headers=headers)
    response = await api.post("/api/leads", json=lead_payload(external_id="idem-3"), headers=headers)
    assert response.status == 422 and "Idempotency-Key" in (await response.json())["error"]
    assert await count(db, Lead) == 1


async def test_an_idempotency_key_on_another_endpoint_is_another_request(api: Any) -> None:
    headers = {**auth(), "Idempotency-Key": "k-3"}
    await api.post("/api/leads", json=lead_payload(external_id="idem-4"), headers=headers)
    response = await api.post("/api/leads/idem-4/activities", json=[WEBINAR], headers=headers)
    assert response.status == 422


async def test_a_refused_request_does_not_use_up_its_idempotency_key(api: Any, db: Database) -> None:
    headers = {**auth(), **JSON, "Idempotency-Key": "k-4"}
    bad = await api.post("/api/leads", data=json.dumps(lead_payload(email="nope")), headers=headers)
    assert bad.status == 422 and await count(db, IdempotencyKey) == 0
    good = await api.post(
        "/api/leads", data=json.dumps(lead_payload(email="nope")).replace("nope", "ok@acme.example"), headers=headers
    )
    assert good.status == 202


async def test_an_idempotency_key_expires_after_its_ttl(api: Any, db: Database, clock: ManualClock) -> None:
    headers = {**auth(), "Idempotency-Key": "k-5"}
    await api.post("/api/leads", json=lead_payload(external_id="idem-5"), headers=headers)
    clock.advance(timedelta(hours=25))
    response = await api.post("/api/leads", json=lead_payload(external_id="idem-6"), headers=headers)
    assert response.status == 202 and await count(db, Lead) == 2 and await count(db, IdempotencyKey) == 1


async def test_a_malformed_idempotency_key_is_400(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", json=lead_payload(), headers={**auth(), "Idempotency-Key": "has space"})
    assert response.status == 400 and "Idempotency-Key" in (await response.json())["error"]
    assert await count(db, Lead) == 0


async def test_a_key_still_in_progress_answers_409(api: Any, db: Database, clock: ManualClock) -> None:
    body = json.dumps(lead_payload())
    fingerprint = hashlib.sha256(b"POST /api/leads\n" + body.encode()).hexdigest()
    async with db.transaction() as session:  # as a first request, still running on another replica, left it
        session.add(
            IdempotencyKey(
                key="k-6",
                fingerprint=fingerprint,
                status=None,
                response=None,
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(hours=1),
            )
        )
    response = await api.post("/api/leads", data=body, headers={**auth(), **JSON, "Idempotency-Key": "k-6"})
    assert response.status == 409 and await count(db, Lead) == 0


async def test_a_key_whose_first_request_died_is_taken_over(api: Any, db: Database, clock: ManualClock) -> None:
    body = json.dumps(lead_payload())
    fingerprint = hashlib.sha256(b"POST /api/leads\n" + body.encode()).hexdigest()
    async with db.transaction() as session:
        session.add(
            IdempotencyKey(
                key="k-7",
                fingerprint=fingerprint,
                status=None,
                response=None,
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(hours=1),
            )
        )
    clock.advance(timedelta(minutes=3))
    response = await api.post("/api/leads", data=body, headers={**auth(), **JSON, "Idempotency-Key": "k-7"})
    assert response.status == 202 and await count(db, Lead) == 1


# --- signed requests cannot be replayed ----------------------------------------------------------------


async def test_a_replayed_signed_request_is_401(api: Any, runtime: Any, db: Database) -> None:
    body = json.dumps(lead_payload(external_id="sig-1")).encode()
    headers = signed(runtime, body)
    assert (await api.post("/api/leads", data=body, headers=headers)).status == 202
    after_first = await snapshot(db)
    replay = await api.post("/api/leads", data=body, headers=headers)
    assert replay.status == 401 and "replay" in (await replay.json())["error"]
    assert await snapshot(db) == after_first


async def test_a_signed_request_outside_the_window_is_401(api: Any, runtime: Any, db: Database) -> None:
    body = json.dumps(lead_payload()).encode()
    stale = int(runtime.clock.now().timestamp()) - 301
    assert (await api.post("/api/leads", data=body, headers=signed(runtime, body, stale))).status == 401
    assert await count(db, Lead) == 0


async def test_seen_signatures_are_pruned_once_out_of_the_window(
    api: Any, runtime: Any, db: Database, clock: ManualClock
) -> None:
    first = json.dumps(lead_payload()).encode()
    await api.post("/api/leads", data=first, headers=signed(runtime, first))
    clock.advance(timedelta(minutes=6))
    second = json.dumps(lead_payload()).encode()
    await api.post("/api/leads", data=second, headers=signed(runtime, second))
    assert await count(db, SeenSignature) == 1


async def test_a_signed_read_cannot_be_replayed_either(api: Any, runtime: Any) -> None:
    await api.post("/api/leads", json=lead_payload(external_id="sig-r"), headers=auth())
    headers = signed(runtime, b"")
    assert (await api.get("/api/leads/sig-r", headers=headers)).status == 200
    assert (await api.get("/api/leads/sig-r", headers=headers)).status == 401


async def test_a_timestamp_of_non_ascii_digits_is_401_not_a_500(api: Any, runtime: Any) -> None:
    runtime.settings.intake_hmac_secret = SECRET
    status, _ = await post_raw(
        api, "/api/leads", "[]", {**JSON, "X-Baton-Timestamp": "\u00b2\u00b3", "X-Baton-Signature": "sha256=\u00e9"}
    )
    assert status == 401


# --- every kind of request, three times -----------------------------------------------------------------


async def test_every_kind_of_intake_request_sent_three_times_leaves_what_the_first_left(
    api: Any, runtime: Any, db: Database
) -> None:
    leads = json.dumps(
        [
            lead_payload(external_id="tri-1", activities=[WEBINAR, {"type": "blog_visit"}]),
            lead_payload(external_id="tri-2", employees=20),
        ]
    )
    activities = json.dumps(
        [
            {"type": "pricing_page_viewed", "occurred_at": "2026-11-22T10:00:00Z"},
            {"id": "crm-ev-1", "type": "blog_visit"},
        ]
    )
    signed_lead = json.dumps(lead_payload(external_id="tri-3", activities=[WEBINAR])).encode()
    signed_activities = json.dumps({"activities": [{"id": "crm-ev-2", "type": "ebook_downloaded"}]}).encode()

    async def send_all() -> None:
        plain, keyed = {**auth(), **JSON}, {**auth(), **JSON, "Idempotency-Key": "tri-key"}
        assert (await api.post("/api/leads", data=leads, headers=plain)).status == 202
        assert (await api.post("/api/leads/tri-1/activities", data=activities, headers=plain)).status == 202
        assert (await api.post("/api/leads/tri-2/activities", data=activities, headers=keyed)).status == 202
        # A signed sender retrying signs anew (a fresh timestamp); the very same request is a replay.
        ts = int(runtime.clock.now().timestamp())
        for body, path in ((signed_lead, "/api/leads"), (signed_activities, "/api/leads/tri-3/activities")):
            response = await api.post(path, data=body, headers=signed(runtime, body, ts))
            assert response.status == 202
            replay = await api.post(path, data=body, headers=signed(runtime, body, ts))
            assert replay.status == 401
        runtime.clock.advance(timedelta(seconds=1))

    await send_all()
    after_first = await snapshot(db)
    for _ in range(2):
        await send_all()
    assert await snapshot(db) == after_first


async def test_two_requests_racing_with_one_idempotency_key_store_the_lead_once(api: Any, db: Database) -> None:
    import asyncio

    body = json.dumps(lead_payload(external_id="race-1"))
    headers = {**auth(), **JSON, "Idempotency-Key": "race"}
    responses = await asyncio.gather(*(api.post("/api/leads", data=body, headers=headers) for _ in range(2)))
    assert sorted(r.status for r in responses) in ([202, 202], [202, 409])
    assert await count(db, Lead) == 1
