"""Counting committed transactions that did a given kind of write, on any connection of an engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from store.db import Database


@contextmanager
def commits_that(db: Database, statement_prefix: str) -> Iterator[list[int]]:
    """Inside the block, the list grows by one for each committed transaction that ran a statement
    starting with ``statement_prefix`` (say, ``"UPDATE timers"``), whichever pooled connection."""
    writing: set[int] = set()
    committed: list[int] = []
    prefix = statement_prefix.upper()

    def statement(connection: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if sql.lstrip().upper().startswith(prefix):
            writing.add(id(connection))

    def commit(connection: Any) -> None:
        if id(connection) in writing:
            writing.discard(id(connection))
            committed.append(1)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield committed
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
