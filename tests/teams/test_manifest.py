"""The Teams app package: a 1.25 manifest with the bot's id and commands, and the two icons."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from bot.cli.manifest_teams import teams as manifest_teams
from bot.teams.icons import color_icon, outline_icon
from bot.teams.manifest import BUILT_IN, DEFAULT_DIR, ManifestError, build_manifest, build_package, load_template
from tests.teams.conftest import SCHEMAS

APP_ID = "0a1b2c3d-1111-2222-3333-444455556666"


@pytest.fixture(scope="module")
def manifest_validator() -> Any:
    schema = json.loads((SCHEMAS / "teams-manifest-1.25.json").read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def png_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and colour type from the IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


def test_the_committed_manifest_is_valid_and_matches_the_built_in_copy(manifest_validator: Any) -> None:
    committed = json.loads((DEFAULT_DIR / "manifest.json").read_text())
    manifest_validator.validate(committed)
    assert committed == BUILT_IN


def test_the_manifest_lists_the_bots_commands() -> None:
    (bot,) = BUILT_IN["bots"]
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert titles == ["help", "define", "stats", "sla", "feedback", "lead", "my", "ooo"]


def test_the_committed_icons_are_192_colour_and_32_transparent_white() -> None:
    color, outline = (DEFAULT_DIR / "color.png").read_bytes(), (DEFAULT_DIR / "outline.png").read_bytes()
    assert png_size(color) == (192, 192, 6) and png_size(outline) == (32, 32, 6)
    assert color == color_icon() and outline == outline_icon()


def test_the_package_holds_the_manifest_with_the_app_id_and_both_icons(manifest_validator: Any) -> None:
    package = zipfile.ZipFile(io.BytesIO(build_package(APP_ID, version="1.2.3", domains=["baton.example.org"])))
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(package.read("manifest.json"))
    manifest_validator.validate(manifest)
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == "1.2.3" and manifest["validDomains"] == ["baton.example.org"]


@pytest.mark.parametrize("app_id, problem", [("not-a-guid", "--app-id"), ("", "--app-id")])
def test_a_bad_app_id_is_named(app_id: str, problem: str) -> None:
    template, _, _ = load_template()
    with pytest.raises(ManifestError, match=problem):
        build_manifest(template, app_id)


def test_the_cli_writes_the_zip(tmp_path: Path) -> None:
    out = tmp_path / "baton-teams.zip"
    result = CliRunner().invoke(manifest_teams, ["--app-id", APP_ID, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(zipfile.ZipFile(out).read("manifest.json"))["id"] == APP_ID


def test_the_cli_refuses_a_bad_app_id_without_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(manifest_teams, ["--app-id", "nope", "--out", str(tmp_path / "x.zip")])
    assert result.exit_code == 2 and "--app-id: 'nope' is not a GUID" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_baton_manifest_teams_is_registered_on_the_cli(tmp_path: Path) -> None:
    from bot.cli import cli

    out = tmp_path / "baton-teams.zip"
    result = CliRunner().invoke(cli, ["manifest", "teams", "--app-id", APP_ID, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert zipfile.is_zipfile(out)
