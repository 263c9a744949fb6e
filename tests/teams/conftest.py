"""Teams fixtures: an agreement whose people have AAD ids, a runtime with the Teams component
(CloudAdapter, no app id: the Emulator's local mode), the fake connector, and activity builders."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.teams.component import TeamsComponent
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from scoring.agreement_check import load_agreement
from store.db import Database
from tests.conftest import make_settings
from tests.factories import agreement_data
from tests.fakes.bot_connector import FakeConnector

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
BOT_ID = "28:baton-bot"
TENANT = "tenant-0001"
MARKETING_CHANNEL = "19:marketing@thread.tacv2"
MANAGERS_CHANNEL = "19:managers@thread.tacv2"
EMEA_CHANNEL = "19:emea-sales@thread.tacv2"
AAD = {
    "alice@example.com": "aad-alice",
    "bob@example.com": "aad-bob",
    "clara@example.com": "aad-clara",
    "david@example.com": "aad-david",
    "morgan.manager@example.com": "aad-morgan",
    "mark.marketer@example.com": "aad-mark",
}
_ids = itertools.count(1)


def teams_agreement_data(**overrides: Any) -> dict[str, Any]:
    """The example agreement with Teams ids for the enterprise team and Teams channels."""
    data = agreement_data(**overrides)
    for team in data["teams"]:
        for person in team.get("reps", []) + team.get("managers", []):
            if person["email"] in AAD:
                person["teams_id"] = AAD[person["email"]]
        if team.get("channel"):
            team["channel"]["teams"] = EMEA_CHANNEL
    data["channels"]["marketing_feedback"]["teams"] = MARKETING_CHANNEL
    data["channels"]["managers"]["teams"] = MANAGERS_CHANNEL
    return data


@pytest.fixture
def agreement() -> Agreement:
    return load_agreement(teams_agreement_data())


@pytest.fixture(scope="session")
def card_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "adaptive-card-1.5.json").read_text())
    cls = jsonschema.validators.validator_for(schema)  # the file declares draft-06
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    yield fake
    await fake.close()


@pytest.fixture
async def teams_runtime(
    database_url: str, agreement: Agreement, clock: ManualClock, db: Database
) -> AsyncIterator[Runtime]:
    # The tenant's 50 requests a second as a burst: these tests send several cards at one frozen instant.
    settings = make_settings(database_url, teams_enabled=True, pace_teams_tenant="50/1s burst 50")
    rt = Runtime(settings=settings, agreement=agreement, clock=clock)
    rt.add(TeamsComponent(rt.settings, rt.services))
    await rt.prepare()
    yield rt
    await rt.db.dispose()


@pytest.fixture
async def teams(teams_runtime: Runtime) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(teams_runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


def user(email: str) -> dict[str, Any]:
    aad = AAD.get(email, f"aad-{email}")
    return {"id": f"29:{aad}", "aadObjectId": aad, "name": email.split("@")[0]}


def personal_conversation(email: str) -> dict[str, Any]:
    return {"id": f"a:personal-{AAD.get(email, email)}", "conversationType": "personal", "tenantId": TENANT}


def activity(
    connector: FakeConnector, kind: str, sender: dict[str, Any], conversation: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "id": f"incoming-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": sender,
        "recipient": {"id": BOT_ID, "name": "Baton"},
        "conversation": conversation,
        "channelData": {"tenant": {"id": TENANT}},
        **fields,
    }


def install_personal(connector: FakeConnector, email: str) -> dict[str, Any]:
    return activity(
        connector, "conversationUpdate", user(email), personal_conversation(email), membersAdded=[{"id": BOT_ID}]
    )


def install_channel(connector: FakeConnector, channel: str, installer: str) -> dict[str, Any]:
    body = activity(
        connector,
        "conversationUpdate",
        user(installer),
        {"id": channel, "conversationType": "channel", "tenantId": TENANT},
        membersAdded=[{"id": BOT_ID}],
    )
    body["channelData"].update({"channel": {"id": channel}, "team": {"id": channel}})
    return body


SALES_TEAM = "19:sales-general@thread.tacv2"  # a team's id is its General channel's id


def team_event(
    connector: FakeConnector, kind: str, installer: str, team: str = SALES_TEAM, **fields: Any
) -> dict[str, Any]:
    """An activity in a team's General channel, as Teams sends its install and channel events."""
    body = activity(
        connector,
        kind,
        user(installer),
        {"isGroup": True, "id": team, "conversationType": "channel", "tenantId": TENANT},
        **fields,
    )
    body["channelData"].update({"team": {"id": team, "name": "Sales", "aadGroupId": "group-sales"}})
    return body


def install_team(connector: FakeConnector, installer: str, team: str = SALES_TEAM) -> dict[str, Any]:
    """Adding the app to a team: a conversationUpdate in General with ``eventType`` teamMemberAdded."""
    body = team_event(connector, "conversationUpdate", installer, team, membersAdded=[{"id": BOT_ID}])
    body["channelData"]["eventType"] = "teamMemberAdded"
    return body


def installation_update(
    connector: FakeConnector, installer: str, action: str, team: str = SALES_TEAM
) -> dict[str, Any]:
    """The installationUpdate Teams sends beside it (``action`` add, remove, add-upgrade …)."""
    body = team_event(connector, "installationUpdate", installer, team, action=action)
    body["channelData"]["settings"] = {"selectedChannel": {"id": team}}
    return body


def message(connector: FakeConnector, email: str, text: str) -> dict[str, Any]:
    return activity(connector, "message", user(email), personal_conversation(email), text=text)


def card_action(
    connector: FakeConnector, email: str, verb: str, value: str | None, channel: str | None = None, **inputs: Any
) -> dict[str, Any]:
    """A button press on a card in ``email``'s personal chat (or in ``channel``)."""
    data: dict[str, Any] = dict(inputs)
    if value is not None:
        data["value"] = value
    conversation = (
        {"id": f"{channel};messageid=1", "conversationType": "channel", "tenantId": TENANT}
        if channel
        else personal_conversation(email)
    )
    return activity(
        connector,
        "invoke",
        user(email),
        conversation,
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": verb, "data": data}},
    )


@pytest.fixture(scope="session")
def signing_key() -> Any:
    from tests.teams.signing import rsa_key

    return rsa_key()


@pytest.fixture
async def jwks(signing_key: Any) -> AsyncIterator[Any]:
    """A local stand-in for Microsoft's OpenID metadata and signing keys (tests.teams.signing)."""
    from tests.teams.signing import Jwks

    stand_in = await Jwks(signing_key).start()
    yield stand_in
    await stand_in.stop()


@pytest.fixture
async def signed(
    database_url: str, agreement: Agreement, clock: ManualClock, db: Database, jwks: Any
) -> AsyncIterator[Any]:
    """Baton with a Teams app id: every request needs a real token signed by ``jwks``'s key."""
    from tests.teams.signing import signed_teams

    async with signed_teams(database_url, agreement, clock, jwks) as found:
        yield found
