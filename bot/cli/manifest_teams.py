"""``baton manifest teams --app-id GUID --out baton-teams.zip``: the Teams app package to upload.

The developer's name and URLs come from the options, else from ``BATON_TEAMS_DEVELOPER_NAME``,
``BATON_TEAMS_WEBSITE_URL``, ``BATON_TEAMS_PRIVACY_URL`` and ``BATON_TEAMS_TERMS_URL`` (the
settings), else from the template; a refusal names the option or variable the bad value came
from. Placeholders left in the package are named in a warning on stderr.
"""

from __future__ import annotations

from pathlib import Path

import click

from bot.settings import ConfigError, Settings, env_name, load_settings
from bot.teams.manifest import (
    DEVELOPER_OPTIONS,
    ManifestError,
    build_manifest,
    check_developer,
    load_template,
    placeholder_fields,
    zip_package,
)
from handlers.text import _

# Manifest developer field → the settings field that may carry it.
_DEVELOPER_SETTINGS = {
    "name": "teams_developer_name",
    "websiteUrl": "teams_website_url",
    "privacyUrl": "teams_privacy_url",
    "termsOfUseUrl": "teams_terms_url",
}


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        click.echo(_("cli.config.invalid", source=exc.source), err=True)
        for line in exc.problems:
            click.echo(f"  {line}", err=True)
        raise SystemExit(2) from None


def _developer(given: dict[str, str | None], settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    """The developer fields given (option first, then setting) and where each came from."""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for key, option in DEVELOPER_OPTIONS.items():
        field = _DEVELOPER_SETTINGS[key]
        value, configured = given[key], getattr(settings, field)
        if value is not None:
            values[key], sources[key] = value, option
        elif configured is not None:
            values[key], sources[key] = configured, env_name(field)
    return values, sources


@click.command("teams")
@click.option("--app-id", required=True, help="The Azure bot's Microsoft App ID (a GUID); also the Teams app id.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=Path("baton-teams.zip"),
    show_default=True,
    help="Where to write the zip.",
)
@click.option("--version", "version", default=None, help="App version (MAJOR.MINOR.PATCH); bump it on every upload.")
@click.option(
    "--domain",
    "domains",
    multiple=True,
    metavar="HOST",
    help="A host name the app may open (validDomains), e.g. baton.example.com or *.example.com; repeatable.",
)
@click.option(
    "--developer-name",
    default=None,
    help="Who publishes the app (up to 32 characters; default: $BATON_TEAMS_DEVELOPER_NAME).",
)
@click.option(
    "--website",
    default=None,
    metavar="https://…",
    help="The developer's website (default: $BATON_TEAMS_WEBSITE_URL).",
)
@click.option(
    "--privacy-url",
    default=None,
    metavar="https://…",
    help="The privacy statement (default: $BATON_TEAMS_PRIVACY_URL).",
)
@click.option(
    "--terms-url",
    default=None,
    metavar="https://…",
    help="The terms of use (default: $BATON_TEAMS_TERMS_URL).",
)
@click.option(
    "--template",
    "template",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A folder with manifest.json, color.png and outline.png (default: manifests/teams).",
)
def teams(
    app_id: str,
    out: Path,
    version: str | None,
    domains: tuple[str, ...],
    developer_name: str | None,
    website: str | None,
    privacy_url: str | None,
    terms_url: str | None,
    template: Path | None,
) -> None:
    """Build the Microsoft Teams app package (manifest 1.25, the bot's commands, the two icons)."""
    given = {"name": developer_name, "websiteUrl": website, "privacyUrl": privacy_url, "termsOfUseUrl": terms_url}
    try:
        developer = check_developer(*_developer(given, _settings()))
        base, color, outline = load_template(template)
        manifest = build_manifest(base, app_id.strip(), version=version, domains=list(domains), developer=developer)
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from None
    package = zip_package(manifest, color, outline)
    out.write_bytes(package)
    click.echo(_("cli.manifest.teams_written", out=out, size=f"{len(package):,}"))
    placeholders = placeholder_fields(manifest)
    if placeholders:
        fixes = "; ".join(
            _(
                "cli.manifest.placeholder_field",
                key=key,
                option=DEVELOPER_OPTIONS[key],
                env=env_name(_DEVELOPER_SETTINGS[key]),
            )
            for key in placeholders
        )
        click.echo(_("cli.manifest.placeholders", fixes=fixes), err=True)
