"""POST /api/leads/{external_id}/outcome: the funnel after SQL, what was won, which rules buy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.runtime import Runtime
from handlers.clock import ManualClock
from handlers.digest.weekly import build_digests
from handlers.handoff.accept import accept
from handlers.privacy.erasure import forget
from handlers.queries import answer, roles
from handlers.queries.conversion import add_conversion, conversion
from handlers.views.actions import ButtonData
from handlers.views.notice import Notice
from store.db import Database
from store.models import AuditEvent, Handoff, Lead, Outcome, Timer, TimerStatus
from tests.api.intake_helpers import JSON, fields, post_raw
from tests.conftest import START, auth
from tests.factories import lead_payload

_WEBINARS = [
    {"id": "w1", "type": "webinar_attended", "occurred_at": START.isoformat()},
    {"id": "w2", "type": "webinar_attended", "occurred_at": START.isoformat()},
]


async def _lead(api: Any, external_id: str, **fields: Any) -> None:
    response = await api.post("/api/leads", json=lead_payload(external_id=external_id, **fields), headers=auth())
    (result,) = (await response.json())["results"]
    assert result["offered"], result


async def _accept(runtime: Runtime, external_id: str) -> None:
    async with runtime.db.transaction() as session:
        lead = (await session.scalars(select(Lead).where(Lead.external_id == external_id))).one()
        handoff = (await session.scalars(select(Handoff).where(Handoff.lead_id == lead.id))).one()
    assert handoff.rep is not None
    assert (await accept(runtime.services, ButtonData(lead.id, handoff.id), handoff.rep, source="test")).ok


async def _outcome(api: Any, external_id: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return await api.post(f"/api/leads/{external_id}/outcome", json=body, headers={**auth(), **(headers or {})})


async def _seed(api: Any, runtime: Runtime) -> None:
    """Four MQLs: a and b with a senior title, c and d without (webinars qualify them instead).
    a is accepted, becomes an opportunity and is won; b is accepted and lost; c accepted; d open."""
    await _lead(api, "a")
    await _lead(api, "b")
    await _lead(api, "c", title="Engineer", activities=_WEBINARS)
    await _lead(api, "d", title="Engineer", activities=_WEBINARS)
    for external_id in ("a", "b", "c"):
        await _accept(runtime, external_id)
    assert (await _outcome(api, "a", {"outcome": "opportunity", "amount": 10000, "currency": "EUR"})).status == 200
    won = await _outcome(api, "a", {"outcome": "won", "amount": "12000.50", "currency": "EUR", "crm_id": "006A"})
    assert won.status == 200
    assert (await won.json())["result"] == {"external_id": "a", "outcome": "won", "status": "created", "stage": "won"}
    lost = await _outcome(api, "b", {"outcome": "lost", "reason": "Chose a competitor"})
    assert lost.status == 200


async def test_an_outcome_moves_the_funnel_and_the_per_rule_win_rate(
    api: Any, runtime: Runtime, clock: ManualClock
) -> None:
    await _seed(api, runtime)
    scope = roles.everyone(runtime.agreement)
    async with runtime.db.read() as session:
        found = await conversion(session, scope, START - timedelta(days=1), START + timedelta(days=1))
    assert (found.mqls, found.sals, found.sqls, found.opportunities, found.won, found.lost) == (4, 3, 1, 1, 1, 1)
    rules = {r.rule: (r.leads, r.accepted, r.won) for r in found.rules}
    assert rules["Senior title"] == (2, 2, 1)  # both accepted, one of them bought: 50 % win rate
    assert rules["Target industry"] == (4, 3, 1)  # fired on every lead: 25 % win rate
    assert found.won_deals == 1 and str(found.won_amount["EUR"]) == "12000.5"
    notice = Notice(title="stats")
    await add_conversion(runtime.services, notice, scope, START - timedelta(days=1), START + timedelta(days=1))
    shown = {f.label: f.value for f in notice.fields}
    assert shown["Funnel"].startswith("MQL 4 → SAL 3 → SQL 1 → Opportunity 1 → Won 1")
    assert "Opportunity → Won 100%" in shown["Funnel"] and "Lost 1" in shown["Funnel"]
    assert shown["Won"] == "1 deal won, EUR 12,000.50"
    source, rule = notice.tables
    assert source.rows == [["webinar", "Q4 pipeline webinar", "1", "EUR 12,000.50"]]
    assert ["Senior title", "2", "100%", "50%"] in rule.rows and ["Target industry", "4", "75%", "25%"] in rule.rows


async def test_the_marketing_digest_shows_the_funnel_wins_by_source_and_the_rules(
    api: Any, runtime: Runtime, clock: ManualClock
) -> None:
    await _seed(api, runtime)
    clock.advance(timedelta(days=7))  # the digest covers last week
    _key, messages = await build_digests(runtime.services)
    marketing = next(m for m in messages if m.audience == "marketing").notice
    shown = {f.label: f.value for f in marketing.fields}
    assert shown["Funnel"].startswith("MQL 4 → SAL 3 → SQL 1 → Opportunity 1 → Won 1")
    assert shown["Won"] == "1 deal won, EUR 12,000.50"
    assert ["webinar", "Q4 pipeline webinar", "1", "EUR 12,000.50"] in marketing.tables[-2].rows
    assert ["Senior title", "2", "100%", "50%"] in marketing.tables[-1].rows
    manager = next(m for m in messages if m.audience.startswith("manager:")).notice
    assert any(f.label == "Funnel" for f in manager.fields)


async def test_a_resent_outcome_never_doubles_the_amount(api: Any, runtime: Runtime, db: Database) -> None:
    await _seed(api, runtime)
    again = await _outcome(api, "a", {"outcome": "won", "amount": 12000.5, "currency": "EUR"})
    assert (await again.json())["result"]["status"] == "unchanged"
    corrected = await _outcome(api, "a", {"outcome": "won", "amount": "13000", "currency": "EUR"})
    assert (await corrected.json())["result"]["status"] == "updated"
    async with db.read() as session:
        rows = (await session.scalars(select(Outcome).where(Outcome.kind == "won"))).all()
        found = await conversion(
            session, roles.everyone(runtime.agreement), START - timedelta(days=1), START + timedelta(days=1)
        )
        corrections = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "lead.outcome_corrected")
        )
    assert [r.amount for r in rows] == ["13000"]
    assert found.won_amount == {"EUR": 13000} and found.won == 1 and corrections == 1


async def test_an_idempotency_key_replays_the_first_answer(api: Any, runtime: Runtime) -> None:
    await _lead(api, "k")
    await _accept(runtime, "k")
    first = await _outcome(api, "k", {"outcome": "won", "amount": 5}, {"Idempotency-Key": "won-k-1"})
    second = await _outcome(api, "k", {"outcome": "won", "amount": 5}, {"Idempotency-Key": "won-k-1"})
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert await first.json() == await second.json()


async def test_won_stops_the_slas_and_finishes_the_lead(api: Any, runtime: Runtime, db: Database) -> None:
    await _lead(api, "t")
    await _accept(runtime, "t")
    async with db.read() as session:
        pending = await session.scalar(
            select(func.count()).select_from(Timer).where(Timer.status == TimerStatus.PENDING)
        )
    assert pending  # the first-touch chain is running
    assert (await _outcome(api, "t", {"outcome": "won"})).status == 200
    async with db.read() as session:
        lead = (await session.scalars(select(Lead).where(Lead.external_id == "t"))).one()
        pending = await session.scalar(
            select(func.count()).select_from(Timer).where(Timer.status == TimerStatus.PENDING)
        )
    assert lead.stage == "won" and lead.finished_at is not None and pending == 0


async def test_outcomes_that_do_not_fit_the_stage_are_refused_and_nothing_is_written(
    api: Any, runtime: Runtime, db: Database
) -> None:
    await _lead(api, "open")  # offered, not accepted
    response = await _outcome(api, "open", {"outcome": "won"})
    assert response.status == 409 and "stage MQL" in (await response.json())["error"]
    await _accept(runtime, "open")
    assert (await _outcome(api, "open", {"outcome": "lost"})).status == 200
    response = await _outcome(api, "open", {"outcome": "won"})
    assert response.status == 409 and "final" in (await response.json())["error"]
    assert (await _outcome(api, "nobody", {"outcome": "won"})).status == 404
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Outcome)) == 1


async def test_bad_bodies_name_the_field(api: Any, runtime: Runtime, db: Database) -> None:
    await _lead(api, "x")
    await _accept(runtime, "x")
    cases: list[tuple[Any, str]] = [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "won", "amount": -1}, "amount"),
        ({"outcome": "won", "amount": "1e400"}, "amount"),
        ({"outcome": "won", "amount": "NaN"}, "amount"),
        ({"outcome": "won", "amount": "1.23456"}, "amount"),
        ({"outcome": "won", "currency": "euro"}, "currency"),
        ({"outcome": "won", "reason": ""}, "reason"),
        ({"outcome": "won", "occurred_at": "2026-11-23T10:00:00"}, "occurred_at"),
        ({"outcome": "won", "occurred_at": (START + timedelta(hours=1)).isoformat()}, "occurred_at"),
        ({"outcome": "won", "points": 3}, "points"),
        ({}, "outcome"),
        ([{"outcome": "won"}], "(top level)"),
    ]
    for body, field in cases:
        response = await _outcome(api, "x", body)
        assert response.status == 422, (body, await response.text())
        assert field in fields(await response.json()), (body, await response.json())
    status, _body = await post_raw(api, "/api/leads/x/outcome", '{"outcome": "won"}', JSON)
    assert status == 401  # no credentials
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Outcome)) == 0
        lead = (await session.scalars(select(Lead).where(Lead.external_id == "x"))).one()
    assert lead.stage == "sal"


async def test_forgetting_a_lead_scrubs_the_reason_the_crm_gave(api: Any, runtime: Runtime, db: Database) -> None:
    await _lead(api, "gone", email="pat.gone@prospect.example", last_name="Gonzales")
    await _accept(runtime, "gone")
    reason = {"outcome": "lost", "reason": "Pat Gonzales (pat.gone@prospect.example) chose a competitor"}
    assert (await _outcome(api, "gone", reason)).status == 200
    assert (await forget(runtime.services, "pat.gone@prospect.example", actor="admin@example.com")).ok
    async with db.read() as session:
        row = (await session.scalars(select(Outcome))).one()
    assert row.reason is not None and "pat.gone@" not in row.reason and "Gonzales" not in row.reason


async def test_stats_in_chat_shows_the_funnel_and_who_sees_the_rule_table(api: Any, runtime: Runtime) -> None:
    await _seed(api, runtime)
    admin = await answer(runtime.services, "stats this week", "revops@example.com")
    shown = {f.label: f.value for f in admin.fields}
    assert shown["Funnel"].startswith("MQL 4 → SAL 3 → SQL 1 → Opportunity 1 → Won 1")
    assert any(t.columns[0] == "Scoring rule" for t in admin.tables)
    rep = await answer(runtime.services, "stats this week", "alice@example.com")
    assert "Funnel" in {f.label for f in rep.fields}
    assert not any(t.columns[0] == "Scoring rule" for t in rep.tables)  # a rep sees no per-rule table
