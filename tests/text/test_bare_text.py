"""A file the catalogue owns cannot gain a bare English sentence: ``make messages-check`` names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.text import bare, messages


def _scan(tmp_path: Path, source: str, name: str = "bot/slack/render.py") -> list[str]:
    path = tmp_path / name
    path.parent.mkdir(parents=True)
    path.write_text(source)
    return messages.problems(tmp_path)


def test_the_catalogued_files_have_no_bare_english() -> None:
    assert bare.problems(messages.ROOT) == []


@pytest.mark.parametrize(
    "line",
    [
        'return "Company size"',
        'return f"New lead: {card.name}"',
        'return section("No rep available: managers, please assign it")',
        'return {"text": "Fast track"}',
        'return "someone"' + ' if x else "Someone"',
    ],
)
def test_a_new_sentence_in_a_render_function_fails_the_check(tmp_path: Path, line: str) -> None:
    found = _scan(tmp_path, f"def render(card):\n    {line}\n")
    assert any("is English outside the catalogue" in p and "bot/slack/render.py:2" in p for p in found), found


@pytest.mark.parametrize(
    "line",
    [
        'return {"type": "section", "block_id": "baton_reassign", "action_id": "baton:reject_form"}',
        'return {"type": "static_select", "style": "primary"}',
        "return f\"  :zap: *{_('card.fast_track')}*\"",
        'return f"*{name}*\\n{role} · " + "🔥 "',
        'return f"{now:%Y-%m-%d %H:%M}"',
        'return text(value, size="Large", weight="Bolder", spacing="None")',
        'return {"type": "Action.Execute", "verb": "refresh"}',
        'return _("card.fast_track")',
        'log.warning("views.open failed: %s", error)',
        'raise ValueError(f"Slack cannot render a {kind} as a message")',
        'return body["Some Key"]',
        'return status == "offered"',
    ],
)
def test_non_text_literals_pass(tmp_path: Path, line: str) -> None:
    found = _scan(tmp_path, f'def render(card):\n    """Docstrings are for developers."""\n    {line}\n')
    assert not any("is English outside the catalogue" in p for p in found), found


def test_files_the_catalogue_does_not_own_are_not_scanned(tmp_path: Path) -> None:
    found = _scan(tmp_path, 'def f():\n    return "Company size"\n', name="bot/slack/other.py")
    assert not any("is English outside the catalogue" in p for p in found)


def test_assigning_to_underscore_where_the_catalogue_is_imported_is_reported(tmp_path: Path) -> None:
    source = 'from handlers.text import _\n\ndef f(s):\n    head, _, tail = s.partition(" ")\n    return _("x")\n'
    found = _scan(tmp_path, source, name="handlers/queries/m.py")
    assert any("handlers/queries/m.py:4: assigns to `_`" in p for p in found), found
