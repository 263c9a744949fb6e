"""Benchmark: ``baton simulate`` over a quarter of synthetic leads, beside the floor of reading them.

    .venv/bin/python bench/simulate.py                      # SQLite, 100,000 leads in last quarter
    .venv/bin/python bench/simulate.py --leads 1000000 --runs 1   # the million-lead quarter
    .venv/bin/python bench/simulate.py --reuse /tmp/baton-bench-XXXX/bench.db   # measure again, no reload
    .venv/bin/python bench/simulate.py --database-url postgresql+asyncpg://baton@127.0.0.1:55432/db  # schema reset!

Rows are bulk-inserted into the migrated schema (sqlite3 ``executemany`` or asyncpg ``COPY``):
each lead has 0-3 behaviour events arriving with it and one in five a later event a day after;
a third of the leads have a recorded qualification, a tenth a rejection, a fifth an acceptance.
Then the floor (``handlers.simulation.stored_leads``: every chunked query and every row turned
into the replay's input, no scoring) and the whole simulation (the example agreement against a
draft with "Target industry" raised to 30 points and the threshold to 55) are timed, 3 times each
(``--runs``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from handlers.clock import ManualClock  # noqa: E402
from handlers.services import Services  # noqa: E402
from handlers.simulation import period_of, simulate, stored_leads  # noqa: E402
from scoring.agreement_check import load_agreement  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
QUARTER = (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))  # "last quarter" as of NOW
CHUNK = 20_000
EVENTS = ["webinar_attended", "pricing_page_viewed", "whitepaper_downloaded", "blog_visit", "careers_page_viewed"]
TITLES = ["VP Sales", "Head of RevOps", "Manager", "Analyst", "Director of Marketing", "Student"]
INDUSTRIES = ["software", "saas", "fintech", "retail", "manufacturing"]
COUNTRIES = ["US", "CA", "GB", "DE", "FR", "BR", "IN"]
SOURCES = [("webinar", "Q3 pipeline webinar"), ("ebook", "Pricing guide"), ("paid_search", "Brand"), ("events", None)]
REASONS = ["no_budget", "no_need", "not_now", "unable_to_reach", "competitor"]
LEAD_COLS = ["id", "external_id", "email", "data", "stage", "score", "fast_track", "explanation", "source", "campaign"]
LEAD_COLS += ["created_at", "updated_at", "qualified_at", "accepted_at"]
ACTIVITY_COLS = ["id", "lead_id", "key", "type", "occurred_at", "created_at"]
FEEDBACK_COLS = ["id", "lead_id", "rep", "reason", "outcome", "created_at"]
TABLES = {"leads": LEAD_COLS, "activities": ACTIVITY_COLS, "feedback": FEEDBACK_COLS}


def synthetic(
    leads: int, seed: int = 16, as_text: bool = False, json_text: bool = False
) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    rng = random.Random(seed)
    start, end = QUARTER
    step = (end - start).total_seconds() / leads
    chunk: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
    activity_id = feedback_id = 0

    def when(value: datetime | None) -> Any:
        if value is None or not as_text:
            return value
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")

    for lead_id in range(1, leads + 1):
        created = start + timedelta(seconds=lead_id * step)
        source, campaign = SOURCES[rng.randrange(len(SOURCES))]
        data = {
            "external_id": f"crm-{lead_id}",
            "email": f"lead{lead_id}@prospect{lead_id % 5000}.example",
            "title": rng.choice(TITLES),
            "company": f"Prospect {lead_id % 5000}",
            "employees": rng.choice([50, 150, 600, 2000]),
            "industry": rng.choice(INDUSTRIES),
            "country": rng.choice(COUNTRIES),
            "source": source,
        }
        if campaign:
            data["campaign"] = campaign
        qualified = created if rng.random() < 0.33 else None
        accepted = created + timedelta(hours=1) if qualified and rng.random() < 0.6 else None
        last = created
        for n in range(rng.randint(0, 3)):
            activity_id += 1
            kind = rng.choice(EVENTS)
            chunk["activities"].append(
                (activity_id, lead_id, f"n:{kind}#{n}", kind, when(created - timedelta(days=n)), when(created))
            )
        if rng.random() < 0.2:
            activity_id += 1
            last = created + timedelta(days=1)
            chunk["activities"].append((activity_id, lead_id, "later", rng.choice(EVENTS), when(last), when(last)))
        if qualified and not accepted and rng.random() < 0.3:
            feedback_id += 1
            chunk["feedback"].append(
                (feedback_id, lead_id, "alice@example.com", rng.choice(REASONS), "recycle", when(created))
            )
        chunk["leads"].append(
            (
                lead_id,
                data["external_id"],
                data["email"],
                json.dumps(data) if as_text or json_text else data,
                "mql" if qualified else "captured",
                0,
                False,
                "{}" if as_text or json_text else {},
                source,
                campaign,
                when(created),
                when(last),
                when(qualified),
                when(accepted),
            )
        )
        if lead_id % CHUNK == 0 or lead_id == leads:
            yield chunk
            chunk = {t: [] for t in TABLES}


def load_sqlite(path: Path, leads: int) -> None:
    connection = sqlite3.connect(path)
    for chunk in synthetic(leads, as_text=True):
        for table, rows in chunk.items():
            if rows:
                columns = TABLES[table]
                connection.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows
                )
        connection.commit()
    connection.execute("ANALYZE")
    connection.commit()
    connection.close()


async def load_postgres(url: str, leads: int) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for chunk in synthetic(leads, json_text=True):
            for table, rows in chunk.items():
                if rows:
                    await connection.copy_records_to_table(table, records=rows, columns=TABLES[table])
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def prepare(url: str) -> None:
    database = Database(url)
    if database.is_postgres:
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(database.engine)
    await database.dispose()


async def measure(url: str, repeat: int = 3) -> None:
    data = tomllib.loads((ROOT / "baton.example.toml").read_text())
    running = load_agreement(data)
    for rule in data["scoring"]["explicit"]:
        if rule["name"] == "Target industry":
            rule["points"] = 30
    data["qualification"]["threshold"] = 55
    draft = load_agreement(data)
    database = Database(url)
    services = Services(db=database, agreement=running, clock=ManualClock(NOW))
    period = period_of("last quarter", running, NOW)
    try:
        floors, runs = [], []
        for _ in range(repeat):
            began = time.perf_counter()
            rows = 0
            async with database.read() as session:
                async for _lead in stored_leads(session, period.start, period.end):
                    rows += 1
            floors.append(time.perf_counter() - began)
            began = time.perf_counter()
            report = await simulate(services, draft, period)
            runs.append(time.perf_counter() - began)
        print(f"floor (read {rows} leads and their events, no scoring): median {statistics.median(floors):.1f} s")
        print(
            f"simulate: median {statistics.median(runs):.1f} s (min {min(runs):.1f}, max {max(runs):.1f}); "
            f"MQLs before {report.totals['before']}, after {report.totals['after']}, recorded "
            f"{report.totals['recorded']}; gained {report.gained}, lost {report.lost}"
        )
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each measurement")
    parser.add_argument("--reuse", type=Path, default=None, help="a SQLite file this script loaded before")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (its schema is reset!)")
    args = parser.parse_args()
    if args.reuse:
        url = f"sqlite+aiosqlite:///{args.reuse}"
        asyncio.run(measure(url, args.runs))
        return
    if args.database_url:
        url = args.database_url
        asyncio.run(prepare(url))
        began = time.perf_counter()
        asyncio.run(load_postgres(url, args.leads))
    else:
        path = Path(tempfile.mkdtemp(prefix="baton-bench-")) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(prepare(url))
        began = time.perf_counter()
        load_sqlite(path, args.leads)
    print(f"loaded {args.leads} leads in {time.perf_counter() - began:.0f} s ({url})")
    asyncio.run(measure(url, args.runs))


if __name__ == "__main__":
    main()
