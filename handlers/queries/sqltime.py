"""SQL for durations and percentiles that runs the same on SQLite and PostgreSQL.

Percentiles are computed by the database, never by loading rows: PostgreSQL
has ``percentile_cont``; on SQLite we read the one or two values around each
percentile's position with ``ORDER BY ... LIMIT 2 OFFSET k`` (from the top for
high percentiles, so the sorter keeps few rows), interpolating exactly as
``percentile_cont`` does so both backends agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, cast, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def seconds_between(dialect: str, start: Any, end: Any) -> ColumnElement[float]:
    """``end - start`` in seconds as a float SQL expression (NULL if either is NULL)."""
    if dialect == "postgresql":
        return cast(extract("epoch", end - start), Float)
    # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" text, which julianday() reads.
    return (func.julianday(end) - func.julianday(start)) * 86400.0


async def percentiles(session: AsyncSession, value: ColumnElement[float], where: Sequence[ColumnElement[bool]],
                      quantiles: Sequence[float], count: int | None = None) -> list[float | None]:
    """The ``quantiles`` (0..1) of ``value`` over rows matching ``where``; None when there are none.

    ``count``, when the caller already knows how many rows have a non-NULL ``value``, saves a query.
    """
    conditions = [*where, value.is_not(None)]
    if dialect_of(session) == "postgresql":
        row = (await session.execute(select(*[
            func.percentile_cont(q).within_group(value) for q in quantiles]).where(*conditions))).one()
        return [None if v is None else float(v) for v in row]
    if count is None:
        count = int(await session.scalar(select(func.count()).where(*conditions)) or 0)
    if count == 0:
        return [None for _ in quantiles]
    results: list[float | None] = []
    for q in quantiles:
        position = q * (count - 1)
        low = math.floor(position)
        high = min(low + 1, count - 1)
        if q <= 0.5:
            rows = (await session.scalars(select(value).where(*conditions).order_by(value)
                                          .limit(high - low + 1).offset(low))).all()
            first, second = float(rows[0]), float(rows[-1])
        else:
            # Count from the top for high quantiles: SQLite's sorter then keeps only the top rows.
            rows = (await session.scalars(select(value).where(*conditions).order_by(value.desc())
                                          .limit(high - low + 1).offset(count - 1 - high))).all()
            first, second = float(rows[-1]), float(rows[0])
        results.append(first + (second - first) * (position - low))
    return results
