"""The agreement's recorded versions: every content that ran, with its change from the one before.

``record`` runs at every start (``bot/runtime.py``) and for ``baton config check --record``. A
content already the latest record adds nothing (a restart is not a change); a new content adds
a row with its hash, version, the whole content (so the next change can be diffed against it)
and the change in words. ``changed_on`` is the day the content took effect: the file's
``definition.last_changed`` for the very first record (so upgrading does not restart the review
clock), the day it was recorded for every later one. The runtime shows that date as
``last_changed`` (``with_recorded_date``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.agreement.changes import change_text
from scoring.agreement import Agreement
from scoring.agreement_diff import Change, diff
from store.models import AgreementVersion


def content_of(agreement: Agreement) -> dict[str, Any]:
    return agreement.model_dump(mode="json", by_alias=True)


def content_hash(agreement: Agreement) -> str:
    """SHA-256 of the agreement's canonical JSON: the same rules give the same hash, whatever the
    file's layout, comments or key order. ``definition.last_changed`` is left out: it is a date
    about the content (and comes from the record), not part of it."""
    content = content_of(agreement)
    content["definition"].pop("last_changed", None)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Recorded:
    """What ``record`` found: ``new`` when it added a row; ``changes`` from the previous record."""

    new: bool
    content_hash: str
    version: str
    changed_on: date
    first: bool = False
    changes: list[Change] = field(default_factory=list)
    previous_unreadable: bool = False


async def latest(session: AsyncSession) -> AgreementVersion | None:
    return await session.scalar(select(AgreementVersion).order_by(AgreementVersion.id.desc()).limit(1))


def _previous(row: AgreementVersion) -> Agreement | None:
    try:
        return Agreement.model_validate(row.content)
    except ValidationError:
        return None  # recorded by a release whose schema this one no longer reads


async def record(session: AsyncSession, agreement: Agreement, now: datetime, by: str) -> Recorded:
    """Record ``agreement`` if its content differs from the latest record (in the caller's transaction)."""
    digest = content_hash(agreement)
    last = await latest(session)
    version = agreement.definition.version
    if last is not None and last.content_hash == digest:
        return Recorded(False, digest, version, last.changed_on)
    today = now.astimezone(ZoneInfo(agreement.digest.timezone)).date()
    previous = _previous(last) if last is not None else None
    changes = diff(previous, agreement) if previous is not None else []
    changed_on = (agreement.definition.last_changed or today) if last is None else today
    session.add(
        AgreementVersion(
            content_hash=digest,
            version=version,
            content=content_of(agreement),
            changes=[{**c.as_json(), "text": change_text(c)} for c in changes],
            changed_on=changed_on,
            recorded_at=now,
            recorded_by=by[:128],
        )
    )
    return Recorded(True, digest, version, changed_on, last is None, changes, last is not None and previous is None)


def with_recorded_date(agreement: Agreement, changed_on: date) -> Agreement:
    """The agreement with ``definition.last_changed`` taken from the record."""
    if agreement.definition.last_changed == changed_on:
        return agreement
    # model_copy keeps the cached directory, which the definition does not affect.
    definition = agreement.definition.model_copy(update={"last_changed": changed_on})
    return agreement.model_copy(update={"definition": definition})
