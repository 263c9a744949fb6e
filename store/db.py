"""Engine and sessions: SQLite (WAL, busy timeout) by default, PostgreSQL via asyncpg."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from store.write_gate import WriteGate

log = logging.getLogger(__name__)
READ_ONLY = "baton_read_only"
# Past this a writer stops queueing at the gate and falls back to SQLite's busy_timeout, so a
# transaction that (wrongly) waits for another one inside the process slows down, never hangs.
GATE_PATIENCE = 30.0


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event below (the documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin(connection: Connection) -> None:
    # Writers take the write lock at BEGIN so concurrent writers queue on busy_timeout instead of
    # failing with "database is locked" when a read transaction tries to upgrade. Read-only
    # transactions (``Database.read``) begin deferred: a WAL snapshot that holds up no writer.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 10}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """The one engine and session factory; ``transaction()`` is the unit of work."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        self.engine = create_engine(self.url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer: this process's write transactions take turns in order.
        self.write_gate = WriteGate() if self.engine.dialect.name == "sqlite" else None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        On SQLite, write transactions of this process take turns at ``write_gate`` (fair, where
        busy_timeout polling is not); ``urgent`` ones (delivery's short claim and settle) go
        before every waiting transaction that is not, so they wait for at most one."""
        gate = self.write_gate
        held = False
        if gate is not None:
            try:
                await asyncio.wait_for(gate.acquire(urgent), GATE_PATIENCE)
                held = True
            except TimeoutError:
                log.warning("a write transaction waited %ss for its turn; going ahead on busy_timeout", GATE_PATIENCE)
        try:
            async with self.sessions() as session, session.begin():
                yield session
        finally:
            if held and gate is not None:
                gate.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session inside one read-only transaction, for answers that only look.

        Every query in it sees one snapshot, so the figures of one answer agree with each other.
        On SQLite it begins deferred, so a long stats query neither waits for nor holds up
        intake; PostgreSQL is told the transaction is read-only, so a write in one fails loudly."""
        async with self.engine.connect() as connection:
            options: dict[str, Any] = {READ_ONLY: True}
            if self.is_postgres:
                options.update(postgresql_readonly=True, isolation_level="REPEATABLE READ")
            await connection.execution_options(**options)
            async with AsyncSession(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
