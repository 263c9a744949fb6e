"""Keep the catalogue true to the code: find every message id used, check it, write the template.

``python -m handlers.text.messages check`` lists message ids used in code but missing from the
English catalogue, placeholders that do not match, and ids nothing uses;
``update`` writes ``locale/baton.pot`` (the template translators start from) and merges it into
every language's ``baton.po``; ``init <locale>`` starts a new language (``make messages``,
``make messages-init LOCALE=tr``). The scan reads the code's syntax tree, so it sees
``_("id", name=...)``, ``n_("id", count, ...)``, ``N_("id")`` and ``refuse(RefusalCode.X, ...)``.
``check`` also reports English written straight into a file the catalogue owns (``handlers.text.bare``).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from handlers.text import DOMAIN, SOURCE_LOCALE, bare, catalogue, placeholders
from handlers.text.refusals import RefusalCode

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("handlers", "bot", "scoring", "store")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_LOOKUPS = {"_": False, "n_": True}
_REFUSALS = {"refuse", "refusal_text"}


@dataclass(frozen=True)
class Use:
    msgid: str
    where: str
    plural: bool = False
    # The keywords the call passes; ``None`` when unknown (an ``N_`` table, a ``**values``).
    values: frozenset[str] | None = None


def _values(call: ast.Call) -> frozenset[str] | None:
    if any(k.arg is None for k in call.keywords):
        return None
    return frozenset(k.arg for k in call.keywords if k.arg is not None and k.arg != "locale")


def _uses_in(tree: ast.AST, where: str) -> Iterator[Use]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else None
        first = node.args[0]
        at = f"{where}:{node.lineno}"
        if name in _LOOKUPS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield Use(first.value, at, _LOOKUPS[name], _values(node))
        elif name == "N_" and isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield Use(first.value, at)
        elif (
            name in _REFUSALS
            and isinstance(first, ast.Attribute)
            and isinstance(first.value, ast.Name)
            and first.value.id == "RefusalCode"
        ):
            yield Use(RefusalCode[first.attr].msgid, at, values=_values(node))


def uses(root: Path = ROOT) -> list[Use]:
    found: list[Use] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found += _uses_in(ast.parse(path.read_text(encoding="utf-8")), str(path.relative_to(root)))
    return found


def problems(root: Path = ROOT) -> list[str]:
    """Everything wrong between the code and the catalogues, one line each (empty when all is well)."""
    english = catalogue(SOURCE_LOCALE)
    assert english is not None, "the English catalogue is missing"
    found = uses(root)
    out: list[str] = []
    for use in found:
        message = english.get(use.msgid)
        if message is None or not message.string:
            out.append(f"{use.where}: {use.msgid!r} is not in the English catalogue")
            continue
        if use.plural != message.pluralizable:
            out.append(f"{use.where}: {use.msgid!r} is {'' if message.pluralizable else 'not '}a plural message")
        if use.values is not None:
            wanted = set().union(*(placeholders(s) for s in _strings(message.string))) - (
                {"n"} if use.plural else set()
            )
            if wanted != set(use.values):
                out.append(f"{use.where}: {use.msgid!r} needs {sorted(wanted)}, the code gives {sorted(use.values)}")
    used = {u.msgid for u in found} | {code.msgid for code in RefusalCode}
    out += [f"{m.id!r} is in the catalogue but nothing uses it" for m in english if m.id and _id(m.id) not in used]
    for locale in languages():
        out += _translation_problems(english, locale)
    return out + bare.problems(root)


def _strings(string: str | tuple[str, ...] | list[str]) -> list[str]:
    return [string] if isinstance(string, str) else list(string)


def _id(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _translation_problems(english: Catalog, locale: str) -> list[str]:
    translated = catalogue(locale)
    if translated is None or locale == SOURCE_LOCALE:
        return []
    out = []
    for message in translated:
        source = english.get(_id(message.id)) if message.id else None
        if source is None or not source.string or not message.string:
            continue
        wanted = set().union(*(placeholders(s) for s in _strings(source.string)))
        for text in _strings(message.string):
            if text and placeholders(text) - wanted:
                out.append(f"{locale}: {_id(message.id)!r} uses {sorted(placeholders(text) - wanted)}, not in English")
    return out


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.po").is_file())


def template() -> Catalog:
    """The English ids with empty texts (and their source comments), for translators."""
    english = catalogue(SOURCE_LOCALE)
    assert english is not None
    pot = Catalog(domain=DOMAIN, project="baton", version="0.1.0", copyright_holder="Baton contributors", fuzzy=False)
    for message in english:
        if message.id:
            pot.add(message.id, "" if isinstance(message.id, str) else ("", ""), auto_comments=message.auto_comments)
    return pot


def _po(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)


def update() -> None:
    pot = template()
    _write(pot, LOCALE_DIR / f"{DOMAIN}.pot")
    for locale in languages():
        if locale == SOURCE_LOCALE:
            continue  # English is the source: edited by hand
        with _po(locale).open("rb") as handle:
            translated = read_po(handle, locale=locale, domain=DOMAIN)
        translated.update(pot)
        _write(translated, _po(locale))


def init(locale: str) -> None:
    path = _po(locale)
    if path.exists():
        raise SystemExit(f"{path} exists already; run update instead")
    pot = template()
    translated = Catalog(locale=locale, domain=DOMAIN, project="baton")
    translated.update(pot)
    _write(translated, path)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "check":
        found = problems()
        print("\n".join(found) or "the catalogue matches the code")
        return 1 if found else 0
    if command == "update":
        update()
        return 0
    if command == "init" and len(argv) == 2:
        init(argv[1])
        return 0
    print("usage: python -m handlers.text.messages check | update | init <locale>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
