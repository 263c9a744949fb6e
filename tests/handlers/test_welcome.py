"""The welcome's words and its once-per-install record, without a chat platform."""

from __future__ import annotations

from handlers import welcome
from handlers.services import Services
from scoring.agreement import Agreement
from tests.factories import make_agreement


def _text(notice: object) -> str:
    return notice.plain_text()  # type: ignore[attr-defined]


def test_a_rep_is_told_what_baton_does_for_reps_and_what_to_type() -> None:
    text = _text(welcome.personal(make_agreement(), "alice@example.com"))
    assert "Hello Alice" in text
    assert "As a rep, you get new leads here" in text
    assert "my" in text and "help" in text
    assert "As a manager" not in text


def test_a_manager_hears_about_escalations_and_the_digest() -> None:
    text = _text(welcome.personal(make_agreement(), "morgan.manager@example.com"))
    assert "As a manager" in text and "weekly digest" in text and "As a rep" not in text


def test_marketing_hears_about_rejection_feedback() -> None:
    text = _text(welcome.personal(make_agreement(), "mark.marketer@example.com"))
    assert "every rejection comes back with its reason" in text
    assert "feedback" in text


def test_an_admin_with_no_other_role_is_welcomed_as_an_admin() -> None:
    text = _text(welcome.personal(make_agreement(), "revops@example.com"))
    assert "As an admin" in text and "baton config check" in text


def test_a_stranger_is_told_who_can_add_them_and_gets_no_role_lines() -> None:
    text = _text(welcome.personal(make_agreement(), "someone@else.example"))
    assert "I don't know you yet" in text and "revops@example.com" in text
    assert "As a rep" not in text and "As a manager" not in text


def test_a_team_channel_is_told_its_leads_will_be_posted_there() -> None:
    agreement: Agreement = make_agreement()
    text = _text(welcome.channel(agreement, "slack", ["C0EMEASALES"]))
    assert "I will post here:" in text and "new leads for team emea" in text


def test_the_managers_and_feedback_channels_are_told_what_they_get() -> None:
    agreement = make_agreement()
    assert "offers that wait too long" in _text(welcome.channel(agreement, "slack", ["C0SALESMGRS"]))
    assert "why sales rejected leads" in _text(welcome.channel(agreement, "slack", ["C0MKTGFEEDBK"]))


def test_a_channel_the_agreement_does_not_name_is_told_how_to_name_it() -> None:
    text = _text(welcome.channel(make_agreement(), "slack", ["C0RANDOM"]))
    assert "Nothing is set to be posted here yet" in text and "I will post here" not in text


async def test_a_place_is_welcomed_once_until_the_app_is_removed(services: Services) -> None:
    assert await welcome.first_time(services, "slack", "channel:C1", welcome.Place.CHANNEL)
    assert not await welcome.first_time(services, "slack", "channel:C1", welcome.Place.CHANNEL)
    assert await welcome.first_time(services, "teams", "channel:C1", welcome.Place.CHANNEL)  # another platform
    await welcome.forget(services, "slack", ["channel:C1"])
    assert await welcome.first_time(services, "slack", "channel:C1", welcome.Place.CHANNEL)
