"""Two real ``baton serve`` replicas on one PostgreSQL: every lead offered once, every click taken once,
every SLA timer step fired once, every digest sent once.

Needs BATON_TEST_DATABASE_URL (``.ci/run`` sets it). Slack runs in HTTP mode against a local fake of the
Web API; the test plays Slack by signing interaction requests to both replicas.
"""

from __future__ import annotations

import asyncio
import json
import time
import tomllib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select, update

from store.db import Database
from store.models import AuditEvent, Handoff, Lead, OutboxMessage, PeriodicRun, Timer, TimerStatus
from tests.conftest import PG_URL, auth
from tests.factories import EXAMPLE_CONFIG, lead_payload, make_agreement
from tests.fakes.slack_api import FakeSlack
from tests.production.conftest import Server, server_env

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set BATON_TEST_DATABASE_URL (see .ci/run)")

LEADS = 20
BOT_TOKEN = "xoxb-replica-test-not-secret"
SIGNING_SECRET = "replica-signing-secret-not-secret"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def config_with_digest_at(path: Path, at: datetime) -> Path:
    """The example agreement with the weekly digest due at ``at`` (UTC), so the test can watch it go out."""
    text = EXAMPLE_CONFIG.read_text()
    data = tomllib.loads(text)
    old = data["digest"]
    text = text.replace(
        f'[digest]\nday = "{old["day"]}"\ntime = "{old["time"]}"\ntimezone = "{old["timezone"]}"',
        f'[digest]\nday = "{DAYS[at.weekday()]}"\ntime = "{at:%H:%M}"\ntimezone = "UTC"',
    )
    assert f'time = "{at:%H:%M}"' in text
    path.write_text(text)
    return path


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def scalar(db: Database, query: Any) -> Any:
    async with db.transaction() as session:
        return await session.scalar(query)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def replicas(
    tmp_path: Path, servers: Any, fake_slack: FakeSlack, db: Database, database_url: str
) -> AsyncIterator[tuple[list[Server], datetime]]:
    """Two replicas sharing the test database; the digest falls due at the next minute at least 20 s away."""
    now = datetime.now(UTC)
    digest_at = (now + timedelta(seconds=80)).replace(second=0, microsecond=0)
    config = config_with_digest_at(tmp_path / "baton.toml", digest_at)
    env = server_env(
        database_url,
        config,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
    )
    pair = [servers(env, "replica-a").start(), servers(env, "replica-b").start()]
    await asyncio.gather(*(s.wait_ready(60) for s in pair))
    yield pair, digest_at
    for server in pair:
        server.terminate()
    codes = await asyncio.gather(*(s.wait_exit() for s in pair))
    assert codes == [0, 0], [s.output() for s in pair]


async def send_leads(pair: list[Server]) -> list[dict[str, Any]]:
    payloads = [lead_payload(external_id=f"replica-{i}", company=f"Replica {i} Corp") for i in range(LEADS)]
    async with aiohttp.ClientSession() as session:

        async def send(i: int, payload: dict[str, Any]) -> None:
            async with session.post(pair[i % 2].url + "/api/leads", json=payload, headers=auth()) as response:
                assert response.status == 202, await response.text()

        await asyncio.gather(*(send(i, p) for i, p in enumerate(payloads)))
    return payloads


async def click_accept_on_both(pair: list[Server], db: Database) -> None:
    """Each offered rep clicks Accept on their card, and the click reaches both replicas at once."""
    agreement = make_agreement()
    async with db.transaction() as session:
        handoffs = (await session.scalars(select(Handoff))).all()
    verifier = SignatureVerifier(SIGNING_SECRET)
    async with aiohttp.ClientSession() as http:

        async def click(server: Server, handoff: Handoff) -> None:
            person = agreement.person_by(email=handoff.rep or "")
            assert person is not None and person.slack_id
            payload = {
                "type": "block_actions",
                "user": {"id": person.slack_id, "team_id": "T0BATON"},
                "api_app_id": "A0BATON",
                "team": {"id": "T0BATON"},
                "trigger_id": f"t-{handoff.id}",
                "container": {"type": "message", "channel_id": "D0", "message_ts": "1764000000.000001"},
                "channel": {"id": "D0"},
                "response_url": f"{server.url}/nowhere",
                "actions": [
                    {
                        "action_id": "baton:accept",
                        "block_id": "b1",
                        "type": "button",
                        "value": f"v1:{handoff.lead_id}:{handoff.id}",
                        "action_ts": "1764000000.1",
                    }
                ],
            }
            body = urlencode({"payload": json.dumps(payload)})
            timestamp = str(int(time.time()))
            headers = {
                "X-Slack-Request-Timestamp": timestamp,
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body) or "",
            }
            async with http.post(server.url + "/slack/events", data=body, headers=headers) as response:
                assert response.status == 200, await response.text()

        await asyncio.gather(*(click(server, h) for h in handoffs for server in pair))


async def test_two_replicas_do_each_piece_of_work_exactly_once(
    replicas: tuple[list[Server], datetime], fake_slack: FakeSlack, db: Database
) -> None:
    pair, digest_at = replicas
    payloads = await send_leads(pair)

    # 1. Every lead offered once: one handoff, one card, one chat.postMessage naming it.
    async def cards_sent() -> bool:
        return bool(
            await scalar(
                db,
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.message_key.like("lead:%:card:%"),
                    OutboxMessage.kind == "post",
                    OutboxMessage.status == "sent",
                ),
            )
            == LEADS
        )

    await eventually(cards_sent, "every lead card to reach Slack")
    assert await scalar(db, select(func.count()).select_from(Handoff)) == LEADS
    posts = [json.dumps(c.body) for c in fake_slack.calls_to("chat.postMessage")]
    assert {p["company"]: sum(p["company"] in body for body in posts) for p in payloads} == {
        p["company"]: 1 for p in payloads
    }

    # 2. Every Accept, clicked on both replicas at once, is taken once.
    await click_accept_on_both(pair, db)

    async def all_accepted() -> bool:
        return bool(
            await scalar(db, select(func.count()).select_from(Handoff).where(Handoff.state == "accepted")) == LEADS
        )

    await eventually(all_accepted, "every offer to be accepted")
    async with db.transaction() as session:
        accepted = Counter(
            (await session.scalars(select(AuditEvent.lead_id).where(AuditEvent.action == "lead.accepted"))).all()
        )
    assert set(accepted.values()) == {1} and len(accepted) == LEADS

    # 3. Every due SLA timer fires once, whichever replica's sweep finds it.
    async with db.transaction() as session:
        due = list((await session.scalars(select(Timer.id).where(Timer.status == TimerStatus.PENDING))).all())
        await session.execute(
            update(Timer).where(Timer.id.in_(due)).values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert len(due) >= LEADS

    async def timers_fired() -> bool:
        return not await scalar(
            db, select(func.count()).select_from(Timer).where(Timer.id.in_(due), Timer.status == TimerStatus.PENDING)
        )

    await eventually(timers_fired, "the due SLA timers to fire")
    async with db.transaction() as session:
        steps = Counter(
            (lead_id, (after or {}).get("chain"))
            for lead_id, after in (
                await session.execute(
                    select(AuditEvent.lead_id, AuditEvent.after).where(AuditEvent.action.like("sla.%"))
                )
            ).all()
        )
        fired = (await session.scalars(select(Timer.status).where(Timer.id.in_(due)))).all()
    assert set(fired) == {TimerStatus.FIRED}
    # One step per chain was due (first touch, cadence check): one audit event each, never two.
    assert len(steps) == len(due) and set(steps.values()) == {1}

    # 4. The weekly digest goes out once, though both replicas run the job at the same minute.
    async def digest_sent() -> bool:
        if datetime.now(UTC) < digest_at:
            return False
        # The run first: its rows commit with it, so once it is seen they are too. (Asking in the
        # other order can see no unsent rows, then the run that commits them a moment later.)
        if not await scalar(db, select(func.count()).select_from(PeriodicRun).where(PeriodicRun.job == "digest")):
            return False
        digest_rows = (
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dedupe_key.like("slack:digest:%"))
        )
        unsent = await scalar(db, digest_rows.where(OutboxMessage.status != "sent"))
        return unsent == 0 and bool(await scalar(db, digest_rows))

    await eventually(digest_sent, "the weekly digest", within=150)
    async with db.transaction() as session:
        runs = (await session.scalars(select(PeriodicRun.instance).where(PeriodicRun.job == "digest"))).all()
        digests = (
            await session.scalars(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dedupe_key.like("slack:digest:%"))
            )
        ).one()
    assert len(runs) == 1 and digests >= 1
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == digests

    # Overall: Slack saw exactly one chat.postMessage per post row the outbox marked sent.
    async def settled() -> bool:
        return not await scalar(
            db,
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.platform == "slack", OutboxMessage.status == "pending"),
        )

    await eventually(settled, "the outbox to drain")
    async with db.transaction() as session:
        plain_posts = (
            await session.scalars(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.platform == "slack",
                    OutboxMessage.kind == "post",
                    OutboxMessage.status == "sent",
                    OutboxMessage.dedupe_key.is_(None) | ~OutboxMessage.dedupe_key.like("slack:digest:%"),
                )
            )
        ).one()
        leads = (await session.scalars(select(func.count()).select_from(Lead))).one()
    assert leads == LEADS
    assert len(fake_slack.calls_to("chat.postMessage")) == plain_posts
