"""Hostile intake bodies: each gets a 4xx naming the problem by its path, and nothing is written."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from store.db import Database
from store.models import Activity, Lead
from tests.api.intake_helpers import JSON, assert_nothing_written, count, fields, post_raw
from tests.conftest import START, auth
from tests.factories import lead_payload

HEADERS = {**auth(), **JSON}


async def post_leads(api: Any, body: str | bytes) -> tuple[int, dict[str, Any]]:
    return await post_raw(api, "/api/leads", body, HEADERS)


async def stored_lead(api: Any, **fields_: Any) -> dict[str, Any]:
    payload = lead_payload(**fields_)
    response = await api.post("/api/leads", json=payload, headers=auth())
    assert response.status == 202
    return payload


# --- the JSON itself -----------------------------------------------------------------------------


async def test_json_nested_very_deep_is_400_not_a_recursion_error(api: Any, db: Database) -> None:
    status, answer = await post_leads(api, "[" * 100_000 + "]" * 100_000)
    assert status == 400 and "deep" in answer["error"]
    await assert_nothing_written(db)


async def test_nesting_inside_a_lead_beyond_the_limit_is_refused(api: Any, db: Database) -> None:
    lead = json.dumps(lead_payload(custom={"x": 1}))
    status, answer = await post_leads(api, lead.replace('{"x": 1}', '{"x": ' + "[" * 20 + "]" * 20 + "}"))
    assert status == 400 and "deep" in answer["error"]
    await assert_nothing_written(db)


async def test_brackets_inside_strings_do_not_count_as_nesting(api: Any, db: Database) -> None:
    status, _ = await post_leads(api, json.dumps(lead_payload(company="[" * 50 + "{" * 50)))
    assert status == 202 and await count(db, Lead) == 1


async def test_an_integer_of_thousands_of_digits_is_named_not_a_500(api: Any, db: Database) -> None:
    body = json.dumps(lead_payload()).replace('"employees": 800', '"employees": ' + "9" * 5000)
    status, answer = await post_leads(api, body)
    assert status == 422 and "5,000 digits" in fields(answer)["leads[0].employees"]
    await assert_nothing_written(db)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_nan_and_infinity_are_refused_by_path(api: Any, db: Database, literal: str) -> None:
    body = json.dumps([lead_payload(), lead_payload()]).replace('"employees": 800', '"employees": ' + literal, 2)
    status, answer = await post_leads(api, body)
    assert status == 422 and {"leads[0].employees", "leads[1].employees"} <= set(fields(answer))
    await assert_nothing_written(db)


async def test_a_duplicate_key_is_refused_not_last_one_wins(api: Any, db: Database) -> None:
    body = json.dumps(lead_payload(email="first@acme.example"))
    body = body[:-1] + ', "email": "second@acme.example"}'
    status, answer = await post_leads(api, body)
    assert status == 422 and fields(answer)["leads[0].email"] == "key given more than once"
    await assert_nothing_written(db)


async def test_a_nul_escape_anywhere_is_refused_by_path(api: Any, db: Database) -> None:
    body = json.dumps(lead_payload(custom={"note": "a\x00b"}))
    status, answer = await post_leads(api, body)
    assert status == 422 and "U+0000" in fields(answer)["leads[0].custom.note"]
    await assert_nothing_written(db)


async def test_a_lone_surrogate_is_refused_by_path(api: Any, db: Database) -> None:
    body = json.dumps(lead_payload()).replace('"Pat"', '"P\\ud800t"')
    status, answer = await post_leads(api, body)
    assert status == 422 and "U+D800" in fields(answer)["leads[0].first_name"]
    await assert_nothing_written(db)


async def test_a_body_that_is_not_utf8_is_400(api: Any, db: Database) -> None:
    latin1 = json.dumps(lead_payload(company="Caf\u00e9"), ensure_ascii=False).encode("latin-1")
    status, answer = await post_leads(api, latin1)
    assert status == 400 and "UTF-8" in answer["error"]
    await assert_nothing_written(db)


# --- the Content-Type ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"]
)
async def test_a_body_not_declared_as_utf8_json_is_415(api: Any, db: Database, content_type: str) -> None:
    status, answer = await post_raw(
        api, "/api/leads", json.dumps(lead_payload()), {**auth(), "Content-Type": content_type}
    )
    assert status == 415 and ("application/json" in answer["error"] or "UTF-8" in answer["error"])
    await assert_nothing_written(db)


async def test_json_with_a_utf8_charset_is_accepted(api: Any) -> None:
    status, _ = await post_raw(
        api, "/api/leads", json.dumps(lead_payload()), {**auth(), "Content-Type": "application/json; charset=UTF-8"}
    )
    assert status == 202


async def test_activities_need_json_too(api: Any, db: Database) -> None:
    await stored_lead(api, external_id="ct-1")
    status, _ = await post_raw(
        api, "/api/leads/ct-1/activities", '[{"type": "blog_visit"}]', {**auth(), "Content-Type": "text/plain"}
    )
    assert status == 415 and await count(db, Activity) == 0


# --- the lead's fields -------------------------------------------------------------------------------


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x07", "\n", "\r", "\u2028", "\x85"])
async def test_control_characters_inside_an_id_are_refused(api: Any, db: Database, character: str) -> None:
    response = await api.post("/api/leads", json=lead_payload(external_id=f"crm{character}1"), headers=auth())
    assert response.status == 422 and "control character" in fields(await response.json())["leads[0].external_id"]
    await assert_nothing_written(db)


@pytest.mark.parametrize("field", ["first_name", "last_name", "company", "title", "source", "campaign"])
async def test_control_characters_inside_names_are_refused(api: Any, db: Database, field: str) -> None:
    response = await api.post("/api/leads", json=lead_payload(**{field: "Pat\x1b[31m\nRed"}), headers=auth())
    assert response.status == 422 and f"leads[0].{field}" in fields(await response.json())
    await assert_nothing_written(db)


async def test_line_breaks_are_allowed_in_custom_free_text(api: Any) -> None:
    response = await api.post(
        "/api/leads", json=lead_payload(custom={"notes": "line one\nline two\ttab"}), headers=auth()
    )
    assert response.status == 202


async def test_a_nul_in_one_lead_of_a_batch_stores_none_of_them(api: Any, db: Database) -> None:
    batch = [lead_payload(), lead_payload(company="Acme\x00Corp"), lead_payload()]
    response = await api.post("/api/leads", json=batch, headers=auth())
    assert response.status == 422 and "leads[1].company" in fields(await response.json())
    await assert_nothing_written(db)


@pytest.mark.parametrize("value", [10**30, 10**8 + 1, -1, True, False, 12.5])
async def test_employees_must_be_a_plausible_whole_number(api: Any, db: Database, value: Any) -> None:
    response = await api.post("/api/leads", json=lead_payload(employees=value), headers=auth())
    assert response.status == 422 and "leads[0].employees" in fields(await response.json())
    await assert_nothing_written(db)


@pytest.mark.parametrize("value", [1e16, True, -5])
async def test_revenue_must_be_a_plausible_amount(api: Any, db: Database, value: Any) -> None:
    response = await api.post("/api/leads", json=lead_payload(revenue=value), headers=auth())
    assert response.status == 422 and "leads[0].revenue" in fields(await response.json())
    await assert_nothing_written(db)


async def test_a_huge_custom_value_is_refused(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", json=lead_payload(custom={"essay": "x" * 100_000}), headers=auth())
    assert response.status == 422 and "2000" in fields(await response.json())["leads[0].custom.essay"]
    await assert_nothing_written(db)


async def test_custom_with_too_many_keys_is_refused(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", json=lead_payload(custom={f"k{i}": i for i in range(51)}), headers=auth())
    assert response.status == 422 and "leads[0].custom" in fields(await response.json())
    await assert_nothing_written(db)


async def test_a_long_custom_key_is_refused(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", json=lead_payload(custom={"k" * 65: 1}), headers=auth())
    assert response.status == 422 and any(f.startswith("leads[0].custom") for f in fields(await response.json()))
    await assert_nothing_written(db)


@pytest.mark.parametrize("value", [{"nested": 1}, [1, 2], 2**60])
async def test_custom_values_are_flat_and_bounded(api: Any, db: Database, value: Any) -> None:
    response = await api.post("/api/leads", json=lead_payload(custom={"deep": value}), headers=auth())
    assert response.status == 422 and "leads[0].custom.deep" in fields(await response.json())
    await assert_nothing_written(db)


# --- activities ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["2099-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
async def test_an_activity_dated_in_the_future_is_refused_in_a_lead(api: Any, db: Database, when: str) -> None:
    lead = lead_payload(activities=[{"type": "webinar_attended", "occurred_at": when}])
    response = await api.post("/api/leads", json=lead, headers=auth())
    assert response.status == 422 and "future" in fields(await response.json())["leads[0].activities[0].occurred_at"]
    await assert_nothing_written(db)


async def test_an_activity_dated_in_the_future_is_refused_on_its_own(api: Any, db: Database) -> None:
    await stored_lead(api, external_id="fut-1")
    response = await api.post(
        "/api/leads/fut-1/activities",
        headers=auth(),
        json=[{"type": "blog_visit", "occurred_at": "2099-01-01T00:00:00Z"}],
    )
    assert response.status == 422 and "activities[0].occurred_at" in fields(await response.json())
    assert await count(db, Activity) == 0


async def test_an_activity_within_the_clock_skew_is_accepted(api: Any) -> None:
    soon = (START + timedelta(minutes=4)).isoformat()
    response = await api.post(
        "/api/leads", json=lead_payload(activities=[{"type": "blog_visit", "occurred_at": soon}]), headers=auth()
    )
    assert response.status == 202


async def test_an_activity_time_without_a_zone_is_refused(api: Any, db: Database) -> None:
    lead = lead_payload(activities=[{"type": "blog_visit", "occurred_at": "2026-11-20T10:00:00"}])
    response = await api.post("/api/leads", json=lead, headers=auth())
    assert response.status == 422 and "leads[0].activities[0].occurred_at" in fields(await response.json())
    await assert_nothing_written(db)


async def test_an_activity_at_year_one_with_an_offset_is_refused_not_an_overflow(api: Any, db: Database) -> None:
    lead = lead_payload(activities=[{"type": "blog_visit", "occurred_at": "0001-01-01T00:00:00+01:00"}])
    response = await api.post("/api/leads", json=lead, headers=auth())
    assert response.status == 422
    await assert_nothing_written(db)


@pytest.mark.parametrize(
    "body",
    [
        '{"activities": {"type": "blog_visit"}}',
        '{"type": "blog_visit"}',
        '{"activities": [{"type": "blog_visit"}], "extra": 1}',
        '"blog_visit"',
    ],
)
async def test_activities_come_as_a_list_or_an_activities_list_only(api: Any, db: Database, body: str) -> None:
    await stored_lead(api, external_id="shape-1")
    status, answer = await post_raw(api, "/api/leads/shape-1/activities", body, HEADERS)
    assert status == 422 and "list" in answer["error"]
    assert await count(db, Activity) == 0


async def test_control_characters_in_an_activity_type_are_refused(api: Any, db: Database) -> None:
    await stored_lead(api, external_id="type-1")
    response = await api.post("/api/leads/type-1/activities", json=[{"type": "blog\x00visit"}], headers=auth())
    assert response.status == 422 and "activities[0].type" in fields(await response.json())
    assert await count(db, Activity) == 0


@pytest.mark.parametrize("path", ["/api/leads/a%00b/activities", "/api/leads/a%1Bb/activities"])
async def test_a_control_character_in_the_path_id_is_422(api: Any, db: Database, path: str) -> None:
    status, answer = await post_raw(api, path, '[{"type": "blog_visit"}]', HEADERS)
    assert status == 422 and "external_id" in fields(answer)
    await assert_nothing_written(db)


async def test_reading_a_lead_by_an_id_with_a_nul_is_422(api: Any) -> None:
    response = await api.get("/api/leads/a%00b", headers=auth())
    assert response.status == 422


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:30:00+23:59"])
async def test_an_activity_time_beyond_what_a_datetime_holds_in_utc_is_422(api: Any, db: Database, when: str) -> None:
    lead = lead_payload(activities=[{"type": "blog_visit", "occurred_at": when}])
    response = await api.post("/api/leads", json=lead, headers=auth())
    assert response.status == 422 and "leads[0].activities[0].occurred_at" in fields(await response.json())
    await assert_nothing_written(db)
