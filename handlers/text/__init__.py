"""The text catalogue: every sentence Baton says, by message id, in one ``.po`` file per language.

Code names a message by a stable id (``refusal.lead_gone``, ``help.title``) and passes its
placeholders as keywords: ``_("refusal.already_accepted", who=name)``. The English text lives
in ``locale/en/LC_MESSAGES/baton.po`` beside this module, so rewording or translating is an
edit there and never in code. Plurals use ``n_(id, count, ...)``: the entry has a
``msgid_plural`` and one ``msgstr[i]`` per plural form of the language.

The catalogue is read with Babel once per process and per language. A language without a
catalogue, or a message missing from it, falls back to English; an id missing from English
too is a bug, caught by ``tests/test_text_catalogue.py`` before it ships.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from importlib import resources
from string import Formatter
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

DOMAIN = "baton"
SOURCE_LOCALE = "en"
# The language of every message until issue 17 lets a deployment or a person choose one.
DEFAULT_LOCALE = SOURCE_LOCALE


def catalogue_path(locale: str) -> Any:
    return resources.files(__package__).joinpath("locale", locale, "LC_MESSAGES", f"{DOMAIN}.po")


@cache
def catalogue(locale: str) -> Catalog | None:
    """The parsed catalogue of ``locale``, or ``None`` if Baton has none for it."""
    path = catalogue_path(locale)
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a message (format specs and conversions ignored)."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in Formatter().parse(text) if name}


def _forms(msgid: str, locale: str) -> tuple[str, ...] | None:
    found = catalogue(locale)
    message = found.get(msgid) if found is not None else None
    if message is None or not message.string:
        return None
    found_strings = message.string
    strings = tuple(str(s) for s in found_strings) if isinstance(found_strings, (tuple, list)) else (found_strings,)
    return strings if all(strings) else None  # an untranslated plural form: use English whole


def _lookup(msgid: str, locale: str) -> tuple[tuple[str, ...], Catalog]:
    for candidate in (locale, SOURCE_LOCALE):
        forms = _forms(msgid, candidate)
        if forms is not None:
            found = catalogue(candidate)
            assert found is not None
            return forms, found
    raise KeyError(f"message {msgid!r} is not in the {SOURCE_LOCALE} catalogue")


def N_(msgid: str, /) -> str:
    """Mark ``msgid`` as a message id used later (a table of ids); the catalogue test reads these."""
    return msgid


def _(msgid: str, /, *, locale: str = DEFAULT_LOCALE, **values: Any) -> str:
    """The message ``msgid`` in ``locale`` with its ``{placeholders}`` filled from ``values``."""
    forms, _found = _lookup(msgid, locale)
    return forms[0].format(**values)


def n_(msgid: str, count: int, /, *, locale: str = DEFAULT_LOCALE, **values: Any) -> str:
    """The plural form of ``msgid`` for ``count`` (also available to the text as ``{n}``)."""
    forms, found = _lookup(msgid, locale)
    index = _plural_rule(found.plural_expr)(count) if len(forms) > 1 else 0
    return forms[min(index, len(forms) - 1)].format(n=count, **values)


@cache
def _plural_rule(expr: str) -> Callable[[int], int]:
    # The catalogue's Plural-Forms C expression (Babel writes it from CLDR, e.g. "(n != 1)").
    return gettext.c2py(expr)
