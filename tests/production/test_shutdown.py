"""SIGTERM during a burst of intake: every lead answered 202 is stored with its offer, and survives a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from store.db import Database
from store.models import Handoff, Lead, OutboxMessage
from tests.conftest import auth
from tests.factories import lead_payload
from tests.production.conftest import server_env

BURST = 60
SIGTERM_AFTER = 25  # requests sent before the signal


async def burst(url: str, terminate: Any) -> dict[str, int]:
    """Send ``BURST`` single-lead requests, SIGTERM part-way; status per external id (0 = no answer)."""
    answered: dict[str, int] = {}
    async with aiohttp.ClientSession() as session:

        async def send(payload: dict[str, Any]) -> None:
            try:
                async with session.post(url + "/api/leads", json=payload, headers=auth()) as response:
                    answered[payload["external_id"]] = response.status
            except (TimeoutError, aiohttp.ClientError):
                answered[payload["external_id"]] = 0

        tasks = []
        for i in range(BURST):
            tasks.append(asyncio.create_task(send(lead_payload(external_id=f"burst-{i}"))))
            if i == SIGTERM_AFTER:
                terminate()
            await asyncio.sleep(0.005)
        await asyncio.gather(*tasks)
    return answered


async def offers(database_url: str) -> dict[str, list[OutboxMessage]]:
    """Card rows of each stored lead's offers, by external id."""
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            rows = (
                await session.execute(
                    select(Lead.external_id, Lead.id, Handoff.id).join(Handoff, Handoff.lead_id == Lead.id)
                )
            ).all()
            cards = {
                m.message_key: m
                for m in (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "post"))).all()
            }
    finally:
        await database.dispose()
    found: dict[str, list[OutboxMessage]] = {}
    for external_id, lead_id, handoff_id in rows:
        card = cards.get(f"lead:{lead_id}:card:{handoff_id}")
        found.setdefault(external_id, []).extend([card] if card else [])
    return found


async def test_sigterm_mid_burst_loses_no_lead_the_api_accepted(tmp_path: Path, servers: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"
    first = servers(server_env(url)).start()
    await first.wait_ready()
    answered = await burst(first.url, first.terminate)
    assert await first.wait_exit() == 0, first.output()
    accepted = {k for k, status in answered.items() if status == 202}
    assert accepted, answered
    assert set(answered.values()) <= {202, 0}, answered  # refused connections, never errors
    stored = await offers(url)
    assert accepted <= set(stored), first.output()
    assert all(len(stored[k]) == 1 for k in accepted)  # one offer, one card each

    again = servers(server_env(url)).start()
    await again.wait_ready()
    again.terminate()
    assert await again.wait_exit() == 0, again.output()
    after = await offers(url)
    assert {k: len(after[k]) for k in accepted} == {k: 1 for k in accepted}
    # No chat platform is configured, so every card still waits to be sent: nothing was dropped.
    assert all(after[k][0].status == "pending" for k in accepted)
    assert "stopped" in again.output()
