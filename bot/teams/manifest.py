"""The Teams app package: ``manifest.json`` (schema 1.25) with the bot's id, and the two icons, zipped.

``manifests/teams/`` holds the committed manifest (with a placeholder GUID and placeholder
developer fields) and icons; admins may edit it. When it is absent (Baton installed as a
package), the built-in copy below is used; a test keeps the two identical. The app id, the
valid domains and the developer's name and URLs are given when the package is built; each is
checked here as Teams checks it on upload, so a bad value is refused before a zip is written.
"""

from __future__ import annotations

import copy
import io
import ipaddress
import json
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.teams.icons import color_icon, outline_icon
from handlers.queries.help import COMMAND_HELP
from handlers.text import _

PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "manifests" / "teams"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
# One DNS label: letters, digits and inner hyphens, 1 to 63 characters (RFC 1123).
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Teams' own token for the team's SharePoint site, allowed in validDomains as it is.
TEAM_SITE_DOMAIN = "{teamSiteDomain}"
MAX_DOMAINS = 16  # the 1.25 schema's maxItems for validDomains
MAX_URL = 2048  # the schema's maxLength for the developer URLs
MAX_DEVELOPER_NAME = 32  # the schema's maxLength for developer.name
# The manifest's developer fields and the options that set them.
DEVELOPER_OPTIONS = {
    "name": "--developer-name",
    "websiteUrl": "--website",
    "privacyUrl": "--privacy-url",
    "termsOfUseUrl": "--terms-url",
}

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


def _host_problem(host: str) -> str | None:
    """Why ``host`` (lower case, no wildcard) is not a fully qualified domain name, or None."""
    if len(host) > 253:
        return "is longer than the 253 characters a domain name may have"
    labels = host.split(".")
    for label in labels:
        if not label:
            return "has an empty label (two dots in a row, or a dot at either end)"
        if not _LABEL.match(label):
            return (
                f"has the label {label!r}: a label is 1-63 letters, digits or hyphens, not starting or ending "
                "with a hyphen (write an international name in its xn-- form)"
            )
    if len(labels) < 2:
        return "is not a fully qualified domain name (e.g. baton.example.com)"
    if labels[-1].isdigit():
        return "is not a domain name (its last label is a number)"
    return None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def check_domain(value: str) -> str:
    """``value`` as a validDomains entry (lower case), or ManifestError saying why Teams would refuse it.

    Teams takes host names only: no scheme, path or port. A wildcard stands for exactly one whole
    leading label (``*.example.com``; ``*.*.example.com`` for two), never for a top-level domain."""
    option = f"--domain {value!r}"
    if not value:
        raise ManifestError("--domain: an empty value; give a host name such as baton.example.com")
    if any(ch.isspace() for ch in value):
        raise ManifestError(f"{option}: contains a space; give one host name per --domain")
    if value.lower() == TEAM_SITE_DOMAIN.lower():
        return TEAM_SITE_DOMAIN
    if "://" in value:
        host = urlsplit(value).hostname or "baton.example.com"
        raise ManifestError(f"{option}: has a scheme; Teams wants the host name alone ({host!r}), without https://")
    if any(ch in value for ch in "/?#"):
        host = re.split(r"[/?#]", value, maxsplit=1)[0] or "baton.example.com"
        raise ManifestError(f"{option}: has a path; Teams wants the host name alone ({host!r})")
    if "@" in value:
        raise ManifestError(f"{option}: is not a host name (it has an @)")
    if _is_ip(value):
        raise ManifestError(f"{option}: is an IP address; Teams valid domains are domain names")
    if ":" in value:
        host, _colon, port = value.rpartition(":")
        if port.isdigit():
            raise ManifestError(f"{option}: has a port; Teams wants the host name alone ({host!r}), without :{port}")
        raise ManifestError(f"{option}: is not a host name (it has a colon)")
    domain = value.lower()
    if domain == "*":
        raise ManifestError(f"{option}: a bare * would allow every domain; give a domain after it (*.example.com)")
    labels = domain.split(".")
    wildcard = labels[0] == "*"
    while labels and labels[0] == "*":
        labels.pop(0)
    if any("*" in label for label in labels):
        raise ManifestError(f"{option}: a wildcard may only stand for whole leading labels, as in *.example.com")
    if wildcard and len(labels) == 1 and _LABEL.match(labels[0]):
        raise ManifestError(
            f"{option}: would allow every domain under a top-level domain; give a domain you control (*.example.com)"
        )
    problem = _host_problem(".".join(labels))
    if problem:
        raise ManifestError(f"{option}: {problem}")
    return domain


def check_domains(values: list[str]) -> list[str]:
    """Every value checked (the first bad one refused), duplicates dropped, sorted; at most 16."""
    domains = sorted({check_domain(value) for value in values})
    if len(domains) > MAX_DOMAINS:
        raise ManifestError(f"--domain: {len(domains)} domains given; a Teams manifest allows {MAX_DOMAINS}")
    return domains


def check_url(value: str, option: str) -> str:
    """``value`` if it is an https URL with a host, else ManifestError naming ``option``."""
    where = f"{option} {value!r}"
    if not value.strip():
        raise ManifestError(f"{option}: an empty value; give an https:// URL")
    if any(ch.isspace() for ch in value):
        raise ManifestError(f"{where}: contains a space; it must be an https:// URL")
    if len(value) > MAX_URL:
        raise ManifestError(f"{option}: the URL is {len(value)} characters; Teams allows {MAX_URL}")
    parts = urlsplit(value)
    if parts.scheme.lower() == "http":
        raise ManifestError(f"{where}: uses http; Teams requires https://")
    if parts.scheme.lower() != "https" or not value.lower().startswith("https://"):
        raise ManifestError(f"{where}: is not an https:// URL")
    host = parts.hostname
    if not host:
        raise ManifestError(f"{where}: has no host name")
    if parts.username is not None or parts.password is not None:
        raise ManifestError(f"{where}: must not carry a user name or password")
    try:
        _port = parts.port  # urllib raises on a port that is not a number from 0 to 65535
    except ValueError:
        raise ManifestError(f"{where}: has a port that is not a number from 0 to 65535") from None
    problem = None if _is_ip(host) else _host_problem(host)
    if problem:
        raise ManifestError(f"{where}: its host {problem}")
    return value


def check_developer_name(value: str, option: str) -> str:
    """``value`` trimmed, if it is 1 to 32 printable characters."""
    name = value.strip()
    if not name:
        raise ManifestError(f"{option}: an empty value; give the name of the organisation that publishes the app")
    if not name.isprintable():
        raise ManifestError(f"{option} {value!r}: contains a control character")
    if len(name) > MAX_DEVELOPER_NAME:
        raise ManifestError(f"{option} {value!r}: is {len(name)} characters; Teams allows {MAX_DEVELOPER_NAME}")
    return name


def check_developer(fields: dict[str, str], sources: dict[str, str] | None = None) -> dict[str, str]:
    """The given developer fields (keys of ``DEVELOPER_OPTIONS``), each checked; a refusal names
    ``sources[key]`` (where the value came from) or else the field's option."""
    checked: dict[str, str] = {}
    for key, value in fields.items():
        if key not in DEVELOPER_OPTIONS:
            raise ManifestError(f"developer.{key}: not a developer field Baton sets")
        option = (sources or {}).get(key, DEVELOPER_OPTIONS[key])
        checked[key] = check_developer_name(value, option) if key == "name" else check_url(value, option)
    return checked


def placeholder_fields(manifest: dict[str, Any]) -> list[str]:
    """The developer fields still holding the built-in placeholders (to be replaced before publishing)."""
    developer = manifest.get("developer", {})
    return [key for key, value in BUILT_IN["developer"].items() if developer.get(key) == value]


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
    template: dict[str, Any],
    app_id: str,
    *,
    version: str | None = None,
    domains: list[str] | None = None,
    developer: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``template`` with the app and bot ids set (a Teams app and its bot share the Azure app id),
    and the given version, valid domains and developer fields (each checked first)."""
    if not _GUID.match(app_id or ""):
        raise ManifestError(f"--app-id: {app_id!r} is not a GUID (the Azure bot's Microsoft App ID)")
    if version is not None and not _SEMVER.match(version):
        raise ManifestError(f"--version: {version!r} is not MAJOR.MINOR.PATCH")
    valid_domains = check_domains(domains or [])
    checked = check_developer(developer or {})
    manifest = copy.deepcopy(template)
    manifest["id"] = app_id
    for bot in manifest.get("bots", []):
        bot["botId"] = app_id
    if version:
        manifest["version"] = version
    if valid_domains:
        manifest["validDomains"] = valid_domains
    if checked:
        manifest["developer"] = {**manifest.get("developer", {}), **checked}
    return manifest


def build_package(
    app_id: str,
    *,
    template_dir: Path | None = None,
    version: str | None = None,
    domains: list[str] | None = None,
    developer: dict[str, str] | None = None,
) -> bytes:
    """The zip to upload in Teams (Apps → Manage your apps → Upload an app)."""
    template, color, outline = load_template(template_dir)
    manifest = build_manifest(template, app_id, version=version, domains=domains, developer=developer)
    return zip_package(manifest, color, outline)


def zip_package(manifest: dict[str, Any], color: bytes, outline: bytes) -> bytes:
    """The manifest and the two icons as the zip Teams takes."""
    icons = manifest.get("icons", {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        # Teams wants the three files at the root of the zip, no folder.
        package.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        package.writestr(icons.get("color", "color.png"), color)
        package.writestr(icons.get("outline", "outline.png"), outline)
    return buffer.getvalue()
