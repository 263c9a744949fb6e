"""Benchmark: SLA timers as database rows, beside the same timers as one APScheduler job each.

    .venv/bin/python bench/timers.py                                  # SQLite in a temporary directory
    .venv/bin/python bench/timers.py --database-url postgresql://user@host/db   # its public schema is reset!

100,000 pending timers (with the leads and open offers they belong to) are bulk-inserted
straight into the migrated schema. Then, through ``handlers.followup.timers.sweep`` exactly as the
scheduler job calls it:

* the cost of one sweep when nothing is due (median of 20), beside a floor measured in the
  same run: one transaction holding ``SELECT 1``; the target is under 5 ms, i.e. proportional
  to what is due, not to what is pending;
* the lag between due time and firing when 1,000 timers fall due at once and a sweep runs
  every second of real time (p50/p99 of fired_at - due_at; target p99 under 2 s);
* start-up (open the database, first sweep) and peak Python memory (tracemalloc).

Beside it, the same 100,000 timers as APScheduler jobs (``DateTrigger`` in an
``AsyncIOScheduler`` with a ``MemoryJobStore``): the time to add them and to start the
scheduler, and the memory they hold. Results are printed and appended under "## Timers"
in bench/README.md with a description of the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apscheduler.jobstores.memory import MemoryJobStore  # noqa: E402
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402
from apscheduler.triggers.date import DateTrigger  # noqa: E402

from handlers.followup.sla import choose_policy  # noqa: E402
from handlers.followup.timers import BATCH, sweep  # noqa: E402
from handlers.services import Services  # noqa: E402
from scoring.agreement import Agreement  # noqa: E402
from scoring.agreement_check import load_agreement  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Handoff, Lead, Timer  # noqa: E402

PENDING = 100_000
DUE_AT_ONCE = 1_000
CHUNK = 10_000
README = ROOT / "bench" / "README.md"


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


async def seed(database: Database, agreement: Agreement, count: int, now: datetime) -> None:
    """``count`` open offers to Alice, each with its first accept timer due 30+ days from now."""
    team = agreement.team("enterprise")
    assert team is not None
    policy = choose_policy(agreement, team, fast_track=False)
    later = now + timedelta(days=30)
    async with database.engine.begin() as connection:
        for start in range(1, count + 1, CHUNK):
            ids = range(start, min(start + CHUNK, count + 1))
            await connection.execute(
                insert(Lead),
                [
                    {
                        "id": i,
                        "external_id": f"bench-{i}",
                        "email": f"bench{i}@prospect.example",
                        "stage": "mql",
                        "score": 60,
                        "fast_track": False,
                        "explanation": {},
                        "team": team.name,
                        "data": {"first_name": "Pat", "last_name": str(i), "company": f"Prospect {i}"},
                        "created_at": now,
                        "updated_at": now,
                        "qualified_at": now,
                    }
                    for i in ids
                ],
            )
            await connection.execute(
                insert(Handoff),
                [
                    {
                        "id": i,
                        "lead_id": i,
                        "team": team.name,
                        "rep": "alice@example.com",
                        "mode": "direct",
                        "state": "offered",
                        "fence": 1,
                        "policy": policy,
                        "previous_reps": [],
                        "offered_at": now,
                    }
                    for i in ids
                ],
            )
            await connection.execute(
                insert(Timer),
                [
                    {
                        "id": i,
                        "lead_id": i,
                        "handoff_id": i,
                        "chain": "accept",
                        "step": 0,
                        "fence": 1,
                        "status": "pending",
                        "due_at": later + timedelta(seconds=i),
                    }
                    for i in ids
                ],
            )
        if database.is_postgres:
            for table in ("leads", "handoffs", "timers"):
                await connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})"))
        await connection.execute(text("ANALYZE"))


async def empty_sweeps(services: Services, repeats: int = 20) -> tuple[float, float]:
    """Median ms of a sweep with nothing due, and of the floor (a transaction holding SELECT 1)."""
    sweeps, floors = [], []
    for _ in range(repeats):
        began = time.perf_counter()
        async with services.db.transaction() as session:
            await session.execute(text("SELECT 1"))
        floors.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        fired = await sweep(services)
        sweeps.append((time.perf_counter() - began) * 1000)
        assert fired == 0
    return statistics.median(sweeps), statistics.median(floors)


async def lag(services: Services, ids: range, interval: float = 1.0) -> tuple[list[float], float, int, float]:
    """Make ``ids`` due half a second from now; sweep every ``interval`` s until all fired.

    A timer's lag runs from its due time to the end of the sweep that fired it: its step is
    committed (and its messages are on their way) by then, whereas ``fired_at`` is stamped
    inside the transaction and would flatter a long batch."""
    due = datetime.now(UTC) + timedelta(seconds=0.5)
    async with services.db.transaction() as session:
        await session.execute(update(Timer).where(Timer.id.in_(ids)).values(due_at=due))
    began, ticks, busy = time.monotonic(), 0, 0.0
    done_at: dict[int, datetime] = {}
    while True:
        tick = time.monotonic()
        ticks += 1
        await sweep(services)
        busy += time.monotonic() - tick
        swept = datetime.now(UTC)
        async with services.db.transaction() as session:
            settled = (
                await session.scalars(select(Timer.id).where(Timer.id.in_(ids), Timer.status != "pending"))
            ).all()
        for timer_id in settled:
            done_at.setdefault(timer_id, swept)
        if len(done_at) == len(ids):
            break
        # The scheduler's behaviour: the next tick one interval after this one started (coalesced if late).
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - tick)))
    lags = sorted((at - due).total_seconds() for at in done_at.values())
    return lags, time.monotonic() - began, ticks, busy


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def rows_memory(url: str, agreement: Agreement, ids: range) -> tuple[float, float]:
    """Start-up ms (open the database, first sweep) and peak MB while starting, sweeping, firing ``ids``."""
    began = time.perf_counter()
    services = Services(db=Database(url), agreement=agreement)
    await sweep(services)
    startup = (time.perf_counter() - began) * 1000
    await services.db.dispose()
    gc.collect()
    tracemalloc.start()
    services = Services(db=Database(url), agreement=agreement)
    for _ in range(20):
        await sweep(services)
    async with services.db.transaction() as session:
        await session.execute(update(Timer).where(Timer.id.in_(ids)).values(due_at=datetime.now(UTC)))
    await sweep(services)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    await services.db.dispose()
    return startup, peak


async def apscheduler_jobs(count: int, traced: bool) -> tuple[float, float, float]:
    """Seconds to add ``count`` DateTrigger jobs and to start the scheduler; MB held (if traced)."""

    async def remind() -> None:  # never runs: every job is due in 30 days
        return None

    gc.collect()
    if traced:
        tracemalloc.start()
    scheduler = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone=UTC)
    later = datetime.now(UTC) + timedelta(days=30)
    began = time.perf_counter()
    for i in range(count):
        scheduler.add_job(remind, DateTrigger(run_date=later + timedelta(seconds=i)), id=f"timer-{i}")
    added = time.perf_counter() - began
    began = time.perf_counter()
    scheduler.start()
    started = time.perf_counter() - began
    held = tracemalloc.get_traced_memory()[0] / 2**20 if traced else 0.0
    if traced:
        tracemalloc.stop()
    scheduler.shutdown(wait=False)
    return added, started, held


def machine(url: str, server: str) -> str:
    load = os.getloadavg()
    database = f"PostgreSQL {server}" if url.startswith("postgres") else f"SQLite {sqlite3.sqlite_version}"
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs (nproc), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {database}; load average at start {load[0]:.2f}"
    )


def record(lines: list[str]) -> None:
    """Append this run under "## Timers" in bench/README.md (creating the section if missing)."""
    text_ = README.read_text() if README.exists() else "# Benchmarks\n"
    block = "\n".join(lines) + "\n"
    if "\n## Timers" not in "\n" + text_:
        text_ = (
            text_.rstrip("\n") + "\n\n## Timers\n\n`.venv/bin/python bench/timers.py [--database-url URL]`: "
            "SLA timers as rows swept every second, beside the same timers as APScheduler jobs.\n\n" + block
        )
    else:
        head, _, rest = text_.partition("## Timers")
        body, marker, tail = rest.partition("\n## ")
        text_ = head + "## Timers" + body.rstrip("\n") + "\n\n" + block + (("\n## " + tail) if marker else "")
    README.write_text(text_)


async def run(url: str, save: bool) -> None:
    agreement = load_agreement(tomllib.loads((ROOT / "baton.example.toml").read_text()))
    await prepare(url)
    database = Database(url)
    services = Services(db=database, agreement=agreement)
    server = ""
    if database.is_postgres:
        async with database.transaction() as session:
            server = str(await session.scalar(text("SHOW server_version")))
    described = machine(url, server)
    began = time.perf_counter()
    await seed(database, agreement, PENDING, datetime.now(UTC))
    print(f"seeded {PENDING:,} pending timers in {time.perf_counter() - began:.1f} s")
    sweep_ms, floor_ms = await empty_sweeps(services)
    lags, took, ticks, busy = await lag(services, range(1, DUE_AT_ONCE + 1))
    await database.dispose()
    startup_ms, peak_mb = await rows_memory(url, agreement, range(DUE_AT_ONCE + 1, DUE_AT_ONCE + 101))
    add_s, start_s, _ = await apscheduler_jobs(PENDING, traced=False)
    _, _, held_mb = await apscheduler_jobs(PENDING, traced=True)
    p50, p99 = percentile(lags, 50), percentile(lags, 99)
    verdict = "met" if sweep_ms < 5 and p99 < 2 else "MISSED"
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {described}. Targets {verdict}.",
        "",
        f"| {PENDING:,} pending timers | timers as rows (Baton) | one APScheduler job each |",
        "| --- | --- | --- |",
        f"| one sweep, nothing due (median of 20) | {sweep_ms:.2f} ms (floor: a `SELECT 1` transaction "
        f"{floor_ms:.2f} ms; target < 5 ms) | — |",
        f"| {DUE_AT_ONCE:,} due at once, 1 s sweeps: lag p50 / p99 | {p50:.2f} s / {p99:.2f} s "
        f"(all fired in {took:.1f} s, {ticks} sweeps; target p99 < 2 s) | — |",
        f"| firing cost while catching up | {busy / DUE_AT_ONCE * 1000:.2f} ms per firing, time spent in "
        f"sweeps ({DUE_AT_ONCE / busy:.0f} per second; {BATCH} firings per transaction) | — |",
        f"| start-up | {startup_ms:.0f} ms (open the database, first sweep) | {add_s:.2f} s to add the jobs "
        f"+ {start_s:.2f} s to start |",
        f"| Python memory (tracemalloc) | {peak_mb:.1f} MB peak (start-up, 20 sweeps, 100 firings) | "
        f"{held_mb:.1f} MB held by the jobs |",
        "| survives a restart | yes (rows) | no (MemoryJobStore) |",
    ]
    print("\n".join(lines))
    if save:
        record(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (its public schema is reset)")
    parser.add_argument("--no-record", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='baton-timers-')) / 'bench.db'}"
    asyncio.run(run(url, save=not args.no_record))


if __name__ == "__main__":
    main()
