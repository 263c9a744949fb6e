"""Small words built from data that several answers share: a definition's version."""

from __future__ import annotations

import re

from handlers.text import _

# "3", "2026.4", "1.2.0-rc1" read as version numbers and take a "v"; "acc-7" or "Q4 draft" do not.
_NUMERIC = re.compile(r"\d+(?:\.\d+)*(?:[-+.][0-9A-Za-z.]+)?")
_PREFIXED = re.compile(r"[vV]\d")


def version_words(version: str) -> str:
    """``v2026.4`` for a numeric version, ``version acc-7`` for a named one, ``v3`` left as written."""
    if _PREFIXED.match(version):
        return version
    if _NUMERIC.fullmatch(version):
        return _("version.numeric", version=version)
    return _("version.named", version=version)
