"""Delivery against Slack's real limits, an outage, and speed to lead, each beside its floor.

    .venv/bin/python bench/delivery.py [--database-url URL] [--scale 10] [--cards 60]
                                       [--singles 100] [--burst 500] [--reps 20] [--outage 10]

Baton (``Runtime`` with the Slack component, its delivery worker running as in ``baton serve``,
SQLite by default) talks to the local fake Slack (``tests/fakes/slack_api.py``) on 127.0.0.1,
which enforces chat.postMessage's per-channel limit with a burst of 3 and answers 429 with
Retry-After over it. Every part is bounded in time.

1. **One channel.** ``--cards`` cards into one channel. Time is scaled by ``--scale``: the fake
   allows ``scale`` messages a second per channel (Slack: 1) with fractional Retry-After, and
   Baton's channel pacing is set to match. The floor is what the limit allows:
   ``(cards - burst) / rate`` (57 s at 1/s for 60 cards, 5.7 s at 10/s).
2. **Speed to lead**, from the start of ``POST /api/leads`` to the card's arrival at the fake:
   single-lead requests at 5 a second, then ``--burst`` leads in requests of 100 to ``--reps``
   reps' DMs. Run twice: with Baton's default pacing against the fake enforcing Slack's real
   1/s per channel (a DM is a channel: 25 cards for one rep take at least 22 s), and with pacing
   and the fake's limits lifted (Baton's own pipeline).
3. **Outage.** The fake answers every call with 500 and an HTML page for ``--outage`` seconds,
   then recovers: nothing may be parked, every card must land exactly once.

Each card names its outbox row in message metadata; "exactly once" is counted from what the
fake stored, not from what Baton believes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.runtime import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.slack.component import SlackComponent  # noqa: E402
from handlers.messaging import outbox  # noqa: E402
from handlers.messaging.pacing import parse_limits  # noqa: E402
from handlers.views.actions import ButtonData  # noqa: E402
from handlers.views.notice import Notice  # noqa: E402
from scoring.agreement import ChannelRef  # noqa: E402
from scoring.agreement_check import load_agreement  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import OutboxMessage  # noqa: E402
from tests.factories import EXAMPLE_CONFIG, agreement_data, lead_payload  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
INTAKE = "bench-intake-token"
BURST = 3
CHANNEL = "C0BENCH001"


def pacing(scale: float | None) -> dict[str, Any]:
    """Baton's Slack pacing with time scaled by ``scale`` (1: the defaults, Slack's real limits;
    None: pacing off, to measure Baton's own pipeline)."""
    if scale is None:
        return {"pace_slack_channel": "off", "pace_slack_workspace": "off", "pace_slack_update": "off"}
    defaults = Settings.model_fields
    out: dict[str, Any] = {}
    for name in ("pace_slack_channel", "pace_slack_workspace", "pace_slack_update"):
        limits = parse_limits(str(defaults[name].default))
        out[name] = ", ".join(f"{limit.count}/{limit.period / scale:g}s burst {limit.burst}" for limit in limits)
    return out


def floor_of(setting: str, n: int) -> float:
    """Seconds the tightest of ``setting``'s limits needs for ``n`` calls starting with a full burst."""
    return max(((n - limit.burst) * limit.interval for limit in parse_limits(setting)), default=0.0)


def agreement(reps: int) -> Any:
    """The example agreement, with one direct team of ``reps`` reps (no working hours, room for all)."""
    data = agreement_data()
    team = data["teams"][0]
    team["reps"] = [
        {
            "name": f"Rep {i}",
            "email": f"rep{i}@example.com",
            "slack_id": f"U0REP{i:05d}",
            "timezone": "UTC",
            "capacity": 100_000,
            "manager": team["managers"][0]["email"],
        }
        for i in range(reps)
    ]
    data["teams"] = [team]
    data["routing"] = {"default_team": team["name"]}
    return load_agreement(data)


async def reset(url: str) -> None:
    database = Database(url)
    if database.is_postgres:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    else:
        path = Path(database.engine.url.database or "")
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
    await upgrade(database.engine)
    await database.dispose()


@dataclasses.dataclass
class Stand:
    runtime: Runtime
    fake: FakeSlack
    runner: web.AppRunner | None = None
    port: int = 0

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        await self.runtime.stop()
        await self.fake.stop()


async def stand(url: str, *, reps: int = 2, serve: bool = False, **settings: Any) -> Stand:
    await reset(url)
    fake = await FakeSlack().start()
    config = Settings(
        config_path=EXAMPLE_CONFIG,
        database_url=url,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        intake_token=INTAKE,
        shutdown_grace=5,
        **settings,
    )
    runtime = Runtime(settings=config, agreement=agreement(reps))
    await runtime.prepare()
    runtime.add(SlackComponent(config, runtime.services))
    out = Stand(runtime, fake)
    if serve:
        out.runner = web.AppRunner(runtime.web_app(), access_log=None)
        await out.runner.setup()
        await web.TCPSite(out.runner, "127.0.0.1", 0).start()
        out.port = out.runner.addresses[0][1]
    await runtime.start()
    return out


async def enqueue(runtime: Runtime, channels: list[str], n: int) -> None:
    async with runtime.db.transaction() as session:
        for i in range(n):
            await outbox.post(
                session,
                runtime.services,
                Notice(title=f"Card {i}", lines=["bench"]),
                to_channel=ChannelRef(slack=channels[i % len(channels)]),
            )
    runtime.worker.wake()


async def settled(runtime: Runtime, within: float) -> bool:
    """Wait until no outbox row is pending (True) or ``within`` seconds pass (False)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with runtime.db.transaction() as session:
            pending = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
        if not pending:
            return True
        await asyncio.sleep(0.05)
    return False


async def outcome(runtime: Runtime, fake: FakeSlack) -> dict[str, Any]:
    async with runtime.db.transaction() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.id, OutboxMessage.status).where(OutboxMessage.platform == "slack")
            )
        ).all()
    landed = Counter(m["metadata"]["event_payload"]["outbox_id"] for m in fake.posted() if m.get("metadata"))
    posts = fake.calls_to("chat.postMessage")
    return {
        "rows": len(rows),
        "failed": sum(status == "failed" for _, status in rows),
        "pending": sum(status == "pending" for _, status in rows),
        "landed": sum(1 for i, _ in rows if landed.get(i)),
        "twice": sum(1 for c in landed.values() if c > 1),
        "calls": len(posts),
        "429": sum(c.status == 429 for c in posts),
    }


async def one_channel(url: str, scale: float, cards: int) -> dict[str, Any]:
    rate = scale
    bench = await stand(url, **pacing(scale))
    bench.fake.limit_channels(rate=rate, burst=BURST, whole_seconds=False)
    floor = max(cards - BURST, 0) / rate
    start = time.time()
    await enqueue(bench.runtime, [CHANNEL], cards)
    done = await settled(bench.runtime, floor * 4 + 30)
    last = max((c.at for c in bench.fake.calls_to("chat.postMessage", ok=True)), default=start)
    result = await outcome(bench.runtime, bench.fake)
    await bench.close()
    return {**result, "done": done, "seconds": last - start, "floor": floor, "rate": rate}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


async def speed_to_lead(url: str, reps: int, singles: int, burst: int, limited: bool) -> dict[str, Any]:
    settings = pacing(1) if limited else pacing(None)
    bench = await stand(url, reps=reps, serve=True, **settings)
    if limited:
        bench.fake.limit_channels(rate=1, burst=BURST)
    sent_at: dict[int, float] = {}
    headers = {"Authorization": f"Bearer {INTAKE}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(f"http://127.0.0.1:{bench.port}") as client:

        async def send(leads: list[dict[str, Any]]) -> None:
            start = time.time()
            async with client.post(
                "/api/leads", json=leads if len(leads) > 1 else leads[0], headers=headers
            ) as response:
                assert response.status == 202, await response.text()
                body = await response.json()
            for item in body["results"]:
                if item.get("lead_id") is not None:
                    sent_at[int(item["lead_id"])] = start

        singles_ids: set[int] = set()
        tasks = []
        for i in range(singles):  # 5 a second, each request on its own
            tasks.append(asyncio.create_task(send([lead_payload(external_id=f"s{i}", email=f"s{i}@s{i}.example")])))
            await asyncio.sleep(0.2)
        await asyncio.gather(*tasks)
        await settled(bench.runtime, 60)
        singles_ids = set(sent_at)
        batches = [
            [lead_payload(external_id=f"b{i}", email=f"b{i}@b{i % 97}.example") for i in range(j, j + 100)]
            for j in range(0, burst, 100)
        ]
        await asyncio.gather(*(send(batch) for batch in batches))
    # What the limits allow for the burst: 25 cards into each rep's DM, 500 chat writes in the workspace.
    floor = (
        max(
            floor_of(settings["pace_slack_channel"], -(-burst // reps)),
            floor_of(settings["pace_slack_workspace"], burst),
        )
        if limited
        else 0.0
    )
    done = await settled(bench.runtime, max(floor, 0) * 3 + 60)
    arrived: dict[int, float] = {}
    for call in bench.fake.calls_to("chat.postMessage", ok=True):
        for block in call.body.get("blocks") or []:
            for element in block.get("elements") or []:
                if str(element.get("action_id", "")).startswith("baton:") and element.get("value"):
                    try:
                        lead = ButtonData.unpack(element["value"]).lead_id
                    except ValueError:
                        continue
                    arrived.setdefault(lead, call.at)
    result = await outcome(bench.runtime, bench.fake)
    await bench.close()
    single = [arrived[i] - sent_at[i] for i in singles_ids if i in arrived]
    bursts = [arrived[i] - sent_at[i] for i in sent_at if i not in singles_ids and i in arrived]
    return {
        **result,
        "done": done,
        "single_p50": pct(single, 50),
        "single_p99": pct(single, 99),
        "single_n": len(single),
        "burst_p50": pct(bursts, 50),
        "burst_p99": pct(bursts, 99),
        "burst_n": len(bursts),
        "floor": max(floor, 0.0),
        "leads": len(sent_at),
    }


async def outage(url: str, scale: float, cards: int, seconds: float) -> dict[str, Any]:
    bench = await stand(url, **pacing(scale))
    bench.fake.limit_channels(rate=scale, burst=BURST, whole_seconds=False)
    bench.fake.outage(status=500, html=True)
    start = time.time()
    await enqueue(bench.runtime, [f"C0OUTAGE{i}" for i in range(6)], cards)
    await asyncio.sleep(seconds)
    bench.fake.recover()
    recovered = time.time()
    done = await settled(bench.runtime, 600)
    last = max((c.at for c in bench.fake.calls_to("chat.postMessage", ok=True)), default=recovered)
    result = await outcome(bench.runtime, bench.fake)
    failed_calls = sum(c.error == "html" for c in bench.fake.calls)
    await bench.close()
    return {
        **result,
        "done": done,
        "after_recovery": last - recovered,
        "html_500s": failed_calls,
        "outage": recovered - start,
    }


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--scale", type=float, default=10.0, help="time scale for parts 1 and 3 (10: 10 msg/s)")
    parser.add_argument("--cards", type=int, default=60)
    parser.add_argument("--singles", type=int, default=100)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--outage", type=float, default=10.0)
    parser.add_argument("--parts", default="1,2,3", help="comma-separated: 1, 2 (or 2b: lifted only), 3")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{os.path.join(tempfile.mkdtemp(), 'bench.db')}"
    kind = "PostgreSQL" if "postgres" in url else "SQLite"
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {kind}, load {os.getloadavg()[0]:.2f}")
    parts = set(args.parts.split(","))
    if "1" in parts:
        r = await one_channel(url, args.scale, args.cards)
        print(
            f"1. {args.cards} cards into one channel, limit {r['rate']:g}/s burst {BURST} (Slack's 1/s scaled x"
            f"{args.scale:g}): {r['landed']}/{r['rows']} landed, {r['twice']} twice, {r['failed']} failed, "
            f"{r['seconds']:.2f} s (floor {r['floor']:.2f} s, ratio {r['seconds'] / max(r['floor'], 1e-9):.2f}); "
            f"{r['429']}/{r['calls']} calls answered 429 ({100 * r['429'] / max(r['calls'], 1):.1f}%)"
        )
    if "2" in parts or "2b" in parts:
        # "2b" alone: only the run with pacing and limits lifted (Baton's own pipeline).
        for limited in (True, False) if "2" in parts else (False,):
            r = await speed_to_lead(url, args.reps, args.singles, args.burst, limited)
            label = "default pacing, fake at 1/s per channel" if limited else "pacing and limits lifted"
            print(
                f"2. speed to lead ({label}): {r['landed']}/{r['rows']} landed, {r['twice']} twice, "
                f"{r['failed']} failed; singles at 5/s: p50 {r['single_p50'] * 1000:.0f} ms, p99 "
                f"{r['single_p99'] * 1000:.0f} ms (n={r['single_n']}); burst of {args.burst} to {args.reps} reps: "
                f"p50 {r['burst_p50']:.2f} s, p99 {r['burst_p99']:.2f} s (n={r['burst_n']}, floor "
                f"{r['floor']:.1f} s); {r['429']}/{r['calls']} calls 429"
            )
    if "3" in parts:
        r = await outage(url, args.scale, args.cards, args.outage)
        print(
            f"3. outage: every call 500 with HTML for {r['outage']:.1f} s ({r['html_500s']} answered so), then "
            f"recovery: {r['landed']}/{r['rows']} landed, {r['twice']} twice, {r['failed']} parked, "
            f"{r['pending']} pending; last card {r['after_recovery']:.1f} s after recovery"
        )


if __name__ == "__main__":
    asyncio.run(main())
