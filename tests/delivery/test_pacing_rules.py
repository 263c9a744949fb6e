"""The pacing arithmetic (GCRA) and the way a rate is written in the settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.runtime import Runtime
from bot.settings import ConfigError, load_settings
from handlers.messaging.pacing import Limit, PacingError, allowed_at, parse_duration, parse_limits, reserve, scope_kind
from scoring.agreement import Agreement
from tests.conftest import make_settings


def test_a_rate_with_a_burst_is_read() -> None:
    assert parse_limits("1/s burst 3") == (Limit(1, 1.0, 3),)


def test_without_a_burst_calls_are_evenly_spaced() -> None:
    assert parse_limits("60/30s") == (Limit(60, 30.0, 1),)


def test_several_windows_are_read_in_order() -> None:
    assert [str(limit) for limit in parse_limits("7/1s, 8/2s, 60/30s burst 4, 1800/1h")] == [
        "7/1s",
        "8/2s",
        "60/30s burst 4",
        "1800/3600s",
    ]


def test_off_means_unpaced() -> None:
    assert parse_limits("off") == ()


@pytest.mark.parametrize("text", ["fast", "1/q", "0/s", "1/0s", "1/s burst 0", "1/s,"])
def test_a_rate_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(PacingError):
        parse_limits(text)


def test_gcra_lets_the_burst_through_then_one_per_interval() -> None:
    limits = parse_limits("1/s burst 3")
    tats: list[float] = []
    times = []
    now = 100.0
    while len(times) < 5:
        if allowed_at(limits, tats) <= now:
            tats = reserve(limits, tats, now)
            times.append(now)
        else:
            now = allowed_at(limits, tats)
    assert times == [100.0, 100.0, 100.0, 101.0, 102.0]


def test_a_call_must_fit_every_limit() -> None:
    limits = parse_limits("10/1s burst 5, 1/s burst 3")
    tats: list[float] = []
    for _ in range(3):
        tats = reserve(limits, tats, 0.0)
    assert allowed_at(limits, tats) == 1.0  # the first limit would take two more; the second says no


def test_no_window_sees_more_than_its_count_without_a_burst() -> None:
    limits = parse_limits("7/1s, 8/2s, 60/30s")
    tats: list[float] = []
    times: list[float] = []
    now = 0.0
    while now < 60:
        now = max(now, allowed_at(limits, tats))
        tats = reserve(limits, tats, now)
        times.append(now)
    for start in times:
        for period, count in ((1, 7), (2, 8), (30, 60)):
            assert sum(start <= t < start + period for t in times) <= count


def test_the_kind_is_the_middle_of_a_scope() -> None:
    assert scope_kind("slack:channel:C1") == ("slack", "channel")
    assert scope_kind("teams:tenant") == ("teams", "tenant")
    assert scope_kind("slack") == ("slack", "")


def test_durations_read_seconds_and_units() -> None:
    assert [parse_duration(v) for v in ("120", "90s", "15m", "4h", "3d", 7)] == [120, 90, 900, 14400, 259200, 7]


def test_a_bad_pacing_setting_names_the_environment_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"BATON_PACE_SLACK_CHANNEL": "lots"})
    assert caught.value.problems == [
        "BATON_PACE_SLACK_CHANNEL: 'lots' is not a rate; write it like 1/s, 60/30s, 1/s burst 3 or several "
        "separated by commas (7/1s, 60/30s), or off"
    ]


def test_a_bad_maximum_age_names_the_environment_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"BATON_OUTBOX_MAX_AGE": "forever"})
    assert caught.value.problems[0].startswith("BATON_OUTBOX_MAX_AGE: 'forever' is not a duration")


def test_the_settings_pace_slack_and_teams_by_default() -> None:
    pacing = load_settings(environ={}).pacing()
    assert pacing.for_scope("slack:channel:C1") == (Limit(1, 1.0, 3),)
    assert len(pacing.for_scope("teams:conversation:19:abc")) == 4
    assert pacing.for_scope("slack:unknown:x") == ()


async def test_the_runtime_builds_its_worker_from_the_settings(database_url: str, agreement: Agreement) -> None:
    settings = make_settings(
        database_url,
        outbox_lease=5,
        outbox_max_age="12h",
        outbox_max_backoff=30,
        pace_slack_channel="2/s",
        outbox_concurrency=3,
    )
    runtime = Runtime(settings=settings, agreement=agreement)
    try:
        worker = runtime.worker
        assert worker.lease == timedelta(seconds=5) and worker.policy.max_age == timedelta(hours=12)
        assert worker.policy.max_backoff == 30 and worker.concurrency == 3
        assert worker.pacing.for_scope("slack:channel:C1") == (Limit(2, 1.0, 1),)
    finally:
        await runtime.db.dispose()
