"""`baton manifest teams` options: valid domains as Teams takes them, the developer's name and
https URLs from the options or the settings, and a warning while placeholders remain."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from bot.cli.manifest_teams import teams as manifest_teams
from bot.teams.manifest import BUILT_IN, ManifestError, check_domain, check_url
from tests.teams.conftest import SCHEMAS

APP_ID = "0a1b2c3d-1111-2222-3333-444455556666"
DEVELOPER_ENV = (
    "BATON_TEAMS_DEVELOPER_NAME",
    "BATON_TEAMS_WEBSITE_URL",
    "BATON_TEAMS_PRIVACY_URL",
    "BATON_TEAMS_TERMS_URL",
)
DEVELOPER_OPTIONS = [
    "--developer-name",
    "Example Sales Ops",
    "--website",
    "https://sales.example.org/baton",
    "--privacy-url",
    "https://sales.example.org/privacy",
    "--terms-url",
    "https://sales.example.org/terms",
]


@pytest.fixture(scope="module")
def manifest_validator() -> Any:
    schema = json.loads((SCHEMAS / "teams-manifest-1.25.json").read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def build(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[Result, Path]:
    """Run the command with the developer variables unset unless ``env`` gives them."""
    out = tmp_path / "baton-teams.zip"
    environment: dict[str, str | None] = dict.fromkeys(DEVELOPER_ENV)
    environment.update(env or {})
    result = CliRunner().invoke(manifest_teams, ["--app-id", APP_ID, "--out", str(out), *args], env=environment)
    return result, out


def manifest_in(out: Path) -> Any:
    return json.loads(zipfile.ZipFile(out).read("manifest.json"))


@pytest.mark.parametrize(
    "domain, reason",
    [
        ("https://baton.example.com", "has a scheme"),
        ("baton.example.com/api", "has a path"),
        ("baton.example.com:8443", "has a port"),
        ("*", "a bare * would allow every domain"),
        ("", "an empty value"),
        ("baton example.com", "contains a space"),
        ("203.0.113.7", "is an IP address"),
        ("[2001:db8::1]", "is an IP address"),
        ("*.com", "every domain under a top-level domain"),
        ("a.*.example.com", "whole leading labels"),
        ("localhost", "not a fully qualified domain name"),
        ("baton..example.com", "an empty label"),
        ("-baton.example.com", "has the label '-baton'"),
    ],
)
def test_the_cli_refuses_a_domain_teams_would_refuse_and_writes_nothing(
    tmp_path: Path, domain: str, reason: str
) -> None:
    result, out = build(tmp_path, "--domain", "baton.example.com", "--domain", domain)
    assert result.exit_code == 2, result.output
    assert f"--domain {domain!r}" in result.stderr or (domain == "" and "--domain: an empty value" in result.stderr)
    assert reason in result.stderr
    assert "Traceback" not in result.output and not out.exists()


def test_a_scheme_refusal_suggests_the_host_alone() -> None:
    with pytest.raises(ManifestError, match=r"host name alone \('baton\.example\.com'\)"):
        check_domain("https://baton.example.com/api")


@pytest.mark.parametrize(
    "domain, kept",
    [
        ("baton.example.com", "baton.example.com"),
        ("Baton.Example.COM", "baton.example.com"),
        ("*.example.com", "*.example.com"),
        ("*.*.example.com", "*.*.example.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("{teamsitedomain}", "{teamSiteDomain}"),
    ],
)
def test_host_names_and_leading_wildcards_are_accepted(domain: str, kept: str) -> None:
    assert check_domain(domain) == kept


def test_accepted_domains_reach_the_manifest_sorted_without_duplicates(tmp_path: Path, manifest_validator: Any) -> None:
    args = ["--domain", "baton.example.com", "--domain", "*.example.org", "--domain", "BATON.example.com"]
    result, out = build(tmp_path, *args)
    assert result.exit_code == 0, result.output
    manifest = manifest_in(out)
    assert manifest["validDomains"] == ["*.example.org", "baton.example.com"]
    manifest_validator.validate(manifest)


def test_more_domains_than_a_manifest_holds_are_refused(tmp_path: Path) -> None:
    args = [arg for n in range(17) for arg in ("--domain", f"h{n}.example.com")]
    result, out = build(tmp_path, *args)
    assert result.exit_code == 2 and "17 domains given; a Teams manifest allows 16" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://sales.example.org/privacy", "uses http; Teams requires https://"),
        ("sales.example.org/privacy", "is not an https:// URL"),
        ("not a url", "contains a space"),
        ("ftp://sales.example.org/privacy", "is not an https:// URL"),
        ("https://", "has no host name"),
        ("https:///privacy", "has no host name"),
        ("https://user:pw@sales.example.org/", "must not carry a user name or password"),
        ("https://sales.example.org:99999/", "has a port that is not a number"),
        ("https://sales..example.org/", "its host has an empty label"),
        ("", "an empty value"),
    ],
)
def test_the_cli_refuses_a_developer_url_that_is_not_https_with_a_host(tmp_path: Path, url: str, reason: str) -> None:
    result, out = build(tmp_path, "--privacy-url", url)
    assert result.exit_code == 2, result.output
    assert "--privacy-url" in result.stderr and reason in result.stderr
    assert "Traceback" not in result.output and not out.exists()


def test_a_url_longer_than_the_schema_allows_is_refused() -> None:
    with pytest.raises(ManifestError, match="Teams allows 2048"):
        check_url("https://sales.example.org/" + "a" * 2048, "--website")


@pytest.mark.parametrize(
    "name, reason", [("", "an empty value"), ("   ", "an empty value"), ("x" * 33, "is 33 characters; Teams allows 32")]
)
def test_the_cli_refuses_a_developer_name_teams_would_refuse(tmp_path: Path, name: str, reason: str) -> None:
    result, out = build(tmp_path, "--developer-name", name)
    assert result.exit_code == 2 and "--developer-name" in result.stderr and reason in result.stderr
    assert not out.exists()


def test_the_developer_fields_from_the_options_are_in_the_package_and_it_validates(
    tmp_path: Path, manifest_validator: Any
) -> None:
    result, out = build(tmp_path, *DEVELOPER_OPTIONS, "--domain", "baton.example.org")
    assert result.exit_code == 0, result.output
    manifest = manifest_in(out)
    assert manifest["developer"] == {
        "name": "Example Sales Ops",
        "websiteUrl": "https://sales.example.org/baton",
        "privacyUrl": "https://sales.example.org/privacy",
        "termsOfUseUrl": "https://sales.example.org/terms",
    }
    manifest_validator.validate(manifest)


def test_the_developer_fields_come_from_the_settings_when_no_option_gives_them(tmp_path: Path) -> None:
    env = {
        "BATON_TEAMS_DEVELOPER_NAME": "Env Sales Ops",
        "BATON_TEAMS_WEBSITE_URL": "https://env.example.org/",
        "BATON_TEAMS_PRIVACY_URL": "https://env.example.org/privacy",
        "BATON_TEAMS_TERMS_URL": "https://env.example.org/terms",
    }
    result, out = build(tmp_path, "--website", "https://option.example.org/", env=env)
    assert result.exit_code == 0, result.output
    developer = manifest_in(out)["developer"]
    assert developer["name"] == "Env Sales Ops" and developer["privacyUrl"] == "https://env.example.org/privacy"
    assert developer["websiteUrl"] == "https://option.example.org/"
    assert "placeholder" not in result.stderr


def test_a_bad_setting_is_refused_by_its_variable_name(tmp_path: Path) -> None:
    result, out = build(tmp_path, env={"BATON_TEAMS_TERMS_URL": "http://env.example.org/terms"})
    assert result.exit_code == 2
    assert "BATON_TEAMS_TERMS_URL 'http://env.example.org/terms': uses http" in result.stderr
    assert not out.exists()


def test_the_placeholders_are_kept_with_a_warning_when_no_developer_field_is_given(tmp_path: Path) -> None:
    result, out = build(tmp_path)
    assert result.exit_code == 0, result.output
    assert manifest_in(out)["developer"] == BUILT_IN["developer"]
    assert "Warning: these developer fields still hold placeholders" in result.stderr
    assert "before publishing" in result.stderr and "Warning" not in result.stdout
    for option in ("--developer-name", "--website", "--privacy-url", "--terms-url"):
        assert option in result.stderr


def test_the_warning_names_only_the_fields_still_holding_placeholders(tmp_path: Path) -> None:
    result, _ = build(tmp_path, *DEVELOPER_OPTIONS[:4])
    assert result.exit_code == 0, result.output
    warning = result.stderr
    assert "privacyUrl (--privacy-url" in warning and "termsOfUseUrl (--terms-url" in warning
    assert "--developer-name" not in warning and "--website" not in warning


def test_no_warning_once_every_developer_field_is_given(tmp_path: Path) -> None:
    result, _ = build(tmp_path, *DEVELOPER_OPTIONS)
    assert result.exit_code == 0 and result.stderr == ""
