"""Append-only rows written set-wise: many single-row inserts become one ``executemany`` per table.

Intake and the timer sweep write the same few kinds of append-only rows (audit events,
outbox messages, timers) for every lead or firing. Built as ORM objects and flushed one
unit of work at a time, those rows cost more than everything else in the batch. Inside
``buffered(session)`` the code that writes them appends plain dicts here instead; they are
inserted when the block ends, in the same transaction, before it commits.

Rows in the buffer are not visible to queries until the block ends, and their ids are never
known, so only rows nobody reads back in the same transaction belong here. Work that must
see them (re-rendering a card from the audit trail) is collected with ``collect`` and runs
once the rows are in, for the whole batch at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import Insert, Table, insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from store.models import Base
from store.upsert import Conflict, dialect_of, insert_ignoring_statement

_KEY = "baton.rows.buffer"
M = TypeVar("M", bound=Base)
# Deferred work: handles every item collected under its key, once the rows are written.
Work = Callable[[list[Any]], Awaitable[None]]


class RowBuffer:
    """Rows waiting to be inserted, grouped by table and by conflict handling, in arrival order."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self._rows: dict[tuple[Table, Conflict], list[dict[str, Any]]] = {}
        self._collected: dict[str, tuple[dict[Hashable, Any], Work]] = {}

    def add(self, model: type[Base], row: dict[str, Any], skip_conflict_on: Conflict = None) -> None:
        """Queue a ``model`` row; with ``skip_conflict_on`` (a unique column, or the columns of a
        unique index) a row that collides is dropped."""
        self._rows.setdefault((cast(Table, model.__table__), skip_conflict_on), []).append(row)

    def collect(self, key: str, work: Work) -> dict[Hashable, Any]:
        """Items for ``work``, which runs once, on all of them, when the queued rows are written.

        Returns the collection to add to (an item added twice under one name counts once); the
        first ``work`` given for ``key`` is the one that runs."""
        return self._collected.setdefault(key, ({}, work))[0]

    def _statement(self, table: Table, skip_conflict_on: Conflict) -> Insert:
        if skip_conflict_on is None:
            return insert(table)
        statement: Insert = insert_ignoring_statement(self.dialect, table, skip_conflict_on)
        return statement

    async def write(self, session: AsyncSession) -> None:
        # Deferred work may queue more rows (a refreshed card is an outbox row): loop until quiet.
        while self._rows or self._collected:
            batches, self._rows = self._rows, {}
            for (table, skip_conflict_on), rows in batches.items():
                await session.execute(self._statement(table, skip_conflict_on), rows)
            collected, self._collected = self._collected, {}
            for items, work in collected.values():
                await work(list(items.values()))


def buffer_of(session: AsyncSession) -> RowBuffer | None:
    """The buffer of the ``buffered`` block this session is in, if any."""
    buffer = session.info.get(_KEY)
    return buffer if isinstance(buffer, RowBuffer) else None


@asynccontextmanager
async def buffered(session: AsyncSession) -> AsyncIterator[RowBuffer]:
    """Collect append-only rows written inside the block; insert them when it ends without error."""
    if buffer_of(session) is not None:  # nested: the outer block writes everything
        yield session.info[_KEY]
        return
    buffer = session.info[_KEY] = RowBuffer(dialect_of(session))
    try:
        yield buffer
        await buffer.write(session)
    finally:
        session.info.pop(_KEY, None)


def new(model: type[M], **values: Any) -> M:
    """A new ``model`` instance holding ``values``, built without the ORM's per-attribute events.

    For rows inserted by ``insert_new`` or added to a session: both read the values straight
    from the instance. The declarative constructor fires an event per attribute, about 50 µs
    for a lead; intake builds a lead and a handoff for every offer."""
    obj: M = model.__mapper__.class_manager.new_instance()
    vars(obj).update(values)
    return obj


async def insert_new(session: AsyncSession, objects: Sequence[Any]) -> None:
    """Insert new ORM objects of one class with a Core ``executemany ... RETURNING id``, then attach
    them to the session as if flushed: persistent, with their ids, no pending changes.

    The same rows as ``add_all`` and ``flush``, at a third of the CPU: the unit of work's
    bookkeeping costs more than the insert itself (``bench/intake.py``)."""
    if not objects:
        return
    mapper = sa_inspect(type(objects[0]))
    table = mapper.local_table
    columns = [c.key for c in mapper.column_attrs if c.key not in ("id", "_sentinel")]
    rows = [{key: state.get(key) for key in columns} for state in (vars(obj) for obj in objects)]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = (await session.execute(statement, rows)).scalars().all()
    for obj, new_id in zip(objects, ids, strict=True):
        state = vars(obj)
        # Columns never set were written as NULL. Put them straight in the instance's dict (the
        # state of a freshly loaded row) or reading them later would try to load them.
        for key in columns:
            state.setdefault(key, None)
        state["id"] = new_id
        make_transient_to_detached(obj)
    session.add_all(objects)
