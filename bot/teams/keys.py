"""Microsoft's token-signing keys, fetched without blocking the event loop.

botbuilder's ``JwtTokenExtractor`` looks its keys up in a process-wide cache of
``_OpenIdMetadata`` objects, one per OpenID metadata URL, which refresh with blocking
``requests.get`` calls that have no timeout: one forged token on a cold cache could freeze
every request. ``KeySource`` takes those cache slots (the narrowest point botbuilder offers)
and fetches the metadata and its JWKS with aiohttp, bounded by a timeout, one fetch at a
time however many requests wait for it. A failed fetch raises ``KeysUnavailable`` (the
endpoint answers 503); a key id that is not published raises ``UnknownKey`` (401).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from botframework.connector.auth import AuthenticationConstants, GovernmentConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

# Every metadata URL botbuilder's validators read keys from (public and government clouds).
METADATA_URLS = (
    AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
    AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    GovernmentConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
    GovernmentConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
)
_MAX_DOCUMENT = 256 * 1024


class KeysUnavailable(Exception):
    """Microsoft's keys could not be fetched in time: the request cannot be checked now."""


class UnknownKey(PermissionError):
    """The token names a key id (or none) that the metadata does not publish."""


@dataclass(frozen=True)
class SigningKey:
    """What botbuilder reads from a key: ``public_key`` and ``endorsements``."""

    public_key: Any
    endorsements: list[str]


@dataclass
class _Metadata:
    """One metadata URL's keys, in the shape botbuilder's ``JwtTokenExtractor`` calls."""

    source: KeySource
    url: str
    keys: dict[str, SigningKey] = field(default_factory=dict)
    fetched_at: float | None = None
    failed_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, key_id: str | None) -> SigningKey:
        loop = asyncio.get_running_loop()
        if self.fetched_at is None or loop.time() - self.fetched_at > self.source.max_age:
            await self._refresh(loop.time())
        if (
            key_id not in self.keys
            and self.fetched_at is not None
            and loop.time() - self.fetched_at > self.source.min_refresh
        ):
            await self._refresh(loop.time())  # keys rotate: look again, at most once per min_refresh
        found = self.keys.get(key_id) if isinstance(key_id, str) else None
        if found is None:
            raise UnknownKey("the token's key id is not one Microsoft publishes")
        return found

    async def _refresh(self, asked_at: float) -> None:
        async with self.lock:
            now = asyncio.get_running_loop().time()
            if self.fetched_at is not None and self.fetched_at >= asked_at:
                return  # another request fetched while this one waited
            if self.failed_at is not None and now - self.failed_at < self.source.retry_failed:
                if self.keys:
                    return  # keep the keys we have until the next try
                raise KeysUnavailable("Microsoft's signing keys could not be fetched a moment ago")
            try:
                self.keys = await self.source.fetch(self.url)
            except KeysUnavailable as exc:
                self.failed_at = asyncio.get_running_loop().time()
                if not self.keys:
                    raise
                log.warning(
                    "Teams: refreshing Microsoft's signing keys failed (%s); using the ones fetched before", exc
                )
                return
            self.failed_at = None
            self.fetched_at = asyncio.get_running_loop().time()


class KeySource:
    """Fetches and caches the keys of every metadata URL botbuilder uses.

    ``redirect`` maps a metadata URL to the one actually fetched (tests point it at a local
    stand-in); ``timeout`` bounds each fetch of the metadata document and of its JWKS; after a
    failed fetch, requests get 503 at once for ``retry_failed`` seconds instead of each one
    waiting on Microsoft again (or keep using the keys fetched before, if there are any).
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        max_age: float = 24 * 3600,
        min_refresh: float = 300.0,
        retry_failed: float = 10.0,
        redirect: Mapping[str, str] | None = None,
    ) -> None:
        self.timeout = timeout
        self.retry_failed = retry_failed
        self.max_age = max_age
        self.min_refresh = min_refresh
        self.redirect = dict(redirect or {})
        self._metadata = {url: _Metadata(self, url) for url in METADATA_URLS}

    def install(self) -> None:
        """Take botbuilder's cache slots, so its validators read keys from here."""
        JwtTokenExtractor.metadataCache.update(self._metadata)

    def uninstall(self) -> None:
        for url, metadata in self._metadata.items():
            if JwtTokenExtractor.metadataCache.get(url) is metadata:
                del JwtTokenExtractor.metadataCache[url]

    async def warm(self, urls: tuple[str, ...] = METADATA_URLS[:2]) -> None:
        """Fetch the public cloud's keys ahead of the first request; a failure is only logged."""
        for url in urls:
            metadata = self._metadata[url]
            try:
                await metadata._refresh(asyncio.get_running_loop().time())
            except KeysUnavailable as exc:
                log.warning(
                    "Teams: could not fetch Microsoft's signing keys at start-up (%s); will retry on the first request",
                    exc,
                )

    async def fetch(self, url: str) -> dict[str, SigningKey]:
        """The keys published under ``url``'s metadata, by key id; ``KeysUnavailable`` on any failure."""
        target = self.redirect.get(url, url)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
                metadata = await _document(session, target)
                jwks_uri = metadata.get("jwks_uri")
                if not isinstance(jwks_uri, str):
                    raise KeysUnavailable(f"{target} names no jwks_uri")
                jwks = await _document(session, self.redirect.get(jwks_uri, jwks_uri))
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise KeysUnavailable(f"fetching {target} failed: {type(exc).__name__}") from None
        keys = jwks.get("keys")
        if not isinstance(keys, list):
            raise KeysUnavailable(f"the JWKS of {target} has no keys")
        return dict(
            _key(entry)
            for entry in keys
            if isinstance(entry, dict) and isinstance(entry.get("kid"), str) and _usable(entry)
        )


async def _document(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url) as response:
        if response.status != 200:
            raise KeysUnavailable(f"{url} answered {response.status}")
        body = await response.content.read(_MAX_DOCUMENT + 1)
    if len(body) > _MAX_DOCUMENT:
        raise KeysUnavailable(f"{url} sent more than {_MAX_DOCUMENT} bytes")
    try:
        document = json.loads(body)
    except ValueError:
        raise KeysUnavailable(f"{url} did not send JSON") from None
    if not isinstance(document, dict):
        raise KeysUnavailable(f"{url} did not send a JSON object")
    return document


def _usable(entry: dict[str, Any]) -> bool:
    try:
        RSAAlgorithm.from_jwk(json.dumps(entry))
    except Exception:  # a key we cannot read is skipped, not fatal: the others still verify
        return False
    return True


def _key(entry: dict[str, Any]) -> tuple[str, SigningKey]:
    endorsements = entry.get("endorsements")
    return entry["kid"], SigningKey(
        RSAAlgorithm.from_jwk(json.dumps(entry)),
        [e for e in endorsements if isinstance(e, str)] if isinstance(endorsements, list) else [],
    )
