"""``baton serve`` warns at start about a rep no configured chat platform reaches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.factories import EXAMPLE_CONFIG
from tests.production.conftest import free_port, server_env


async def test_serve_logs_a_warning_for_an_unreachable_rep(tmp_path: Path, servers: Any, database_url: str) -> None:
    config = tmp_path / "baton.toml"
    config.write_text(EXAMPLE_CONFIG.read_text().replace('slack_id = "U0BOB00001"\n', ""))
    # Nothing listens at SLACK_API_URL: Slack's check is degraded, which keeps the replica ready.
    env = server_env(
        database_url,
        config,
        SLACK_BOT_TOKEN="xoxb-not-secret",
        SLACK_SIGNING_SECRET="not-secret",
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",
    )
    server = servers(env).start()
    await server.wait_ready(60)
    server.terminate()
    assert await server.wait_exit() == 0
    warnings = [line for line in server.output().splitlines() if " WARNING bot.runtime: " in line]
    # Emails are masked in logs above debug level; the path names the rep.
    assert any(
        line.endswith(
            "teams[0].reps[1] [email]: reachable on no enabled chat platform (no slack_id); "
            "routing gives this rep no leads"
        )
        for line in warnings
    ), warnings
    assert not any("teams[0].reps[0]" in line for line in warnings)
