"""The store's one insert-or-ignore (and upsert) helper, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from store.db import Database
from store.models import Conversation, DeliveryScope
from store.upsert import insert_ignoring, insert_or_replace, insert_or_update

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def scope(name: str, reason: str | None = None) -> dict[str, object]:
    return {"scope": name, "tats": [], "updated_at": AT, "reason": reason}


async def test_insert_ignoring_skips_a_row_that_collides_and_counts_the_rest(db: Database) -> None:
    async with db.transaction() as session:
        assert await insert_ignoring(session, DeliveryScope, scope("slack", "first"), on="scope") == 1
    async with db.transaction() as session:
        inserted = await insert_ignoring(session, DeliveryScope, [scope("slack", "second"), scope("teams")], on="scope")
    assert inserted == 1
    async with db.read() as session:
        rows = {row.scope: row.reason for row in (await session.scalars(select(DeliveryScope))).all()}
    assert rows == {"slack": "first", "teams": None}


async def test_insert_ignoring_nothing_writes_nothing(db: Database) -> None:
    async with db.transaction() as session:
        assert await insert_ignoring(session, DeliveryScope, [], on="scope") == 0


async def test_insert_or_update_refreshes_the_row_that_collides(db: Database) -> None:
    row = {
        "platform": "teams",
        "key": "u1",
        "kind": "user",
        "reference": {"v": 1},
        "tenant_id": None,
        "gone": True,
        "updated_at": AT,
    }
    async with db.transaction() as session:
        await insert_or_update(session, Conversation, row, on=("platform", "key"), update=row)
    async with db.transaction() as session:
        await insert_or_update(
            session,
            Conversation,
            {**row, "reference": {"v": 2}, "gone": False},
            on=("platform", "key"),
            update={"reference": {"v": 2}, "gone": False},
        )
    async with db.read() as session:
        stored = (await session.scalars(select(Conversation))).all()
    assert [(c.key, c.reference, c.gone) for c in stored] == [("u1", {"v": 2}, False)]


def test_only_the_store_imports_sqlalchemy_dialects() -> None:
    offenders = []
    for package in ("handlers", "bot", "scoring"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else []
                )
                if any(name == "sqlalchemy.dialects" or name.startswith("sqlalchemy.dialects.") for name in names):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


async def test_insert_or_replace_writes_many_rows_in_one_go_replacing_collisions_last_one_winning(
    db: Database,
) -> None:
    async with db.transaction() as session:
        await insert_or_replace(session, DeliveryScope, [scope("slack", "old")], on="scope")
    async with db.transaction() as session:
        await insert_or_replace(
            session,
            DeliveryScope,
            [scope("slack", "new"), scope("teams", "first"), scope("teams", "last")],
            on="scope",
        )
        await insert_or_replace(session, DeliveryScope, [], on="scope")
    async with db.read() as session:
        rows = {row.scope: row.reason for row in (await session.scalars(select(DeliveryScope))).all()}
    assert rows == {"slack": "new", "teams": "last"}
