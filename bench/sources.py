"""Leads per second through mapped sources, beside POST /api/leads, in the same run.

    .venv/bin/python bench/sources.py [--database-url URL] [--singles 300] [--batches 10] [--repeat 3]

Four measurements, each into a freshly migrated store, the server in this process on 127.0.0.1
(aiohttp AppRunner) and the client in the same event loop, one request after another:

* POST /api/leads, one lead per request (bearer token);
* POST /api/sources/hubspot, the HubSpot workflow-webhook preset, one contact per request, each
  signed with X-HubSpot-Signature-v3 (verified, its signature remembered against replay, the
  contact mapped by JMESPath and validated);
* POST /api/leads, batches of 100;
* POST /api/sources/salesforce, Outbound Messages of 100 notifications (SOAP parsed by
  defusedxml, organisation id checked, each sObject mapped, <Ack>true</Ack> answered).

The payloads are the test fixtures (the vendors' documented examples) with ids and emails made
unique. Every lead qualifies and is routed and carded (card rows in the outbox; no chat platform).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.intake import leads, reset  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.api.source_helpers import (  # noqa: E402
    SECRETS,
    SOURCES,
    XML,
    hubspot_contact,
    hubspot_headers,
    salesforce_message,
)
from tests.factories import EXAMPLE_CONFIG, make_agreement  # noqa: E402

TOKEN = "bench-token"


def hubspot_bodies(n: int, prefix: str) -> list[bytes]:
    out = []
    for i in range(n):
        contact = hubspot_contact(email=f"{prefix}{i}@hs{i % 97}.example")
        contact["vid"] = contact["canonical-vid"] = 10_000_000 + i
        out.append(json.dumps(contact).encode())
    return out


def salesforce_bodies(batches: int, prefix: str) -> list[bytes]:
    template = salesforce_message(100).decode()
    return [
        template.replace("AAA</sf:Id>", f"B{b}{prefix}</sf:Id>").replace("@sf-prospect", f"@{prefix}b{b}.sf").encode()
        for b in range(batches)
    ]


async def serve(url: str) -> tuple[Runtime, web.AppRunner, int]:
    await reset(url)
    settings = Settings(config_path=EXAMPLE_CONFIG, database_url=url, intake_token=TOKEN)
    runtime = Runtime(settings=settings, agreement=make_agreement(sources=SOURCES))
    await runtime.prepare()
    runtime.settings.with_source_secrets(SECRETS)
    runner = web.AppRunner(runtime.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runtime, runner, runner.addresses[0][1]


async def measure(url: str, kind: str, count: int) -> float:
    """Leads/s for one kind of request; ``count`` is requests (singles) or batches of 100."""
    runtime, runner, port = await serve(url)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(base) as client:
            if kind == "leads-1":
                bodies = [json.dumps(p).encode() for p in leads(count, "s")]
                path, total = "/api/leads", count
            elif kind == "leads-100":
                payload = leads(count * 100, "b")
                bodies = [json.dumps(payload[i : i + 100]).encode() for i in range(0, count * 100, 100)]
                path, total = "/api/leads", count * 100
            elif kind == "hubspot-1":
                bodies, path, total = hubspot_bodies(count, "h"), "/api/sources/hubspot", count
            else:
                bodies, path, total = salesforce_bodies(count, "f"), "/api/sources/salesforce", count * 100
            start = time.perf_counter()
            for body in bodies:
                headers: dict[str, Any]
                if kind.startswith("leads"):
                    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
                elif kind == "hubspot-1":
                    headers = hubspot_headers(f"{base}{path}", body, int(time.time() * 1000))
                else:
                    headers = XML
                async with client.post(path, data=body, headers=headers) as resp:
                    text = await resp.text()
                    assert resp.status in (200, 202), text
            elapsed = time.perf_counter() - start
        return total / elapsed
    finally:
        await runner.cleanup()
        await runtime.db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        print(
            f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus; {url.split('@')[-1]}"
        )
        plan = [
            ("POST /api/leads, 1 lead per request", "leads-1", args.singles),
            ("HubSpot preset, 1 contact per request", "hubspot-1", args.singles),
            ("POST /api/leads, 100 leads per request", "leads-100", args.batches),
            ("Salesforce Outbound Message, 100 per request", "salesforce-100", args.batches),
        ]
        for label, kind, count in plan:
            runs = [await measure(url, kind, count) for _ in range(args.repeat)]
            each = ", ".join(f"{r:.1f}" for r in runs)
            print(f"{label:48s} median {statistics.median(runs):8.1f} leads/s  (runs: {each})")


if __name__ == "__main__":
    asyncio.run(main())
