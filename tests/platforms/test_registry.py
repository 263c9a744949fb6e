"""Chat platforms as registered backends: ids as platform → id, and a third platform with no core edit."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.components import add_components
from bot.platforms import Platform, Registry, built_in
from bot.runtime import Component, Runtime
from bot.settings import Settings
from handlers.clock import ManualClock
from handlers.messaging.ports import Delivered, Delivery
from handlers.text.reach import unreachable_text
from scoring.agreement_check import AgreementError, load_agreement
from scoring.platforms import ChatPlatform
from scoring.reach import unreachable_reason
from tests.conftest import auth, make_settings
from tests.factories import agreement_data, lead_payload

PIGEON = ChatPlatform("pigeon", "Pigeon Post")


class PigeonSender:
    """A stand-in platform that records every message and lands each one."""

    platform = "pigeon"

    def __init__(self) -> None:
        self.sent: list[Delivery] = []

    def pacing_scopes(self, delivery: Delivery) -> tuple[str, ...]:
        return ()

    async def send(self, delivery: Delivery) -> Delivered | None:
        self.sent.append(delivery)
        return Delivered(
            channel=str(delivery.payload.get("user") or delivery.payload.get("channel")),
            message_id=f"m{len(self.sent)}",
        )


class PigeonComponent:
    name = "pigeon"

    def __init__(self) -> None:
        self.sender = PigeonSender()

    def mount(self, app: web.Application) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ready(self) -> str:
        return "ok"


def _pigeon_registry(component: PigeonComponent) -> Registry:
    def always(settings: Settings) -> bool:
        return True

    def build(runtime: Runtime) -> Component:
        return component

    return built_in().register(Platform(chat=PIGEON, enabled=always, component=build))


def _with_pigeon_ids() -> dict[str, Any]:
    """The example agreement with every rep and manager given a ``pigeon_id`` and each team channel a pigeon loft."""
    data = agreement_data()
    for team in data["teams"]:
        for person in team["reps"] + team.get("managers", []):
            person["pigeon_id"] = "P-" + person["email"].split("@")[0]
        if "channel" in team:
            team["channel"]["pigeon"] = f"loft-{team['name']}"
    return data


async def test_a_registered_third_platform_gets_the_lead_card_with_no_core_edit(
    database_url: str, clock: ManualClock
) -> None:
    component = PigeonComponent()
    registry = _pigeon_registry(component)
    agreement = load_agreement(_with_pigeon_ids(), registry.chat)
    runtime = Runtime(settings=make_settings(database_url), agreement=agreement, clock=clock, platforms=registry)
    await runtime.prepare()
    add_components(runtime)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    try:
        response = await client.post("/api/leads", json=lead_payload(), headers=auth())
        assert response.status in (200, 201, 202), await response.text()
        await runtime.worker.run_once()
    finally:
        await client.close()
        await runtime.db.dispose()
    cards = [d for d in component.sender.sent if d.payload.get("op") == "post"]
    assert cards, "the pigeon platform was sent nothing"
    assert cards[0].payload["view"]["type"] == "lead_card"
    assert str(cards[0].payload.get("user") or cards[0].payload.get("channel")).startswith(("P-", "loft-"))


def test_a_registered_platform_id_joins_the_chat_ids_in_registry_order() -> None:
    registry = _pigeon_registry(PigeonComponent())
    agreement = load_agreement(_with_pigeon_ids(), registry.chat)
    alice = agreement.person_by(email="alice@example.com")
    assert alice is not None
    assert list(alice.chat_ids.items()) == [("slack", "U0ALICE001"), ("pigeon", "P-alice")]
    assert agreement.person_by(platform="pigeon", id="P-alice") == alice
    assert registry.names() == ("slack", "teams", "pigeon")


def test_chat_ids_are_built_from_the_existing_config_keys() -> None:
    data = agreement_data()
    data["teams"][0]["reps"][0]["teams_id"] = "aad-alice"
    agreement = load_agreement(data)
    alice = agreement.person_by(email="alice@example.com")
    assert alice is not None and alice.chat_ids == {"slack": "U0ALICE001", "teams": "aad-alice"}
    assert agreement.person_by(teams_id="aad-alice") == alice
    assert agreement.person_by(platform="slack", id="U0ALICE001") == alice
    emea = agreement.team("emea")
    assert emea is not None and emea.channel is not None and emea.channel.ids == {"slack": "C0EMEASALES"}


def test_a_chat_ids_table_and_the_old_key_must_agree() -> None:
    data = agreement_data()
    data["teams"][0]["reps"][0]["chat_ids"] = {"slack": "U0SOMEONE"}
    with pytest.raises(AgreementError, match="`slack_id` and `chat_ids.slack` disagree"):
        load_agreement(data)


def test_an_id_for_a_platform_nobody_registered_is_refused() -> None:
    with pytest.raises(AgreementError, match=r"teams\[0\]\.reps\[0\]\.pigeon_id: unknown setting"):
        load_agreement(_with_pigeon_ids())


def test_a_channel_on_a_platform_nobody_registered_is_refused() -> None:
    data = agreement_data()
    data["channels"]["managers"] = {"slak": "C0TYPO"}
    with pytest.raises(AgreementError, match="unknown chat platform `slak`"):
        load_agreement(data)


def test_reach_words_a_registered_platform_by_its_own_name() -> None:
    registry = _pigeon_registry(PigeonComponent())
    agreement = load_agreement(_with_pigeon_ids(), registry.chat)
    alice = agreement.person_by(email="alice@example.com")
    assert alice is not None
    assert unreachable_reason(alice, {"pigeon"}, installed={}, platforms=registry.chat) is None
    found = unreachable_reason(alice, {"teams"}, installed={}, platforms=registry.chat)
    assert found is not None
    assert unreachable_text(found) == (
        "reachable on no enabled chat platform (has a slack_id but Slack is not configured; no teams_id, and no "
        "Teams conversation with Baton: they have not installed the app; has a pigeon_id but Pigeon Post is not "
        "configured)"
    )


def test_a_platform_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="already registered"):
        _pigeon_registry(PigeonComponent()).register(
            Platform(chat=PIGEON, enabled=lambda s: True, component=lambda rt: PigeonComponent())
        )


def test_the_built_in_registry_matches_the_settings_check() -> None:
    settings = make_settings("sqlite+aiosqlite://", teams_enabled=True)
    assert built_in().enabled(settings) == settings.chat_platforms == frozenset({"teams"})
