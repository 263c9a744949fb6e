"""[[sources]] in the agreement: what is refused at load, and how a record maps to a lead."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from scoring.agreement_check import AgreementError
from scoring.sources import Source, map_record
from tests.api.source_helpers import SOURCES, hubspot_contact
from tests.factories import EXAMPLE_CONFIG, make_agreement


def refusal(sources: list[dict[str, Any]]) -> str:
    with pytest.raises(AgreementError) as exc:
        make_agreement(sources=sources)
    return str(exc.value)


def bearer(**extra: Any) -> dict[str, Any]:
    return {
        "name": "forms",
        "auth": {"kind": "bearer", "secret_env": "BATON_SOURCE_FORMS"},
        "fields": {"external_id": "id", "email": "email"},
        **extra,
    }


def test_the_example_sources_load() -> None:
    agreement = make_agreement(sources=SOURCES)
    assert [s.name for s in agreement.sources] == [
        "hubspot",
        "salesforce",
        "forms",
        "flow",
        "marketo",
        "forms-each",
        "dialer",
        "deals",
        "signed",
    ]
    assert agreement.source("nope") is None


@pytest.mark.parametrize(
    ("source", "named"),
    [
        (bearer(fields={"external_id": "id", "email": "email[?"}), "not a JMESPath expression"),
        (bearer(fields={"external_id": "id", "email": "email", "shoe_size": "x"}), "not lead fields: shoe_size"),
        (bearer(auth={"kind": "bearer", "secret_env": "HOME"}), "BATON_SOURCE_"),
        (bearer(auth={"kind": "bearer"}), "needs secret_env"),
        (bearer(fields={"email": "email"}), "at least external_id and email"),
        (bearer(name="Has Spaces"), "name"),
        (bearer(preset="hubspot"), "kind = 'hubspot'"),
        ({"name": "sf", "preset": "salesforce", "auth": {"kind": "salesforce"}}, "organization_id"),
        ({"name": "sf", "preset": "salesforce", "auth": {"kind": "salesforce", "organization_id": "abc"}}, "00D"),
        (bearer(unknown="x"), "unknown"),
    ],
)
def test_a_bad_source_is_refused_at_load_naming_the_problem(source: dict[str, Any], named: str) -> None:
    assert named.lower() in refusal([source]).lower()


def test_two_sources_with_one_name_are_refused() -> None:
    assert "unique: forms" in refusal([bearer(), bearer()])


def test_empty_strings_are_missing_and_defaults_fill_them() -> None:
    source = Source.model_validate(bearer(defaults={"country": "US"}, fields={**bearer()["fields"], "country": "c"}))
    assert map_record(source, {"id": 7, "email": "a@b.example", "c": "  "}) == {
        "external_id": "7",
        "email": "a@b.example",
        "country": "US",
    }


def test_the_hubspot_preset_reads_the_workflow_contact() -> None:
    source = Source.model_validate(SOURCES[0])
    lead = map_record(source, hubspot_contact())
    assert lead["external_id"] == "3234574" and lead["title"] == "VP Sales" and lead["employees"] == "800"
    assert "phone" not in lead and "website" not in lead


def test_a_sources_fields_override_its_preset() -> None:
    source = Source.model_validate({**SOURCES[0], "fields": {"source": "properties.hs_analytics_source.value"}})
    lead = map_record(source, hubspot_contact())
    assert lead["source"] == "ORGANIC_SEARCH" and lead["email"] == "codey.huang@hubspot-prospect.example"


def test_the_commented_example_in_baton_example_toml_loads_when_uncommented() -> None:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    tail = text[text.index("# [[sources]]") :].splitlines()
    data = tomllib.loads("\n".join(line.removeprefix("# ") if line != "#" else "" for line in tail))
    names = [s.name for s in make_agreement(sources=data["sources"], retention=data["retention"]).sources]
    assert names == ["hubspot", "salesforce", "forms", "salesforce-flow", "marketo", "dialer"]


@pytest.mark.parametrize(
    ("source", "named"),
    [
        (
            {
                "name": "sf",
                "preset": "salesforce",
                "auth": {"kind": "salesforce", "organization_id": "00D000000000062EAA", "allow_ips": ["13.108.0.0/99"]},
            },
            "not an IP network",
        ),
        (
            {
                "name": "sf",
                "preset": "salesforce",
                "per_lead": True,
                "auth": {"kind": "salesforce", "organization_id": "00D000000000062EAA"},
            },
            "per_lead must stay false",
        ),
        ({"name": "m", "preset": "marketo", "auth": {"kind": "hubspot", "secret_env": "BATON_SOURCE_M"}}, "bearer"),
        (bearer(touches="calls[?"), "not a JMESPath expression"),
    ],
)
def test_new_source_settings_are_checked_at_load(source: dict[str, Any], named: str) -> None:
    assert named in refusal([source])


def test_the_allow_list_matches_addresses_in_its_networks() -> None:
    source = Source.model_validate(
        {
            "name": "sf",
            "preset": "salesforce",
            "auth": {"kind": "salesforce", "organization_id": "00D000000000062EAA", "allow_ips": ["13.108.0.0/14"]},
        }
    )
    assert source.auth.allows("13.110.1.1") and not source.auth.allows("13.112.0.1")
    assert not source.auth.allows(None) and not source.auth.allows("not an address")
    assert source.takes_each_lead is False
    marketo = Source.model_validate(
        {"name": "m", "preset": "marketo", "auth": {"kind": "bearer", "secret_env": "BATON_SOURCE_M"}}
    )
    assert marketo.takes_each_lead is True and marketo.auth.allows("198.51.100.1")
