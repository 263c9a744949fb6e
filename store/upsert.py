"""Insert rows that may already be there: the one place that knows each database's dialect for it.

``INSERT ... ON CONFLICT`` is spelled the same on SQLite and PostgreSQL but built from each
dialect's own ``insert``; callers say what they mean (skip a row that collides, or refresh it)
and never import ``sqlalchemy.dialects`` themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Base

# What a conflicting row collides on: a unique column or the columns of a unique index;
# None for any unique constraint (or the primary key) at all.
Conflict = str | tuple[str, ...] | None


def dialect_of(session: AsyncSession) -> str:
    """``"postgresql"`` or ``"sqlite"``: the database this session talks to."""
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _columns(on: Conflict) -> list[str] | None:
    if on is None:
        return None
    return [on] if isinstance(on, str) else list(on)


def insert_ignoring_statement(dialect: str, model: type[Base] | Table, on: Conflict = None) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``model``'s table, for ``execute(statement, rows)``."""
    table = model if isinstance(model, Table) else model.__table__
    assert isinstance(table, Table)
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=_columns(on))


Rows = Sequence[Mapping[str, Any]] | Mapping[str, Any]


async def insert_ignoring(session: AsyncSession, model: type[Base], rows: Rows, *, on: Conflict = None) -> int:
    """Insert ``rows`` (one mapping or many); a row colliding on ``on`` is silently skipped.

    Returns how many rows were inserted, so a caller racing other replicas knows whether it won.
    Many rows go in one statement: skipped ones cost nothing and raise nothing."""
    many = [dict(rows)] if isinstance(rows, Mapping) else [dict(row) for row in rows]
    if not many:
        return 0
    table = model.__table__
    assert isinstance(table, Table)
    statement = _insert(dialect_of(session), table).values(many).on_conflict_do_nothing(index_elements=_columns(on))
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def insert_or_update(
    session: AsyncSession,
    model: type[Base],
    row: Mapping[str, Any],
    *,
    on: str | tuple[str, ...],
    update: Mapping[str, Any],
) -> None:
    """Insert ``row``; if one already collides on ``on``, set ``update`` on it instead (an upsert)."""
    table = model.__table__
    assert isinstance(table, Table)
    statement = _insert(dialect_of(session), table).values(dict(row))
    await session.execute(statement.on_conflict_do_update(index_elements=_columns(on), set_=dict(update)))


async def insert_or_replace(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]], *, on: str | tuple[str, ...]
) -> None:
    """Insert ``rows`` in one statement; a row colliding on ``on`` gets the new row's other columns.

    Rows repeating a key keep the last (one statement may not change a row twice)."""
    keys = _columns(on) or []
    latest = {tuple(row[k] for k in keys): dict(row) for row in rows}
    if not latest:
        return
    table = model.__table__
    assert isinstance(table, Table)
    statement = _insert(dialect_of(session), table).values(list(latest.values()))
    others = [c for c in next(iter(latest.values())) if c not in keys]
    await session.execute(
        statement.on_conflict_do_update(index_elements=keys, set_={c: statement.excluded[c] for c in others})
    )
