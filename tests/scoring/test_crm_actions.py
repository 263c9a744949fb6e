"""Templates of [[crm_actions]]: whatever a lead holds, a URL stays one URL and a body stays JSON."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from scoring.crm_actions import PLACEHOLDERS, CrmAction, Unfilled, fill, fill_body

values = st.fixed_dictionaries(
    {name: st.none() | st.text(max_size=20) | st.integers() for name in sorted(PLACEHOLDERS)}
)
ACTION = CrmAction.model_validate(
    {
        "name": "t",
        "events": ["lead.accepted"],
        "url": "https://crm.example/{external_id}/x?owner={crm_id}",
        "body": {"a": "{crm_id}", "b": "{{literal}} {stage}", "c": ["{score}", 1, None], "d": {"e": "{owner}"}},
    }
)


@given(values=values)
def test_a_filled_url_keeps_its_shape_and_a_body_stays_json(values: dict[str, Any]) -> None:
    try:
        url = fill(ACTION.url, values, url=True)
    except Unfilled as exc:
        assert values[str(exc)] is None
    else:
        head, _, query = url.removeprefix("https://crm.example/").partition("/x?owner=")
        assert "/" not in head and "?" not in head and "#" not in head and "&" not in query
    try:
        body = fill_body(ACTION.body, values)
    except Unfilled as exc:
        assert values[str(exc)] is None
        return
    json.dumps(body)
    assert ("a" in body) == (values["crm_id"] is not None)
    assert body["b"] == "{literal} " + str(values["stage"])


def test_a_key_next_to_a_preset_overrides_it() -> None:
    action = CrmAction.model_validate(
        {"name": "h", "preset": "hubspot", "events": ["lead.won"], "status_map": {"won": "CONNECTED"}}
    )
    assert action.events == ["lead.won"] and action.status_map["won"] == "CONNECTED"
    assert action.status_map["sal"] == "OPEN" and action.method == "PATCH"
    assert action.secrets() == ["BATON_CRM_HUBSPOT_TOKEN"]
