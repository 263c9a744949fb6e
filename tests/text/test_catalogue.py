"""The text catalogue: every message id the code uses is in English with matching placeholders."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers import text
from handlers.text import _, catalogue, messages, n_, placeholders
from handlers.text.refusals import RefusalCode, refuse


def test_the_code_and_the_catalogue_agree() -> None:
    assert messages.problems() == []


def test_every_refusal_code_has_its_words() -> None:
    english = catalogue("en")
    assert english is not None
    for code in RefusalCode:
        assert english.get(code.msgid) is not None, code


def _scan(tmp_path: Path, source: str) -> list[str]:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "m.py").write_text(source)
    return messages.problems(tmp_path)


def test_the_check_finds_an_id_missing_from_the_catalogue(tmp_path: Path) -> None:
    found = _scan(tmp_path, '_("no.such.message")\n')
    assert any("'no.such.message' is not in the English catalogue" in p for p in found)


def test_the_check_finds_a_placeholder_the_code_does_not_give(tmp_path: Path) -> None:
    found = _scan(tmp_path, '_("refusal.other_team", squad="a")\nrefuse(RefusalCode.BELONGS_TO)\n')
    assert any("'refusal.other_team' needs ['team'], the code gives ['squad']" in p for p in found)
    assert any("'refusal.belongs_to' needs ['name'], the code gives []" in p for p in found)


def test_the_check_finds_a_plural_used_as_a_singular(tmp_path: Path) -> None:
    found = _scan(tmp_path, '_("done.ooo_offers_moved")\n')
    assert any("'done.ooo_offers_moved' is a plural message" in p for p in found)


def test_plurals_follow_the_count() -> None:
    assert n_("done.ooo_offers_moved", 1) == "1 open offer moved to other reps."
    assert n_("done.ooo_offers_moved", 2) == "2 open offers moved to other reps."
    assert n_("done.ooo_offers_moved", 0) == "0 open offers moved to other reps."


def test_placeholders_ignore_format_specs() -> None:
    assert placeholders("under {limit:,} ({length!r}) for {n}") == {"limit", "length", "n"}


def test_a_refusal_carries_its_kind_and_words() -> None:
    outcome = refuse(RefusalCode.ALREADY_ACCEPTED, name="Alice")
    assert (outcome.ok, outcome.code, outcome.message) == (False, "already_taken", "Already accepted by Alice.")


def test_an_unknown_id_is_an_error_not_a_silent_blank() -> None:
    with pytest.raises(KeyError, match="no.such"):
        _("no.such")


@pytest.fixture
def turkish(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A copy of the locale directory with a Turkish catalogue made by ``init`` and one translation."""
    locale_dir = tmp_path / "locale"
    shutil.copytree(messages.LOCALE_DIR, locale_dir)
    monkeypatch.setattr(messages, "LOCALE_DIR", locale_dir)
    monkeypatch.setattr(text, "catalogue_path", lambda loc: locale_dir / loc / "LC_MESSAGES" / "baton.po")
    text.catalogue.cache_clear()
    messages.init("tr")
    po = locale_dir / "tr" / "LC_MESSAGES" / "baton.po"
    body = po.read_text()
    marker = 'msgid "refusal.already_accepted"\nmsgstr ""'
    assert marker in body
    po.write_text(body.replace(marker, 'msgid "refusal.already_accepted"\nmsgstr "{name} zaten kabul etti."'))
    text.catalogue.cache_clear()
    yield
    text.catalogue.cache_clear()


@pytest.mark.usefixtures("turkish")
def test_a_new_language_needs_no_code_and_falls_back_to_english() -> None:
    assert _("refusal.already_accepted", locale="tr", name="Ayşe") == "Ayşe zaten kabul etti."
    assert _("refusal.offer_closed", locale="tr") == "This offer is closed."  # not translated yet
    assert n_("done.ooo_offers_moved", 2, locale="tr") == "2 open offers moved to other reps."
    assert "tr" in messages.languages()
    assert messages.problems() == []


@pytest.mark.usefixtures("turkish")
def test_a_translation_with_a_placeholder_english_lacks_is_reported() -> None:
    po = messages.LOCALE_DIR / "tr" / "LC_MESSAGES" / "baton.po"
    po.write_text(po.read_text().replace("{name} zaten kabul etti.", "{isim} zaten kabul etti."))
    text.catalogue.cache_clear()
    assert messages.problems() == ["tr: 'refusal.already_accepted' uses ['isim'], not in English"]


def test_a_fresh_install_ships_the_catalogue() -> None:
    # The .po is package data (pyproject's [tool.setuptools.package-data]), found through importlib.
    assert text.catalogue_path("en").is_file()


@pytest.mark.parametrize(
    "msgid, one, many",
    [
        ("cli.outbox.requeued", "1 failed row queued again; a running `baton serve` sends it", "2 failed rows"),
        ("cli.import.problems", "x.csv: 1 problem; nothing", "x.csv: 2 problems; nothing"),
        ("cli.digest.would_send", "1 digest would be sent", "2 digests would be sent"),
        ("period.last_days", "last 1 day", "last 2 days"),
        ("card.employees", "1 employee", "2 employees"),
    ],
)
def test_counted_words_agree_with_their_count(msgid: str, one: str, many: str) -> None:
    # "1 SLA policies", "1 failed rows": every count a user reads is an n_() plural.
    values = {"path": "x.csv"} if "import" in msgid else {}
    assert n_(msgid, 1, **values).startswith(one)
    assert n_(msgid, 2, **values).startswith(many)
