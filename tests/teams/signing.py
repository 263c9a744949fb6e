"""Real Bot Framework tokens for tests: an RSA key, a local OpenID metadata + JWKS stand-in on
127.0.0.1 in the shape Microsoft publishes (``jwks_uri``; keys with ``kid`` and ``endorsements``),
and a Baton runtime whose Teams component checks tokens against it.

The stand-in can be told to fail (500) or to hang until released, like an unreachable
login.botframework.com.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import AuthenticationConstants
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.algorithms import RSAAlgorithm

from bot.runtime import Runtime
from bot.teams.component import TeamsComponent
from bot.teams.keys import KeySource
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from tests.conftest import make_settings

APP_ID = "11111111-2222-3333-4444-555555555555"
KID = "baton-test-key-1"
ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Jwks:
    """Serves ``/openid`` (metadata naming ``/keys``) and ``/keys`` (the public JWKS)."""

    key: rsa.RSAPrivateKey
    mode: str = "ok"  # ok | fail | hang
    requests: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def openid(self, request: web.Request) -> web.Response:
        self.requests.append("openid")
        self.arrived.set()
        if self.mode == "hang":
            await self.release.wait()
        if self.mode == "fail":
            return web.json_response({"error": "unavailable"}, status=500)
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}/keys"})

    async def keys(self, request: web.Request) -> web.Response:
        self.requests.append("keys")
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return web.json_response({"keys": [{**public, "kid": KID, "use": "sig", "endorsements": ["msteams"]}]})

    async def start(self) -> Jwks:
        app = web.Application()
        app.router.add_get("/openid", self.openid)
        app.router.add_get("/keys", self.keys)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            await self.server.close()

    def key_source(self, timeout: float = 5.0) -> KeySource:
        metadata = f"{self.url}/openid"
        return KeySource(
            timeout=timeout,
            retry_failed=0.0,
            redirect={
                AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: metadata,
                AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: metadata,
            },
        )


def claims(service_url: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 10,
        "exp": now + 600,
        "iat": now - 10,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def mint(key: Any, payload: dict[str, Any], *, algorithm: str = "RS256", kid: str | None = KID) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


def mint_raw(key: rsa.RSAPrivateKey, payload: Any, kid: str = KID) -> str:
    """An RS256 token over any JSON payload (PyJWT refuses claims of the wrong type)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode()) + "." + b64(json.dumps(payload).encode())
    )
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class SignedTeams:
    runtime: Runtime
    component: TeamsComponent
    client: TestClient[web.Request, web.Application]


@asynccontextmanager
async def signed_teams(
    database_url: str, agreement: Agreement, clock: ManualClock, jwks: Jwks, key_timeout: float = 5.0, **settings: Any
) -> AsyncIterator[SignedTeams]:
    """A runtime whose Teams component has an app id and checks tokens against ``jwks``."""
    values: dict[str, Any] = {
        "teams_enabled": True,
        "microsoft_app_id": APP_ID,
        "microsoft_app_password": "not-a-real-secret",
    } | settings
    runtime = Runtime(settings=make_settings(database_url, **values), agreement=agreement, clock=clock)
    component = TeamsComponent(runtime.settings, runtime.services, keys=jwks.key_source(key_timeout))
    runtime.add(component)
    await runtime.prepare()
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    try:
        yield SignedTeams(runtime, component, client)
    finally:
        await client.close()
        await component.stop()
        await runtime.db.dispose()
