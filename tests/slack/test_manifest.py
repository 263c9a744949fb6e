"""``baton manifest slack``: valid JSON with this deployment's URL, and the committed files kept in step."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from bot.slack.manifest import slack_manifest

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests" / "slack"


def test_the_manifest_command_fills_in_the_request_url_everywhere() -> None:
    result = CliRunner().invoke(cli, ["manifest", "slack", "--url", "https://baton.acme.example/"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    url = "https://baton.acme.example/slack/events"
    assert data["settings"]["event_subscriptions"]["request_url"] == url
    assert data["settings"]["interactivity"]["request_url"] == url
    assert data["features"]["slash_commands"][0]["url"] == url
    assert data["settings"]["socket_mode_enabled"] is False


def test_the_socket_mode_manifest_has_no_request_urls() -> None:
    result = CliRunner().invoke(cli, ["manifest", "slack", "--socket"])
    data = json.loads(result.output)
    assert data["settings"]["socket_mode_enabled"] is True and "request_url" not in result.output


def test_a_non_https_url_is_refused_with_a_clear_message() -> None:
    result = CliRunner().invoke(cli, ["manifest", "slack", "--url", "http://baton.local"])
    assert result.exit_code == 2 and "public https:// URL" in result.output


def test_the_scopes_are_the_minimum_baton_uses() -> None:
    assert slack_manifest()["oauth_config"]["scopes"]["bot"] == [
        "chat:write",
        "im:write",
        "commands",
        "app_mentions:read",
        "im:history",
        "files:write",
        "channels:history",
        "groups:history",
        "channels:read",
        "groups:read",
    ]


def test_the_committed_manifests_match_what_the_code_builds() -> None:
    assert json.loads((MANIFESTS / "manifest.json").read_text()) == slack_manifest()
    assert json.loads((MANIFESTS / "manifest.socket.json").read_text()) == slack_manifest(socket=True)
