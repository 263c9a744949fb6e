"""The Teams app package: ``manifest.json`` (schema 1.25) with the bot's id, and the two icons, zipped.

``manifests/teams/`` holds the committed manifest (with a placeholder GUID) and icons; admins
may edit it (developer URLs, names). When it is absent (Baton installed as a package), the
built-in copy below is used; a test keeps the two identical.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from bot.teams.icons import color_icon, outline_icon
from handlers.queries.help import COMMAND_HELP
from handlers.text import _

PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "manifests" / "teams"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")

# The same words as the help answer (one help text); Teams allows 128 characters a description.
COMMANDS = [
    (command, _("help.manifest_command", usage=usage, what=_(what))[:128]) for command, usage, what in COMMAND_HELP
]

BUILT_IN: dict[str, Any] = {
    "$schema": "https://developer.microsoft.com/json-schemas/teams/v1.25/MicrosoftTeams.schema.json",
    "manifestVersion": "1.25",
    "version": "0.1.0",
    "id": PLACEHOLDER_ID,
    "developer": {
        "name": "Baton",
        "websiteUrl": "https://baton.example.com",
        "privacyUrl": "https://baton.example.com/privacy",
        "termsOfUseUrl": "https://baton.example.com/terms",
    },
    "name": {"short": "Baton", "full": "Baton: the marketing-to-sales lead handoff"},
    "description": {
        "short": "Qualified leads to the right rep, with why they qualified and an SLA.",
        "full": (
            "Baton carries each qualified lead from marketing to sales: the rep gets a card that says why "
            "the lead qualified, accepts or rejects it with a reason, and logs touches; managers get "
            "escalations with Reassign and Take over when an SLA is missed, and a weekly digest; marketing "
            "gets the rejection reasons. Ask it: help, define mql, stats, sla, feedback, lead <email>, "
            "my leads, ooo on|off."
        ),
    },
    "icons": {"color": "color.png", "outline": "outline.png"},
    "accentColor": "#2B5797",
    "bots": [
        {
            "botId": PLACEHOLDER_ID,
            "scopes": ["personal", "team", "groupChat"],
            "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": [
                {
                    "scopes": ["personal", "team", "groupChat"],
                    "commands": [{"title": title, "description": text} for title, text in COMMANDS],
                }
            ],
        }
    ],
    "permissions": ["identity", "messageTeamMembers"],
    "validDomains": [],
}


class ManifestError(ValueError):
    """A bad option for the package (names the option)."""


def load_template(directory: Path | None = None) -> tuple[dict[str, Any], bytes, bytes]:
    """The manifest and the (color, outline) icons from ``directory``, or the built-in ones."""
    folder = directory or DEFAULT_DIR
    manifest_file = folder / "manifest.json"
    if directory is None and not manifest_file.exists():
        return copy.deepcopy(BUILT_IN), color_icon(), outline_icon()
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        return manifest, (folder / "color.png").read_bytes(), (folder / "outline.png").read_bytes()
    except FileNotFoundError as exc:
        raise ManifestError(f"--template: {exc.filename} not found") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"--template: {manifest_file} is not valid JSON: {exc}") from None


def build_manifest(
    template: dict[str, Any], app_id: str, *, version: str | None = None, domains: list[str] | None = None
) -> dict[str, Any]:
    """``template`` with the app and bot ids set (a Teams app and its bot share the Azure app id)."""
    if not _GUID.match(app_id or ""):
        raise ManifestError(f"--app-id: {app_id!r} is not a GUID (the Azure bot's Microsoft App ID)")
    if version is not None and not _SEMVER.match(version):
        raise ManifestError(f"--version: {version!r} is not MAJOR.MINOR.PATCH")
    manifest = copy.deepcopy(template)
    manifest["id"] = app_id
    for bot in manifest.get("bots", []):
        bot["botId"] = app_id
    if version:
        manifest["version"] = version
    if domains:
        manifest["validDomains"] = sorted(set(domains))
    return manifest


def build_package(
    app_id: str, *, template_dir: Path | None = None, version: str | None = None, domains: list[str] | None = None
) -> bytes:
    """The zip to upload in Teams (Apps → Manage your apps → Upload an app)."""
    template, color, outline = load_template(template_dir)
    manifest = build_manifest(template, app_id, version=version, domains=domains)
    icons = manifest.get("icons", {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        # Teams wants the three files at the root of the zip, no folder.
        package.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        package.writestr(icons.get("color", "color.png"), color)
        package.writestr(icons.get("outline", "outline.png"), outline)
    return buffer.getvalue()
