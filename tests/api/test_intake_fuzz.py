"""Property-based intake: whatever arrives, the answer is never a 5xx, nothing is logged as a
traceback, and a refused request writes nothing."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.db import Database
from tests.api.intake_helpers import JSON, counts
from tests.conftest import auth
from tests.factories import lead_payload

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADERS = {**auth(), **JSON}
PATHS = st.sampled_from(["/api/leads", "/api/leads/fuzz-1/activities"])

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
hostile_text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "\n", "\x1b", "\u2028"]), max_size=30
)
# Times at the edges of what datetime can hold, in zones that push them over the edge.
times = st.builds(
    lambda d, zone: d.isoformat() + zone,
    st.datetimes(),
    st.sampled_from(["Z", "+23:59", "-23:59", "+01:00", "", "+24:00"]),
)
# Lead-shaped bodies get past the shape checks and reach the field rules and the database.
field_values = hostile_text | scalars | st.lists(scalars, max_size=3)
leads = st.fixed_dictionaries(
    {"external_id": hostile_text | st.just("fuzz-1"), "email": st.emails() | hostile_text},
    optional={
        name: field_values
        for name in ("first_name", "company", "employees", "revenue", "country", "source", "campaign")
    }
    | {
        "custom": st.dictionaries(hostile_text, field_values, max_size=4),
        "activities": st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["blog_visit", "webinar_attended"]) | hostile_text},
                optional={
                    "occurred_at": hostile_text | times,
                    "id": field_values,
                },
            ),
            max_size=3,
        ),
    },
)
activities = st.lists(
    st.fixed_dictionaries(
        {"type": hostile_text | st.just("blog_visit")},
        optional={"occurred_at": hostile_text | times | st.integers(), "id": field_values},
    ),
    max_size=3,
)


@pytest.fixture
async def known_lead(api: Any) -> None:
    response = await api.post("/api/leads", json=lead_payload(external_id="fuzz-1"), headers=auth())
    assert response.status == 202


async def check(
    api: Any, db: Database, caplog: pytest.LogCaptureFixture, path: str, body: bytes, headers: dict[str, str] = HEADERS
) -> None:
    caplog.clear()
    before = await counts(db)
    response = await api.post(path, data=body, headers=headers)
    text = await response.text()
    assert response.status < 500, text
    assert json.loads(text)  # always a JSON answer
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    if response.status >= 400:
        assert await counts(db) == before, text


@FUZZ
@given(value=json_values, path=PATHS)
async def test_any_json_value_is_answered_without_a_5xx(
    api: Any, db: Database, known_lead: None, caplog: pytest.LogCaptureFixture, value: Any, path: str
) -> None:
    await check(api, db, caplog, path, json.dumps(value).encode())


@FUZZ
@given(batch=st.lists(leads, min_size=1, max_size=3))
async def test_any_lead_shaped_body_is_answered_without_a_5xx(
    api: Any, db: Database, known_lead: None, caplog: pytest.LogCaptureFixture, batch: list[dict[str, Any]]
) -> None:
    await check(api, db, caplog, "/api/leads", json.dumps(batch).encode())


@FUZZ
@given(items=activities, wrapped=st.booleans())
async def test_any_activities_body_is_answered_without_a_5xx(
    api: Any,
    db: Database,
    known_lead: None,
    caplog: pytest.LogCaptureFixture,
    items: list[dict[str, Any]],
    wrapped: bool,
) -> None:
    body = {"activities": items} if wrapped else items
    await check(api, db, caplog, "/api/leads/fuzz-1/activities", json.dumps(body).encode())


@FUZZ
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode), path=PATHS)
async def test_any_bytes_are_answered_without_a_5xx(
    api: Any, db: Database, known_lead: None, caplog: pytest.LogCaptureFixture, body: bytes, path: str
) -> None:
    await check(api, db, caplog, path, body)


@FUZZ
@given(
    form=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=5),
    path=PATHS,
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain",
            "application/json; charset=utf-16",
            "",
        ]
    ),
)
async def test_any_form_body_is_answered_without_a_5xx(
    api: Any,
    db: Database,
    known_lead: None,
    caplog: pytest.LogCaptureFixture,
    form: dict[str, str],
    path: str,
    content_type: str,
) -> None:
    from urllib.parse import urlencode

    headers = {**auth(), "Content-Type": content_type} if content_type else auth()
    await check(api, db, caplog, path, urlencode(form).encode(), headers)


async def test_the_probe_sees_a_500_and_its_traceback(
    api: Any, db: Database, known_lead: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers.intake import leads as intake

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(intake, "ingest", broken)
    with pytest.raises(AssertionError):
        await check(api, db, caplog, "/api/leads", json.dumps(lead_payload()).encode())
    assert [r for r in caplog.records if r.exc_info]
