"""``baton manifest teams --app-id GUID --out baton-teams.zip``: the Teams app package to upload."""

from __future__ import annotations

from pathlib import Path

import click

from bot.teams.manifest import ManifestError, build_package


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
@click.option("--domain", "domains", multiple=True, help="A domain the app may open (validDomains); repeatable.")
@click.option(
    "--template",
    "template",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A folder with manifest.json, color.png and outline.png (default: manifests/teams).",
)
def teams(app_id: str, out: Path, version: str | None, domains: tuple[str, ...], template: Path | None) -> None:
    """Build the Microsoft Teams app package (manifest 1.25, the bot's commands, the two icons)."""
    try:
        package = build_package(app_id.strip(), template_dir=template, version=version, domains=list(domains))
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from None
    out.write_bytes(package)
    click.echo(
        f"Wrote {out} ({len(package):,} bytes). Upload it in Teams: Apps → Manage your apps → "
        "Upload an app (or the Teams admin center for the whole organisation)."
    )
