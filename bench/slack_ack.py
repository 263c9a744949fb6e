"""Slack ack latency under 100 concurrent clicks, beside a bare bolt app; and 1,000 offers through 429s.

    .venv/bin/python bench/slack_ack.py [--clicks 100] [--rounds 5] [--offers 1000] [--database-url URL]

Part 1. Baton (``Runtime.web_app()`` with the Slack component, delivery worker running,
SQLite by default) and a bare slack-bolt ``AsyncApp`` whose only listener calls ``ack()``
are served in this process on 127.0.0.1 by aiohttp ``AppRunner``s, both through the same
``to_bolt_request``/``to_aiohttp_response`` mount and both talking to the local fake Slack.
Each round fires ``--clicks`` signed Claim clicks at once (each a rep of the emea team claiming
a lead pre-offered to its channel, so Baton does real work after its ack) at each app in turn, and times
every request from send to HTTP response. p50/p99 are over all rounds.

Part 2. ``--offers`` leads are offered (a card each) and delivered to the fake Slack,
which answers 10% of chat.postMessage calls with 429 and Retry-After 0 or 1. Every card
must land exactly once: successful postMessage calls are counted per button value.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.runtime import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.slack.component import SlackComponent  # noqa: E402
from handlers.intake.leads import LeadIn, ingest  # noqa: E402
from handlers.views.actions import ButtonData  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Handoff, OutboxMessage  # noqa: E402
from tests.factories import EXAMPLE_CONFIG, lead_payload, make_agreement  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
EMEA_REPS = ("U0CLARA001", "U0DAVID001")


async def reset(url: str) -> None:
    database = Database(url)
    if database.is_postgres:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    await upgrade(database.engine)
    await database.dispose()


async def baton(url: str, fake: FakeSlack) -> tuple[Runtime, SlackComponent]:
    await reset(url)
    settings = Settings(
        config_path=EXAMPLE_CONFIG,
        database_url=url,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        shutdown_grace=5,
    )
    runtime = Runtime(settings=settings, agreement=make_agreement())
    await runtime.prepare()
    component = SlackComponent(settings, runtime.services)
    runtime.add(component)
    return runtime, component


def bare_app(fake: FakeSlack) -> web.Application:
    bolt = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=fake.api_url))

    @bolt.action(re.compile("baton:.*"))
    async def only_ack(ack):  # type: ignore[no-untyped-def]
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"


async def offers(runtime: Runtime, n: int, prefix: str, countries: tuple[str, ...] = ("DE",)) -> list[tuple[str, str]]:
    """Offer ``n`` leads (by default to the emea team channel, where any of its reps may claim;
    direct reps have a capacity); (Slack user who will claim, packed button value) for each."""
    leads = [
        LeadIn.model_validate(
            lead_payload(
                external_id=f"{prefix}-{i}", email=f"{prefix}{i}@b{i}.example", country=countries[i % len(countries)]
            )
        )
        for i in range(n)
    ]
    for i in range(0, n, 100):
        await ingest(runtime.services, leads[i : i + 100])
    async with runtime.db.transaction() as session:
        rows = (await session.scalars(select(Handoff).order_by(Handoff.id))).all()
    return [(EMEA_REPS[i % 2], ButtonData(h.lead_id, h.id).pack()) for i, h in enumerate(rows)]


def click_body(user: str, value: str, n: int, fake: FakeSlack) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T0BATON"},
        "api_app_id": "A0BATON",
        "trigger_id": f"t{n}",
        "channel": {"id": "D0BENCH"},
        "response_url": fake.response_url(f"b{n}"),
        "container": {"type": "message", "channel_id": "D0BENCH", "message_ts": "1.1"},
        "actions": [{"action_id": "baton:claim", "block_id": "b", "type": "button", "value": value}],
    }
    return urlencode({"payload": json.dumps(payload)})


async def fire(url: str, bodies: list[str]) -> list[float]:
    """Send every body at once; seconds from send to HTTP response for each."""
    verifier = SignatureVerifier(SECRET)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(body: str) -> float:
            timestamp = str(int(time.time()))
            headers = {
                "X-Slack-Request-Timestamp": timestamp,
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body) or "",
            }
            start = time.perf_counter()
            async with session.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            return time.perf_counter() - start

        return list(await asyncio.gather(*(one(b) for b in bodies)))


def fire_from_another_process(url: str, bodies: list[str]) -> list[float]:
    # The client runs in its own process so that its timing is not delayed by the work
    # Baton does after acking (same event loop, same GIL): we measure the server's ack.
    return asyncio.run(fire(url, bodies))


async def quiet(runtime: Runtime, component: SlackComponent) -> None:
    """Wait until listeners are done and the delivery worker has sent what they enqueued."""
    await component.idle(30)
    for _ in range(600):
        async with runtime.db.transaction() as session:
            if await session.scalar(select(OutboxMessage.id).where(OutboxMessage.status == "pending").limit(1)) is None:
                return
        await asyncio.sleep(0.05)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


async def ack_latency(url: str, clicks: int, rounds: int, pool: ProcessPoolExecutor) -> dict[str, list[float]]:
    loop = asyncio.get_running_loop()
    fake = await FakeSlack().start()
    runtime, component = await baton(url, fake)
    targets = await offers(runtime, clicks * (rounds + 1), "ack")
    baton_runner, baton_url = await serve(runtime.web_app())
    bare_runner, bare_url = await serve(bare_app(fake))
    await runtime.start()  # delivery worker and scheduler run as in `baton serve`
    timings: dict[str, list[float]] = {"bare slack-bolt app (ack only)": [], "Baton": []}
    for round_no in range(rounds + 1):  # round 0 warms both up (auth.test, connections)
        batch = targets[round_no * clicks : (round_no + 1) * clicks]
        bodies = [click_body(user, value, i, fake) for i, (user, value) in enumerate(batch)]
        # Alternate who goes first, and start each from a quiet process (outbox drained).
        order = [bare_url, baton_url] if round_no % 2 else [baton_url, bare_url]
        measured: dict[str, list[float]] = {}
        for target in order:
            await quiet(runtime, component)
            measured[target] = await loop.run_in_executor(pool, fire_from_another_process, target, bodies)
        bare, ours = measured[bare_url], measured[baton_url]
        if round_no:
            timings["bare slack-bolt app (ack only)"] += bare
            timings["Baton"] += ours
    await quiet(runtime, component)
    accepted = sum("You accepted" in str(r.body.get("text")) for r in fake.responses)
    assert accepted == clicks * (rounds + 1), f"only {accepted} accepts succeeded"
    await baton_runner.cleanup()
    await bare_runner.cleanup()
    await runtime.stop()
    await fake.stop()
    return timings


async def delivery(url: str, n: int) -> dict[str, float]:
    fake = await FakeSlack(seed=11).start()
    runtime, _ = await baton(url, fake)
    await offers(runtime, n, "dl", countries=("US", "DE", "GB", "CA"))
    fake.chaos("chat.postMessage", rate=0.10, retry_after=(0, 1))
    start = time.perf_counter()
    while True:
        await runtime.worker.run_once()
        async with runtime.db.transaction() as session:
            pending = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.status == "pending").limit(1))
        if pending is None:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    posts = fake.calls_to("chat.postMessage")
    landed = Counter(
        e["value"]
        for c in posts
        if c.ok
        for b in c.body["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] in ("baton:accept", "baton:claim")
    )
    async with runtime.db.transaction() as session:
        failed = len((await session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed"))).all())
    await runtime.db.dispose()
    await fake.stop()
    return {
        "offers": n,
        "delivered": len(landed),
        "max_per_card": max(landed.values()),
        "throttled": sum(not c.ok for c in posts),
        "failed": failed,
        "seconds": elapsed,
    }


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: max instances" is expected here
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--clicks", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--offers", type=int, default=1000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.database_url or f"sqlite+aiosqlite:///{os.path.join(tmp, 'bench.db')}"
    kind = "PostgreSQL" if "postgres" in url else "SQLite"
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        timings = await ack_latency(url, args.clicks, args.rounds, pool)
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {kind}")
    print(f"{args.clicks} concurrent signed clicks x {args.rounds} rounds")
    print(f"{'app':34} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, values in timings.items():
        print(f"{name:34} {pct(values, 50):8.1f} {pct(values, 99):8.1f} {statistics.mean(values) * 1000:8.1f}")
    bare, ours = (pct(v, 99) for v in timings.values())
    print(f"Baton p99 / bare p99 = {ours / bare:.2f} (target <= 1.5)")
    result = await delivery(url.replace("bench.db", "delivery.db"), args.offers)
    print(
        f"delivery: {result['delivered']}/{result['offers']} cards landed, at most {result['max_per_card']} "
        f"per card, {result['throttled']} answered 429, {result['failed']} failed, {result['seconds']:.1f} s"
    )
    assert result["delivered"] == args.offers and result["max_per_card"] == 1 and result["failed"] == 0


if __name__ == "__main__":
    asyncio.run(main())
