"""Leads per second through POST /api/leads into the durable store, beside a bare executemany floor.

    .venv/bin/python bench/intake.py [--database-url URL] [--leads 5000] [--singles 500]

The server runs in this process on 127.0.0.1 (aiohttp AppRunner); the client is an aiohttp
ClientSession in the same event loop, so the figure includes HTTP parsing on both sides. The
floor inserts the same lead rows with one SQLAlchemy Core ``executemany`` per 100 rows,
no scoring, routing, audit or outbox: the cost of durability alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.runtime import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Lead  # noqa: E402
from tests.factories import EXAMPLE_CONFIG, lead_payload, make_agreement  # noqa: E402

TOKEN = "bench-token"


def leads(n: int, prefix: str) -> list[dict[str, object]]:
    return [lead_payload(external_id=f"{prefix}-{i}", email=f"{prefix}{i}@bench{i % 97}.example",
                         employees=100 + (i * 37) % 5000, title=["VP Sales", "Analyst", "Head of RevOps"][i % 3])
            for i in range(n)]


async def reset(url: str) -> None:
    database = Database(url)
    if database.is_postgres:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(database.engine)
    await database.dispose()


async def through_api(url: str, batch: int, total: int, prefix: str) -> float:
    await reset(url)
    settings = Settings(config_path=EXAMPLE_CONFIG, database_url=url, intake_token=TOKEN)
    runtime = Runtime(settings=settings, agreement=make_agreement())
    await runtime.prepare()
    runner = web.AppRunner(runtime.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    payload = leads(total, prefix)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
        start = time.perf_counter()
        for i in range(0, total, batch):
            chunk = payload[i:i + batch]
            async with client.post("/api/leads", json=chunk if batch > 1 else chunk[0], headers=headers) as resp:
                assert resp.status == 202, await resp.text()
        elapsed = time.perf_counter() - start
    await runner.cleanup()
    await runtime.db.dispose()
    return total / elapsed


async def floor(url: str, total: int, prefix: str) -> float:
    await reset(url)
    database = Database(url)
    now = datetime.now(UTC)
    rows = [{"external_id": p["external_id"], "email": p["email"], "data": p, "stage": "captured", "score": 0,
             "fast_track": False, "explanation": {}, "created_at": now, "updated_at": now}
            for p in leads(total, prefix)]
    start = time.perf_counter()
    for i in range(0, total, 100):
        async with database.transaction() as session:
            await session.execute(insert(Lead), rows[i:i + 100])
    elapsed = time.perf_counter() - start
    await database.dispose()
    return total / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--singles", type=int, default=500)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.database_url or f"sqlite+aiosqlite:///{os.path.join(tmp, 'bench.db')}"
    kind = "PostgreSQL" if "postgres" in url else "SQLite"
    floor_rate = await floor(url, args.leads, "f")
    batch_rate = await through_api(url, 100, args.leads, "b")
    single_rate = await through_api(url, 1, args.singles, "s")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {kind}")
    print(f"{'what':48} {'leads/s':>10}")
    print(f"{'floor: bare executemany, 100 rows per txn':48} {floor_rate:10.0f}")
    print(f"{'POST /api/leads, batches of 100':48} {batch_rate:10.0f}  ({batch_rate / floor_rate:.2f} of floor)")
    print(f"{'POST /api/leads, one lead per request':48} {single_rate:10.0f}  "
          f"({single_rate / floor_rate:.2f} of floor)")


if __name__ == "__main__":
    asyncio.run(main())
