"""Sign-off in chat: an Agree per reviewer on the review reminder; both sides must agree."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.teams.invoke import handle
from handlers.agreement.signoff import AgreeData, agree, status_line, unsigned_flag
from handlers.agreement.versions import content_hash
from handlers.clock import ManualClock
from handlers.digest.review import build_reminders
from handlers.queries import answer
from handlers.services import Services
from handlers.views.actions import Action
from store.models import AgreementSignoff
from tests.factories import agreement_data, make_agreement

SALES = "morgan.manager@example.com"  # a team's manager
MARKETING = "mark.marketer@example.com"  # in roles.marketing


def _value(services: Services) -> str:
    return AgreeData(content_hash(services.agreement)).pack()


async def _count(services: Services) -> int:
    async with services.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(AgreementSignoff)) or 0)


async def test_both_sides_must_agree_and_define_says_who_and_when(services: Services, clock: ManualClock) -> None:
    assert await status_line(services) == "⚠ Nobody has signed off v2026.4, the running version."
    define = await answer(services, "define mql", SALES)
    assert define.context is not None and "⚠ Nobody has signed off v2026.4" in define.context

    first = await agree(services, _value(services), SALES, "test")
    assert first.ok and "still waiting for marketing" in first.message
    assert await unsigned_flag(services) is not None
    clock.advance(timedelta(days=1))
    second = await agree(services, _value(services), MARKETING, "test")
    assert second.ok and second.message == "Thank you: both sales and marketing have agreed to v2026.4."
    assert await unsigned_flag(services) is None
    define = await answer(services, "define mql", MARKETING)
    assert define.context is not None
    assert "Agreed by Morgan Manager on 23 Nov 2026, Mark Marketer on 24 Nov 2026." in define.context


async def test_a_second_click_changes_nothing_and_says_when(services: Services) -> None:
    await agree(services, _value(services), SALES, "test")
    again = await agree(services, _value(services), SALES.upper(), "test")
    assert again.ok and again.message == "You already agreed to this version on 23 Nov 2026."
    assert await _count(services) == 1


async def test_someone_who_is_not_a_reviewer_is_refused_politely(services: Services) -> None:
    outcome = await agree(services, _value(services), "alice@example.com", "test")
    assert not outcome.ok and outcome.code == "not_allowed"
    assert outcome.message.startswith("Only the agreement's reviewers can sign it off (Morgan Manager, Mark Marketer)")
    assert await _count(services) == 0


async def test_a_click_for_a_version_no_longer_running_is_refused(services: Services) -> None:
    old = AgreeData(content_hash(make_agreement(qualification={**agreement_data()["qualification"], "threshold": 40})))
    outcome = await agree(services, old.pack(), SALES, "test")
    assert not outcome.ok and "an earlier version" in outcome.message
    forged = await agree(services, "v1:agree:not-a-hash", SALES, "test")
    assert not forged.ok and forged.code == "invalid"
    assert await _count(services) == 0


async def test_the_review_reminder_carries_the_agree_button_and_the_status(
    services: Services, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=45))  # last changed 1 Oct, reviewed every 3 months: due on 1 Jan
    _key, messages = await build_reminders(services)
    assert {m.to_person for m in messages} == {SALES, MARKETING}
    (button,) = messages[0].notice.buttons
    assert button.action is Action.AGREE and button.value == _value(services)
    assert "⚠ Nobody has signed off v2026.4, the running version." in messages[0].notice.lines


async def test_teams_agree_goes_through_the_same_handler(services: Services) -> None:
    value = {"action": {"type": "Action.Execute", "verb": "agree", "data": {"value": _value(services)}}}
    answer_ = await handle(services, value, SALES)
    assert answer_["statusCode"] == 200 and "your agreement to v2026.4 is recorded" in answer_["value"]
    refused = await handle(services, value, "alice@example.com")
    assert "Only the agreement's reviewers" in refused["value"]
    assert await _count(services) == 1
