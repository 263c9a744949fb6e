"""The weekly digest: content per audience, a PNG chart, exactly once, and a dry run that sends nothing."""

from __future__ import annotations

import asyncio
import base64

from sqlalchemy import func, select

from handlers.digest.chart import PNG_SIGNATURE, digest_chart
from handlers.digest.weekly import run_weekly_digest
from handlers.services import Services
from store.models import OutboxMessage, PeriodicRun
from tests.queries.conftest import Seeder


async def outbox_rows(services: Services) -> list[OutboxMessage]:
    async with services.db.transaction() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def values(message: object) -> dict[str, str]:
    return {f.label: f.value for f in message.notice.fields}  # type: ignore[attr-defined]


async def test_one_digest_per_manager_and_one_for_marketing(services: Services, week: Seeder) -> None:
    messages = await run_weekly_digest(services)
    assert [m.audience for m in messages] == [
        "manager:mia.manager@example.com",
        "manager:morgan.manager@example.com",
        "marketing",
    ]
    assert {m.period for m in messages} == {"2026-W47"}


async def test_manager_digest_has_the_teams_figures(services: Services, week: Seeder) -> None:
    morgan = next(m for m in await run_weekly_digest(services, dry_run=True) if "morgan" in m.audience)
    assert morgan.notice.title == "Weekly digest for enterprise, week 47"
    got = values(morgan)
    # L1, L2, L3, L4, L7; L2 accepted 40 minutes after a 30-minute deadline.
    assert got["MQLs"] == "5"
    assert got["Offers"] == "5: 4 accepted (80%), 1 rejected, 0 open"  # every state, so the parts add up
    assert (got["SLA misses"], got["Escalations"], got["Still unaccepted now"]) == ("1", "1", "0")
    assert [r[0] for r in morgan.notice.tables[0].rows] == ["Alice Example", "Bob Example"]
    assert morgan.notice.lines == [
        f"SLA missed: #{week.leads['L2'].id} Pat L2 (L2 Inc): Alice Example, accepted after the deadline"
    ]


async def test_manager_digest_lists_leads_still_unaccepted(services: Services, week: Seeder) -> None:
    mia = next(m for m in await run_weekly_digest(services, dry_run=True) if "mia" in m.audience)
    assert values(mia)["Still unaccepted now"] == "1"
    assert (
        f"Waiting: #{week.leads['L6'].id} Pat L6 (L6 Inc): David Example, still open, was due "
        "Thu 19 Nov 16:30 CET" in mia.notice.lines
    )


async def test_marketing_digest_has_volume_reasons_notes_and_sources(services: Services, week: Seeder) -> None:
    marketing = next(m for m in await run_weekly_digest(services, dry_run=True) if m.audience == "marketing")
    got = values(marketing)
    assert got["MQLs this week"].startswith("7 (target to date 46")
    assert got["Rejected"] == "2"
    reasons, sources, *_won = marketing.notice.tables  # then wins by source (and per rule)
    assert reasons.rows == [["No budget", "1"], ["No fit (size, title, geography)", "1"]]
    assert ["ebook", "Pricing guide", "1", "100%", "0"] in sources.rows
    assert ["webinar", "Q4 webinar", "6", "50%", "2"] in sources.rows
    assert marketing.notice.lines == ["“Too small” (No fit (size, title, geography), Bob Example)"]


async def test_each_digest_carries_a_png_chart_in_the_outbox(services: Services, week: Seeder) -> None:
    await run_weekly_digest(services)
    rows = await outbox_rows(services)
    images = [base64.b64decode(r.payload["image_b64"]) for r in rows]
    assert len(images) == 3
    assert all(image.startswith(PNG_SIGNATURE) and len(image) > 5000 for image in images)
    assert {r.payload["image_name"] for r in rows} == {"baton-digest-2026-W47.png"}


async def test_two_runs_send_one_set(services: Services, week: Seeder) -> None:
    first = await run_weekly_digest(services)
    second = await run_weekly_digest(services)
    assert (len(first), second) == (3, [])
    assert len(await outbox_rows(services)) == 3


async def test_concurrent_runs_send_one_set(services: Services, week: Seeder) -> None:
    results = await asyncio.gather(run_weekly_digest(services), run_weekly_digest(services))
    assert sorted(len(r) for r in results) == [0, 3]
    assert len(await outbox_rows(services)) == 3


async def test_dry_run_enqueues_and_claims_nothing(services: Services, week: Seeder) -> None:
    messages = await run_weekly_digest(services, dry_run=True)
    assert len(messages) == 3
    assert await outbox_rows(services) == []
    async with services.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PeriodicRun)) == 0


async def test_an_empty_week_still_sends_a_digest_with_a_chart(services: Services) -> None:
    messages = await run_weekly_digest(services, dry_run=True)
    assert all(m.image.startswith(PNG_SIGNATURE) for m in messages)
    assert values(messages[0])["Offers"] == "0: 0 accepted (n/a), 0 rejected, 0 open"


def test_chart_is_deterministic() -> None:
    args = ("week 47", [("MQL", 7), ("SAL", 4), ("SQL", 1)], [("No fit", 2), ("No budget", 1)])
    assert digest_chart(*args) == digest_chart(*args)
