"""Benchmark: ``stats this quarter`` and ``feedback last 30 days`` over a large synthetic store.

    .venv/bin/python bench/stats.py                      # SQLite, 1,000,000 leads, 5,000,000 events
    .venv/bin/python bench/stats.py --leads 100000       # smaller
    .venv/bin/python bench/stats.py --database-url postgresql://user@host/db   # PostgreSQL (schema is reset!)

Rows are bulk-inserted straight into the migrated schema (sqlite3 ``executemany`` or
asyncpg ``COPY``), then each question is answered through ``handlers.queries.answer``
exactly as a chat message would be, 5 times; the median is reported beside a floor
(one indexed count of the quarter's MQLs) measured in the same run. Every SQL
statement the answers issue is EXPLAINed and the indexes it uses are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
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

from sqlalchemy import event, text  # noqa: E402

from handlers.clock import ManualClock  # noqa: E402
from handlers.queries import answer  # noqa: E402
from handlers.services import Services  # noqa: E402
from scoring.agreement_check import load_agreement  # noqa: E402
from store.db import Database, normalise_url  # noqa: E402
from store.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SPAN_DAYS = 730
REPS = {"enterprise": ["alice@example.com", "bob@example.com"], "emea": ["clara@example.com", "david@example.com"]}
REASONS = [
    "unable_to_reach",
    "inaccurate_data",
    "no_need",
    "no_budget",
    "no_fit",
    "existing_customer",
    "competitor",
    "duplicate",
    "not_now",
]
SOURCES = [
    ("webinar", "Q4 pipeline webinar"),
    ("ebook", "Pricing guide"),
    ("paid_search", "Brand"),
    ("events", "SaaStr"),
    ("referral", None),
]
QUESTIONS = [("stats this quarter", "revops@example.com"), ("feedback last 30 days", "mark.marketer@example.com")]
CHUNK = 50_000

LEAD_COLS = [
    "id",
    "external_id",
    "email",
    "data",
    "stage",
    "score",
    "fast_track",
    "explanation",
    "routing",
    "team",
    "owner",
    "source",
    "campaign",
    "created_at",
    "updated_at",
    "qualified_at",
    "accepted_at",
    "first_touch_at",
    "sql_at",
    "finished_at",
    "forgotten_at",
]
HANDOFF_COLS = [
    "id",
    "lead_id",
    "team",
    "rep",
    "mode",
    "state",
    "fence",
    "policy",
    "previous_reps",
    "offered_at",
    "due_at",
    "decided_at",
    "decided_by",
]
FEEDBACK_COLS = ["id", "lead_id", "handoff_id", "rep", "reason", "outcome", "note", "source", "campaign", "created_at"]
TOUCH_COLS = ["id", "lead_id", "rep", "kind", "created_at"]
AUDIT_COLS = ["id", "lead_id", "actor", "action", "before", "after", "at"]
TABLES = {
    "leads": LEAD_COLS,
    "handoffs": HANDOFF_COLS,
    "feedback": FEEDBACK_COLS,
    "touches": TOUCH_COLS,
    "audit_events": AUDIT_COLS,
}


def synthetic(leads: int, events: int, seed: int = 7) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """Chunks of rows per table. Half the leads qualify; offers are 70% accepted, 20% rejected."""
    rng = random.Random(seed)
    per_lead_events = events / leads
    ids = {"handoffs": 0, "feedback": 0, "touches": 0, "audit_events": 0}
    start = NOW - timedelta(days=SPAN_DAYS)
    step = SPAN_DAYS * 86400 / leads
    chunk: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
    policy = json.dumps({"name": "standard"})
    for lead_id in range(1, leads + 1):
        created = start + timedelta(seconds=lead_id * step)
        team = "enterprise" if rng.random() < 0.6 else "emea"
        source, campaign = SOURCES[rng.randrange(len(SOURCES))]
        qualified = created + timedelta(minutes=rng.randint(1, 600)) if rng.random() < 0.5 else None
        stage, owner, accepted, touched, sql_at = "captured", None, None, None, None
        actions = ["lead.captured"]
        if qualified is not None and qualified < NOW:
            rep = rng.choice(REPS[team])
            roll = rng.random()
            due = qualified + timedelta(minutes=30)
            decided: datetime | None = qualified + timedelta(minutes=rng.randint(1, 120))
            state = "accepted" if roll < 0.7 else "rejected" if roll < 0.9 else "reassigned"
            if qualified > NOW - timedelta(days=2) and roll > 0.95:
                state, decided = "offered", None
            ids["handoffs"] += 1
            handoff_id = ids["handoffs"]
            chunk["handoffs"].append(
                (
                    handoff_id,
                    lead_id,
                    team,
                    rep,
                    "direct",
                    state,
                    2,
                    policy,
                    "[]",
                    qualified,
                    due,
                    decided,
                    rep if decided else None,
                )
            )
            actions += ["lead.qualified", "lead.offered"]
            stage = "mql"
            if rng.random() < 0.05:
                actions.append("sla.escalated")
            if state == "accepted" and decided is not None:
                stage, owner, accepted = "sal", rep, decided
                actions.append("lead.accepted")
                if rng.random() < 0.8:
                    touched = decided + timedelta(minutes=rng.randint(5, 2880))
                    for n in range(rng.randint(1, 3)):
                        ids["touches"] += 1
                        chunk["touches"].append(
                            (ids["touches"], lead_id, rep, "call" if n % 2 else "email", touched + timedelta(hours=n))
                        )
                if rng.random() < 0.25:
                    stage, sql_at = "sql", decided + timedelta(days=3)
            elif state == "rejected" and decided is not None:
                stage = "recycled"
                ids["feedback"] += 1
                note = "Could not reach after 6 attempts" if rng.random() < 0.3 else None
                chunk["feedback"].append(
                    (
                        ids["feedback"],
                        lead_id,
                        handoff_id,
                        rep,
                        rng.choice(REASONS),
                        "recycle",
                        note,
                        source,
                        campaign,
                        decided,
                    )
                )
                actions.append("lead.rejected")
            escalated_handoff = handoff_id
        else:
            escalated_handoff = 0
        chunk["leads"].append(
            (
                lead_id,
                f"crm-{lead_id}",
                f"lead{lead_id}@prospect.example",
                '{"first_name": "Pat"}',
                stage,
                60,
                False,
                '{"threshold": 50}',
                None,
                team,
                owner,
                source,
                campaign,
                created,
                created,
                qualified if stage != "captured" else None,
                accepted,
                touched,
                sql_at,
                None,
                None,
            )
        )
        # Pad with behaviour-style events to reach the requested total.
        count = int(per_lead_events) + (1 if rng.random() < per_lead_events % 1 else 0)
        for n in range(count):
            action = actions[n] if n < len(actions) else "lead.touched"
            after = json.dumps({"handoff_id": escalated_handoff}) if action == "sla.escalated" else None
            ids["audit_events"] += 1
            chunk["audit_events"].append(
                (ids["audit_events"], lead_id, "intake", action, None, after, created + timedelta(hours=n))
            )
        if lead_id % CHUNK == 0:
            yield chunk
            chunk = {t: [] for t in TABLES}
    yield chunk


def _sqlite_datetime(value: datetime) -> str:
    # The format store.types.UTCDateTime writes on SQLite (UTC, no offset, microseconds).
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def load_sqlite(path: Path, leads: int, events: int) -> None:
    sqlite3.register_adapter(datetime, _sqlite_datetime)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    for chunk in synthetic(leads, events):
        for table, rows in chunk.items():
            if rows:
                cols = TABLES[table]
                connection.executemany(
                    f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows
                )
        connection.commit()
    connection.execute("ANALYZE")
    connection.commit()
    connection.close()


async def load_postgres(url: str, leads: int, events: int) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for chunk in synthetic(leads, events):
            for table, rows in chunk.items():
                if rows:
                    await connection.copy_records_to_table(table, records=rows, columns=TABLES[table])
        for table in TABLES:
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        # VACUUM sets the visibility map, without which PostgreSQL cannot use index-only scans.
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


_SQLITE_INDEX = re.compile(r"(?:USING (?:COVERING )?INDEX|USING INTEGER PRIMARY KEY) ?(\w*)")
_PG_INDEX = re.compile(r"Index (?:Only )?Scan(?: Backward)? using (\w+)|Bitmap Index Scan on (\w+)")


async def plans(database: Database, statements: list[tuple[str, Any]]) -> list[tuple[str, list[str]]]:
    """The indexes (or full scans) each captured statement uses."""
    out = []
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        for sql, params in statements:
            if database.is_postgres:
                rows = await raw.driver_connection.fetch("EXPLAIN " + sql, *params)  # type: ignore[union-attr]
                plan = "\n".join(r[0] for r in rows)
                found = [a or b for a, b in _PG_INDEX.findall(plan)]
                found += [f"SEQ SCAN {t}" for t in re.findall(r"Seq Scan on (\w+)", plan)]
            else:
                cursor = await raw.driver_connection.execute("EXPLAIN QUERY PLAN " + sql, params)  # type: ignore[union-attr]
                plan = "\n".join(str(r[3]) for r in await cursor.fetchall())
                found = [m or "rowid" for m in _SQLITE_INDEX.findall(plan)]
                found += [f"FULL SCAN {t}" for t in re.findall(r"^SCAN (\w+)$", plan, re.MULTILINE)]
            out.append((" ".join(sql.split())[:90], sorted(set(found))))
    return out


async def measure(url: str) -> None:
    data = tomllib.loads((ROOT / "baton.example.toml").read_text())
    database = Database(url)
    services = Services(db=database, agreement=load_agreement(data), clock=ManualClock(NOW))
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    try:
        floor = []
        for _ in range(5):
            began = time.perf_counter()
            async with database.transaction() as session:
                await session.execute(
                    text("SELECT count(*) FROM leads WHERE qualified_at >= :s"),
                    {
                        "s": "2026-10-01 04:00:00.000000"
                        if not database.is_postgres
                        else datetime(2026, 10, 1, 4, tzinfo=UTC)
                    },
                )
            floor.append((time.perf_counter() - began) * 1000)
        print(f"floor (one indexed count of this quarter's MQLs): {statistics.median(floor):.1f} ms")
        for question, asker in QUESTIONS:
            await answer(services, question, asker)  # warm the caches once
            timings = []
            for _ in range(5):
                began = time.perf_counter()
                notice = await answer(services, question, asker)
                timings.append((time.perf_counter() - began) * 1000)
            print(
                f"\n{question!r}: median {statistics.median(timings):.1f} ms "
                f"(min {min(timings):.1f}, max {max(timings):.1f}); {len(notice.fields)} fields"
            )
            captured.clear()
            event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
            await answer(services, question, asker)
            event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
            for sql, used in await plans(database, [s for s in captured if s[0].lstrip().upper().startswith("SELECT")]):
                print(f"  {', '.join(used) or '(no index)':<60} {sql}")
    finally:
        await database.dispose()


async def prepare(url: str) -> None:
    database = Database(url)
    try:
        if database.is_postgres:
            async with database.engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        await upgrade(database.engine)
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=None, help="audit events (default: 5 per lead)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (its public schema is reset)")
    parser.add_argument("--reuse", type=Path, default=None, help="SQLite file already loaded by an earlier run")
    args = parser.parse_args()
    events = args.events if args.events is not None else 5 * args.leads
    if args.reuse is not None:
        url = f"sqlite+aiosqlite:///{args.reuse}"
        asyncio.run(prepare(url))  # brings an older file up to the newest indexes
        with sqlite3.connect(args.reuse) as connection:
            connection.execute("ANALYZE")
    else:
        if args.database_url:
            url = args.database_url
        else:
            path = Path(tempfile.mkdtemp(prefix="baton-bench-")) / "bench.db"
            url = f"sqlite+aiosqlite:///{path}"
        asyncio.run(prepare(url))
        began = time.perf_counter()
        if args.database_url:
            asyncio.run(load_postgres(normalise_url(url), args.leads, events))
        else:
            load_sqlite(path, args.leads, events)
        print(
            f"loaded {args.leads:,} leads and {events:,} audit events into {url} in {time.perf_counter() - began:.0f} s"
        )
    asyncio.run(measure(url))


if __name__ == "__main__":
    main()
