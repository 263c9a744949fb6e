"""Helpers for the production tests: real ``baton serve`` processes, webhook receivers, table scans."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.api.auth import signature_ok
from store.db import Database
from store.models import Base
from tests.conftest import INTAKE_TOKEN
from tests.factories import EXAMPLE_CONFIG

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "test-webhook-secret-not-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One ``baton serve`` subprocess; its output goes to ``log`` for the failure message."""

    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; main()", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        return self

    async def wait_ready(self, within: float = 30.0) -> None:
        """Poll ``/readyz`` until it answers 200 (start-up includes migrations)."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, self.output()
                try:
                    async with session.get(self.url + "/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"baton serve did not become ready:\n{self.output()}")

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    async def wait_exit(self, within: float = 30.0) -> int:
        assert self.process is not None
        deadline = time.monotonic() + within
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"baton serve did not stop after SIGTERM:\n{self.output()}")
            await asyncio.sleep(0.05)
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def server_env(database_url: str, config: Path = EXAMPLE_CONFIG, **extra: str) -> dict[str, str]:
    """A clean environment: only what ``baton serve`` needs (no Slack tokens unless given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "SLACK_", "MICROSOFT_"))}
    env.update(
        {
            "BATON_CONFIG": str(config),
            "BATON_DATABASE_URL": database_url,
            "BATON_INTAKE_TOKEN": INTAKE_TOKEN,
            "BATON_SHUTDOWN_GRACE": "5",
            "BATON_OUTBOX_INTERVAL": "0.2",
            "BATON_TIMER_INTERVAL": "0.2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@pytest.fixture
def servers(tmp_path: Path) -> Any:
    """Make ``Server``s; every one still running at the end is killed."""
    made: list[Server] = []

    def make(env: dict[str, str], name: str = "serve") -> Server:
        server = Server(free_port(), env, tmp_path / f"{name}-{len(made)}.log")
        made.append(server)
        return server

    yield make
    for server in made:
        server.kill()


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that verifies signatures and answers as told."""

    answers: list[int] = field(default_factory=list)  # statuses to answer in order; then 200
    retry_after: str | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    runner: web.AppRunner | None = None
    url: str = ""
    now: Callable[[], float] = time.time

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(
            {
                "headers": dict(request.headers),
                "body": body,
                "verified": signature_ok(
                    WEBHOOK_SECRET,
                    request.headers.get("X-Baton-Timestamp"),
                    request.headers.get("X-Baton-Signature"),
                    body,
                    now=self.now(),
                ),
            }
        )
        status = self.answers.pop(0) if self.answers else 200
        headers = {"Retry-After": self.retry_after} if self.retry_after and status != 200 else {}
        return web.json_response({"status": status}, status=status, headers=headers)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/hook"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Callable[..., Any]]:
    started: list[Receiver] = []

    async def make(**kwargs: Any) -> Receiver:
        found = await Receiver(**kwargs).start()
        started.append(found)
        return found

    yield make
    for found in started:
        await found.stop()


async def table_text(db: Database) -> dict[str, str]:
    """Every row of every table, every column rendered as text, lower-case: for "appears nowhere"."""
    out: dict[str, str] = {}
    async with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            out[table.name] = "\n".join(" | ".join(str(v) for v in row) for row in rows).lower()
    return out
