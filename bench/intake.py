"""Leads per second through POST /api/leads into the durable store, beside a bare executemany floor.

    .venv/bin/python bench/intake.py [--database-url URL] [--leads 5000] [--singles 500] [--repeat 3]
                                     [--client-in-process]

The server runs in this process on 127.0.0.1 (aiohttp AppRunner). The client, an aiohttp
ClientSession posting one request after another, runs in a second process as a CRM would, so
its JSON encoding does not count against Baton; ``--client-in-process`` runs it in the server's
event loop instead (as earlier versions of this script did).

Two floors, both bare SQLAlchemy Core ``executemany`` into a freshly migrated store, one
transaction per 100 leads, no validation, scoring, routing or rendering:

* all rows: exactly the rows the batched run wrote (leads, handoffs, timers, audit events,
  outbox messages, activities), read back from its store and inserted again, table by table;
  the cost of making the same data durable, and the floor the target is measured against;
* lead rows only: one row per lead, as earlier versions of this script measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiohttp
from aiohttp import web
from sqlalchemy import Table, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.runtime import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Activity, AuditEvent, Handoff, Lead, OutboxMessage, Timer  # noqa: E402
from tests.factories import EXAMPLE_CONFIG, lead_payload, make_agreement  # noqa: E402

TOKEN = "bench-token"
# What intake writes, parents first.
WRITTEN: list[Table] = [
    cast(Table, model.__table__) for model in (Lead, Handoff, Timer, AuditEvent, OutboxMessage, Activity)
]


def leads(n: int, prefix: str) -> list[dict[str, object]]:
    return [
        lead_payload(
            external_id=f"{prefix}-{i}",
            email=f"{prefix}{i}@bench{i % 97}.example",
            employees=100 + (i * 37) % 5000,
            title=["VP Sales", "Analyst", "Head of RevOps"][i % 3],
        )
        for i in range(n)
    ]


async def reset(url: str) -> None:
    """An empty, migrated store for each measurement."""
    database = Database(url)
    if not database.is_postgres:
        path = Path(make_url(database.url).database or "")
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
    if database.is_postgres:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(database.engine)
    await database.dispose()


async def post_all(port: int, batch: int, total: int, prefix: str) -> float:
    """The CRM's side: post ``total`` leads in requests of ``batch``, one after another; leads/s."""
    payload = leads(total, prefix)
    bodies = [json.dumps(payload[i : i + batch] if batch > 1 else payload[i]).encode() for i in range(0, total, batch)]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
        start = time.perf_counter()
        for body in bodies:
            async with client.post("/api/leads", data=body, headers=headers) as resp:
                assert resp.status == 202, await resp.text()
                await resp.read()
        elapsed = time.perf_counter() - start
    return total / elapsed


async def through_api(url: str, batch: int, total: int, prefix: str, client_in_process: bool = False) -> float:
    """Serve Baton here and post to it: from a second process (as a CRM would), or from this one."""
    await reset(url)
    settings = Settings(config_path=EXAMPLE_CONFIG, database_url=url, intake_token=TOKEN)
    runtime = Runtime(settings=settings, agreement=make_agreement())
    await runtime.prepare()
    runner = web.AppRunner(runtime.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        if client_in_process:
            return await post_all(port, batch, total, prefix)
        client = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--client-port",
            str(port),
            "--batch",
            str(batch),
            "--leads",
            str(total),
            "--prefix",
            prefix,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await client.communicate()
        assert client.returncode == 0, "the client process failed"
        return float(out.decode().split()[-1])
    finally:
        await runner.cleanup()
        await runtime.db.dispose()


async def floor(url: str, total: int, prefix: str) -> float:
    """Lead rows only: one row per lead, 100 per transaction."""
    await reset(url)
    database = Database(url)
    now = datetime.now(UTC)
    rows = [
        {
            "external_id": p["external_id"],
            "email": p["email"],
            "data": p,
            "stage": "captured",
            "score": 0,
            "fast_track": False,
            "explanation": {},
            "created_at": now,
            "updated_at": now,
        }
        for p in leads(total, prefix)
    ]
    start = time.perf_counter()
    for i in range(0, total, 100):
        async with database.transaction() as session:
            await session.execute(insert(Lead), rows[i : i + 100])
    elapsed = time.perf_counter() - start
    await database.dispose()
    return total / elapsed


async def written_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables intake writes, as stored (ids included), in insertion order."""
    database = Database(url)
    found: dict[str, list[dict[str, Any]]] = {}
    async with database.transaction() as session:
        for table in WRITTEN:
            result = await session.execute(select(table).order_by(table.c.id))
            found[table.name] = [dict(row) for row in result.mappings().all()]
    await database.dispose()
    return found


async def floor_same_rows(url: str, written: dict[str, list[dict[str, Any]]], batch: int = 100) -> float:
    """Insert ``written`` again into an empty store, each transaction holding ``batch`` leads'
    rows of every table (in the order intake wrote them)."""
    await reset(url)
    slice_of = {row["id"]: n // batch for n, row in enumerate(written["leads"])}
    slices: list[dict[str, list[dict[str, Any]]]] = [{} for _ in range(max(slice_of.values()) + 1)]
    for table in WRITTEN:
        for row in written[table.name]:
            owner = row["id"] if table.name == "leads" else row.get("lead_id")
            slices[slice_of.get(owner, 0)].setdefault(table.name, []).append(row)
    database = Database(url)
    start = time.perf_counter()
    for part in slices:
        async with database.transaction() as session:
            for table in WRITTEN:
                if rows := part.get(table.name):
                    await session.execute(insert(table), rows)
    elapsed = time.perf_counter() - start
    await database.dispose()
    return len(written["leads"]) / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--singles", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--client-in-process",
        action="store_true",
        help="post from this process's event loop (the client's CPU then counts against Baton)",
    )
    # The client process's own arguments.
    parser.add_argument("--client-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="b", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_port:
        print(await post_all(args.client_port, args.batch, args.leads, args.prefix))
        return
    tmp = tempfile.mkdtemp()
    url = args.database_url or f"sqlite+aiosqlite:///{os.path.join(tmp, 'bench.db')}"
    kind = "PostgreSQL" if "postgres" in url else "SQLite"
    # Interleaved and repeated: on a shared machine a single run of each says little.
    lead_floors, batch_rates, rows_floors = [], [], []
    for _ in range(args.repeat):
        lead_floors.append(await floor(url, args.leads, "f"))
        batch_rates.append(await through_api(url, 100, args.leads, "b", args.client_in_process))
        written = await written_rows(url)
        rows_floors.append(await floor_same_rows(url, written))
    lead_floor, batch_rate, rows_floor = (statistics.median(r) for r in (lead_floors, batch_rates, rows_floors))
    single_rate = await through_api(url, 1, args.singles, "s", args.client_in_process)
    per_lead = sum(len(rows) for rows in written.values()) / len(written["leads"])
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {kind}; "
        f"medians of {args.repeat} interleaved runs (batches: {', '.join(f'{r:.0f}' for r in batch_rates)}); "
        f"client {'in this process' if args.client_in_process else 'in a second process'}"
    )
    print(f"{'what':52} {'leads/s':>10}")
    print(f"{f'floor: the same rows ({per_lead:.1f} per lead), executemany':52} {rows_floor:10.0f}")
    print(f"{'floor: lead rows only, executemany':52} {lead_floor:10.0f}")
    print(
        f"{'POST /api/leads, batches of 100':52} {batch_rate:10.0f}  "
        f"({batch_rate / rows_floor:.2f} of the same-rows floor, {batch_rate / lead_floor:.2f} of lead rows only)"
    )
    print(
        f"{'POST /api/leads, one lead per request':52} {single_rate:10.0f}  "
        f"({single_rate / rows_floor:.2f} of the same-rows floor)"
    )


if __name__ == "__main__":
    asyncio.run(main())
