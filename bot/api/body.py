"""Strict JSON request bodies for the intake API: what ``json.loads`` lets through, refused by path.

Python's ``json`` accepts ``NaN`` and ``Infinity``, keeps the last of two equal keys, turns
``1e999`` into infinity, and raises ``RecursionError`` or ``ValueError`` (not a decode error)
on very deep nesting and on integers longer than the interpreter's int-from-text limit. Each of
those is caught here before anything is validated or written: depth by an iterative scan of
the text (no recursion to exhaust), the rest by parse hooks that leave a marker where the bad
value was, so the problem is reported by its path like any other.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 16  # objects and lists inside each other; a lead with activities needs 4
MAX_INT_DIGITS = 20  # larger than any 64-bit integer; far below Python's 4,300-digit parse limit
MAX_NUMBER_CHARS = 40  # a float literal's length, exponent and all

Path = tuple[int | str, ...]
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_OPENING = frozenset(b"[{")
# NUL and lone UTF-16 surrogates can only reach a string as \u escapes (raw control bytes are a
# decode error; raw surrogates are invalid UTF-8). Neither can be stored by PostgreSQL.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class BodyError(Exception):
    """The body cannot be taken: ``status`` and ``error`` for the answer, ``problems`` by path."""

    def __init__(
        self, status: int, error: str, problems: list[tuple[Path, str]] | None = None, root: Any = None
    ) -> None:
        super().__init__(error)
        self.status, self.error, self.problems = status, error, problems or []
        self.root = root  # the parsed body, when the problems are values inside it


@dataclass(frozen=True)
class _Bad:
    """Left by a parse hook where a value was refused."""

    message: str


class _Duplicates(dict[str, Any]):
    """An object that had a key more than once (the first value is kept; it is refused anyway)."""

    def __init__(self, pairs: list[tuple[str, Any]], repeated: list[str]) -> None:
        super().__init__()
        for key, value in pairs:
            self.setdefault(key, value)
        self.repeated = repeated


def check_content_type(content_type: str, charset: str | None) -> None:
    """Only ``application/json``, optionally ``; charset=utf-8``."""
    if content_type != "application/json":
        shown = content_type or "none"
        raise BodyError(415, f"Content-Type must be application/json (got {shown}); nothing was stored")
    if charset is not None and charset.lower() not in {"utf-8", "utf8"}:
        raise BodyError(415, f"the body must be UTF-8 JSON (Content-Type says charset={charset}); nothing was stored")


def parse(body: bytes) -> Any:
    """The JSON value of ``body``; raises ``BodyError`` (400 for broken JSON, 422 for refused values)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(400, f"body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    _check_depth(body)
    found: list[bool] = []
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object(found),
            parse_constant=_constant(found),
            parse_int=_integer(found),
            parse_float=_float(found),
        )
    except json.JSONDecodeError as exc:
        raise BodyError(400, f"body is not valid JSON: {exc}") from None
    except (RecursionError, ValueError) as exc:  # defence in depth: the scans above should prevent both
        raise BodyError(400, f"body is not acceptable JSON: {type(exc).__name__}") from None
    if found or _SUSPECT_ESCAPE.search(body):
        problems = _refused(value)
        if problems:
            raise BodyError(422, "the body holds values Baton refuses; nothing was stored", problems, value)
    return value


def _check_depth(body: bytes) -> None:
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return  # cannot be too deep: the cheap answer for most bodies
    # Escapes removed (a backslash always starts a two-character escape, and \uXXXX holds no
    # quote), every remaining quote opens or closes a string: what lies between every other
    # pair of quotes is outside strings, and only brackets there count.
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"") if b"\\" in body else body
    outside = b"".join(plain.translate(None, _NOT_STRUCTURE).split(b'"')[::2])
    depth = 0
    for byte in outside:
        depth += 1 if byte in _OPENING else -1
        if depth > MAX_DEPTH:
            raise BodyError(400, f"body nests objects and lists more than {MAX_DEPTH} deep; nothing was stored")


def _object(found: list[bool]) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        value = dict(pairs)
        if len(value) == len(pairs):
            return value
        seen: set[str] = set()
        repeated = [key for key, _ in pairs if key in seen or seen.add(key)]  # type: ignore[func-returns-value]
        found.append(True)
        return _Duplicates(pairs, repeated)

    return hook


def _constant(found: list[bool]) -> Callable[[str], _Bad]:
    def hook(name: str) -> _Bad:
        found.append(True)
        return _Bad(f"{name} is not a number JSON allows")

    return hook


def _integer(found: list[bool]) -> Callable[[str], int | _Bad]:
    def hook(digits: str) -> int | _Bad:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            found.append(True)
            return _Bad(f"integer of {len(digits.lstrip('-')):,} digits; at most {MAX_INT_DIGITS} are accepted")
        return int(digits)

    return hook


def _float(found: list[bool]) -> Callable[[str], float | _Bad]:
    def hook(literal: str) -> float | _Bad:
        if len(literal) > MAX_NUMBER_CHARS:
            found.append(True)
            return _Bad(f"number written with {len(literal):,} characters; at most {MAX_NUMBER_CHARS} are accepted")
        number = float(literal)
        if not math.isfinite(number):
            found.append(True)
            return _Bad(f"{literal} is too large for a number")
        return number

    return hook


def _refused(root: Any) -> list[tuple[Path, str]]:
    """Every refused value under ``root`` with its path; iterative, so depth cannot hurt it."""
    problems: list[tuple[Path, str]] = []
    stack: list[tuple[Path, Any]] = [((), root)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Bad):
            problems.append((path, value.message))
        elif isinstance(value, str):
            if (bad := _BAD_TEXT.search(value)) is not None:
                kind = "control character" if bad.group() == "\x00" else "lone surrogate"
                problems.append((path, f"text may not hold the {kind} U+{ord(bad.group()):04X}"))
        elif isinstance(value, dict):
            if isinstance(value, _Duplicates):
                problems += [(path + (key,), "key given more than once") for key in dict.fromkeys(value.repeated)]
            for key, item in value.items():
                if _BAD_TEXT.search(key):
                    problems.append((path, "a key holds a character that cannot be stored (NUL or a lone surrogate)"))
                stack.append((path + (key,), item))
        elif isinstance(value, list):
            stack.extend((path + (i,), item) for i, item in enumerate(value))
    return sorted(problems, key=lambda p: [(0, part, "") if isinstance(part, int) else (1, 0, part) for part in p[0]])
