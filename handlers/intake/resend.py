"""Safe resending: Idempotency-Key answers and seen HMAC signatures, kept in the database.

Both live in the database, not in memory, so every replica sees them and a restart forgets
nothing. Expired rows are deleted whenever a new one is written (an indexed range delete), so
neither table outgrows one window of traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from handlers.services import Services
from store.models import IdempotencyKey, SeenSignature

# A first request still being processed after this long died with its process: a retry takes over.
ABANDONED_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class KeyReused(Exception):
    """The Idempotency-Key was first used for a different request."""


class KeyInProgress(Exception):
    """The first request with this Idempotency-Key is still being processed."""


async def claim_key(services: Services, key: str, fingerprint: str, ttl: timedelta) -> Answer | None:
    """The stored answer for ``key``, or None once this request has claimed it and should run.

    Raises ``KeyReused`` for the same key with another request, ``KeyInProgress`` while the
    first request with the key is still running."""
    now = services.clock.now()
    try:
        async with services.db.transaction() as session:
            await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
            row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == key).with_for_update())
            if row is None:
                session.add(
                    IdempotencyKey(
                        key=key,
                        fingerprint=fingerprint,
                        status=None,
                        response=None,
                        created_at=now,
                        expires_at=now + ttl,
                    )
                )
                return None
            if row.fingerprint != fingerprint:
                raise KeyReused(key)
            if row.status is not None and row.response is not None:
                return Answer(row.status, row.response)
            if now - row.created_at < ABANDONED_AFTER:
                raise KeyInProgress(key)
            row.created_at, row.expires_at = now, now + ttl  # its first request died: this one runs
            return None
    except IntegrityError:  # another replica claimed it a moment ago
        raise KeyInProgress(key) from None


async def keep_answer(services: Services, key: str, answer: Answer) -> None:
    async with services.db.transaction() as session:
        row = await session.get(IdempotencyKey, key)
        if row is not None:
            row.status, row.response = answer.status, answer.body


async def release_key(services: Services, key: str) -> None:
    """Forget a claimed key whose request did nothing to keep, so that a retry runs afresh."""
    async with services.db.transaction() as session:
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.key == key, IdempotencyKey.status.is_(None)))


async def first_use(services: Services, signature: str, expires_at: datetime) -> bool:
    """Remember ``signature``; False if it was seen before (a replay)."""
    now = services.clock.now()
    try:
        async with services.db.transaction() as session:
            await session.execute(delete(SeenSignature).where(SeenSignature.expires_at <= now))
            session.add(SeenSignature(signature=signature, expires_at=expires_at))
    except IntegrityError:
        return False
    return True


async def forget_signature(services: Services, signature: str) -> None:
    """Let a signed request be sent again after Baton failed it (a 5xx)."""
    async with services.db.transaction() as session:
        await session.execute(delete(SeenSignature).where(SeenSignature.signature == signature))
