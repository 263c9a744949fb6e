"""With an app id, every token failure is a 401 logged as one line without a traceback, and
Microsoft's keys are fetched off the event loop: a hanging key endpoint blocks nothing else,
a failing one gives 503."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from bot.teams.keys import KeysUnavailable
from store.models import Conversation
from tests.fakes.bot_connector import FakeConnector
from tests.teams.conftest import install_personal
from tests.teams.signing import APP_ID, KID, Jwks, SignedTeams, bearer, claims, mint, rsa_key, signed_teams


async def conversations(signed: SignedTeams) -> int:
    async with signed.runtime.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Conversation)) or 0)


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.teams.component" and r.levelno >= logging.INFO]


async def send(signed: SignedTeams, connector: FakeConnector, headers: dict[str, str]) -> Any:
    return await signed.client.post(
        "/api/messages", json=install_personal(connector, "alice@example.com"), headers=headers
    )


async def test_a_token_signed_by_microsofts_key_is_accepted(
    signed: SignedTeams, connector: FakeConnector, signing_key: Any
) -> None:
    response = await send(signed, connector, bearer(mint(signing_key, claims(connector.url))))
    assert response.status == 201 and await conversations(signed) > 0


def _forged(case: str, key: Any, service_url: str) -> dict[str, str]:
    now = int(time.time())
    good = claims(service_url)
    public_pem = key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )
    tokens = {
        "unknown key id": lambda: mint(key, good, kid="not-a-published-key"),
        "no key id": lambda: mint(key, good, kid=None),
        "wrong algorithm (PS256)": lambda: mint(key, good, algorithm="PS256"),
        "HS256 with the public key as secret": lambda: _hs256(good, public_pem),
        "alg none": lambda: jwt.encode(good, None, algorithm="none", headers={"kid": KID}),
        "expired": lambda: mint(key, claims(service_url, exp=now - 3600, nbf=now - 7200, iat=now - 7200)),
        "not yet valid": lambda: mint(key, claims(service_url, nbf=now + 3600, iat=now + 3600)),
        "bad signature": lambda: mint(rsa_key(), good),
        "tampered payload": lambda: _tampered(mint(key, good)),
        "another app's audience": lambda: mint(key, claims(service_url, aud="someone-else")),
        "another issuer": lambda: mint(key, claims(service_url, iss="https://evil.example")),
        "another serviceurl claim": lambda: mint(key, claims("https://evil.example/")),
        "garbage": lambda: "abc.def.ghi",
        "not base64": lambda: "%%%.%%%.%%%",
    }
    if case == "missing header":
        return {}
    if case == "not bearer":
        return {"Authorization": "Basic " + mint(key, good)}
    return bearer(tokens[case]())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(payload: dict[str, Any], secret: bytes) -> str:
    """The classic key-confusion forgery: HMAC over the token with the public key as the secret
    (PyJWT refuses to make one, so it is built by hand)."""
    signing_input = (
        _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode()) + "." + _b64(json.dumps(payload).encode())
    )
    return signing_input + "." + _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    return ".".join((header, payload[:-4] + ("AAAA" if not payload.endswith("AAAA") else "BBBB"), signature))


CASES = [
    "unknown key id",
    "no key id",
    "wrong algorithm (PS256)",
    "HS256 with the public key as secret",
    "alg none",
    "expired",
    "not yet valid",
    "bad signature",
    "tampered payload",
    "another app's audience",
    "another issuer",
    "another serviceurl claim",
    "garbage",
    "not base64",
    "missing header",
    "not bearer",
]


@pytest.mark.parametrize("case", CASES)
async def test_a_bad_token_gets_401_one_log_line_no_traceback_and_changes_nothing(
    signed: SignedTeams, connector: FakeConnector, signing_key: Any, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    caplog.set_level(logging.INFO)
    response = await send(signed, connector, _forged(case, signing_key, connector.url))
    assert response.status == 401, await response.text()
    assert "token" in (await response.json())["error"]
    (line,) = refusals(caplog)
    assert line.getMessage().startswith("Teams: refused a request with 401")
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in caplog.records)
    assert await conversations(signed) == 0 and connector.calls == []


async def test_the_log_line_names_the_problem_but_not_the_token(
    signed: SignedTeams, connector: FakeConnector, signing_key: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    token = mint(signing_key, claims(connector.url, exp=int(time.time()) - 3600))
    await send(signed, connector, bearer(token))
    (line,) = refusals(caplog)
    assert "expired" in line.getMessage().lower() and token not in line.getMessage()


async def test_unknown_key_ids_do_not_refetch_the_keys_on_every_request(
    signed: SignedTeams, connector: FakeConnector, signing_key: Any, jwks: Jwks
) -> None:
    await send(signed, connector, bearer(mint(signing_key, claims(connector.url))))
    for n in range(5):
        response = await send(signed, connector, bearer(mint(signing_key, claims(connector.url), kid=f"forged-{n}")))
        assert response.status == 401
    assert jwks.requests == ["openid", "keys"]


async def test_concurrent_requests_on_a_cold_cache_share_one_key_fetch(
    signed: SignedTeams, connector: FakeConnector, signing_key: Any, jwks: Jwks
) -> None:
    token = bearer(mint(signing_key, claims(connector.url)))
    responses = await asyncio.gather(*(send(signed, connector, token) for _ in range(5)))
    assert [r.status for r in responses] == [201] * 5
    assert jwks.requests == ["openid", "keys"]


async def test_start_warms_the_key_cache(signed: SignedTeams, jwks: Jwks) -> None:
    await signed.component.start()
    assert signed.component._warming is not None
    await signed.component._warming
    assert jwks.requests == ["openid", "keys"] * 2  # the channel's and the Emulator's metadata


async def test_a_hanging_key_endpoint_blocks_no_other_request_and_ends_in_503(
    database_url: str, agreement: Any, clock: Any, db: Any, jwks: Jwks, connector: FakeConnector, signing_key: Any
) -> None:
    jwks.mode = "hang"
    async with signed_teams(database_url, agreement, clock, jwks, key_timeout=0.5) as signed:
        waiting = asyncio.create_task(send(signed, connector, bearer(mint(signing_key, claims(connector.url)))))
        await jwks.arrived.wait()  # the key fetch has started and hangs
        health = await signed.client.get("/healthz")
        assert health.status == 200 and not waiting.done()
        response = await waiting
        assert response.status == 503 and response.headers["Retry-After"] == "10"
        assert await conversations(signed) == 0


async def test_a_failing_key_endpoint_gives_503_and_changes_nothing(
    database_url: str,
    agreement: Any,
    clock: Any,
    db: Any,
    jwks: Jwks,
    connector: FakeConnector,
    signing_key: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    jwks.mode = "fail"
    caplog.set_level(logging.INFO)
    async with signed_teams(database_url, agreement, clock, jwks) as signed:
        response = await send(signed, connector, bearer(mint(signing_key, claims(connector.url))))
        assert response.status == 503 and "retry" in (await response.json())["error"]
        assert await conversations(signed) == 0
    assert all(r.exc_info is None for r in caplog.records)


async def test_keys_fetched_before_keep_working_when_a_refresh_fails(
    signed: SignedTeams, connector: FakeConnector, signing_key: Any, jwks: Jwks
) -> None:
    token = bearer(mint(signing_key, claims(connector.url)))
    assert (await send(signed, connector, token)).status == 201
    jwks.mode = "fail"
    signed.component.keys.max_age = 0.0  # every request now wants fresh keys
    assert (await send(signed, connector, token)).status == 201


async def test_a_key_source_that_cannot_reach_microsoft_raises_keys_unavailable(jwks: Jwks) -> None:
    jwks.mode = "fail"
    with pytest.raises(KeysUnavailable):
        await jwks.key_source().fetch("https://login.botframework.com/v1/.well-known/openidconfiguration")


def test_the_app_id_the_tests_sign_for_is_the_one_configured() -> None:
    assert claims("https://x.example/")["aud"] == APP_ID
