"""Property-based outcome bodies: never a 5xx or a traceback, and a refused body writes nothing."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.runtime import Runtime
from store.db import Database
from store.models import AuditEvent, Lead, Outcome
from tests.api.intake_helpers import JSON, counts
from tests.api.test_intake_fuzz import FUZZ, hostile_text, json_values, scalars, times
from tests.api.test_outcomes import _accept, _lead
from tests.conftest import auth

HEADERS = {**auth(), **JSON}
amounts = (
    scalars
    | hostile_text
    | st.decimals(allow_nan=True, allow_infinity=True).map(str)
    | st.sampled_from(["1e400", "-0", "0.00001", "12,000", "1" * 30, "NaN", "Infinity"])
)
bodies = st.fixed_dictionaries(
    {"outcome": st.sampled_from(["opportunity", "won", "lost"]) | hostile_text | scalars},
    optional={
        "amount": amounts,
        "currency": hostile_text | st.sampled_from(["EUR", "usd", "EURO"]) | scalars,
        "reason": hostile_text | scalars,
        "occurred_at": hostile_text | times | st.integers(),
        "crm_id": hostile_text | scalars,
        "extra": scalars,
    },
)


@pytest.fixture
async def accepted(api: Any, runtime: Runtime) -> None:
    await _lead(api, "fuzz-1")
    await _accept(runtime, "fuzz-1")


async def _written(db: Database) -> tuple[Any, ...]:
    async with db.read() as session:
        outcomes = (await session.execute(select(Outcome.kind, Outcome.amount, Outcome.currency))).all()
        stage = await session.scalar(select(Lead.stage).where(Lead.external_id == "fuzz-1"))
        audit = await session.scalar(select(func.count()).select_from(AuditEvent))
    return tuple(outcomes), stage, audit, tuple(sorted((await counts(db)).items()))


async def _check(api: Any, db: Database, caplog: pytest.LogCaptureFixture, path: str, body: bytes) -> None:
    caplog.clear()
    before = await _written(db)
    response = await api.post(path, data=body, headers=HEADERS)
    text = await response.text()
    assert response.status < 500, text
    assert json.loads(text)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    if response.status >= 400:
        assert await _written(db) == before, text


@FUZZ
@given(body=bodies)
async def test_any_outcome_shaped_body_is_answered_without_a_5xx(
    api: Any, db: Database, accepted: None, caplog: pytest.LogCaptureFixture, body: dict[str, Any]
) -> None:
    await _check(api, db, caplog, "/api/leads/fuzz-1/outcome", json.dumps(body).encode())


@FUZZ
@given(value=json_values, external_id=hostile_text | st.just("fuzz-1"))
async def test_any_json_value_and_path_is_answered_without_a_5xx(
    api: Any, db: Database, accepted: None, caplog: pytest.LogCaptureFixture, value: Any, external_id: str
) -> None:
    path = f"/api/leads/{quote(external_id, safe='') or 'x'}/outcome"
    await _check(api, db, caplog, path, json.dumps(value).encode())
