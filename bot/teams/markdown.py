"""Escape text for the markdown subset Teams renders in Adaptive Card TextBlocks and facts.

Everything that reaches a card from a lead (names, companies, notes) goes through
``escape`` so a lead called ``**x**`` shows asterisks and ``<at>x</at>`` mentions nobody.
"""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that start
# emphasis, code, links, headings, quotes, HTML/mentions, tables or strikethrough.
_INLINE = re.compile(r"([\\`*_\[\]<>#~|&{}!])")
# Only meaningful at the start of a line: list bullets, numbered lists, setext underlines.
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))", re.MULTILINE)


def escape(text: str | None) -> str:
    """``text`` rendered literally in Teams markdown (``None`` → empty)."""
    if not text:
        return ""
    escaped = _INLINE.sub(r"\\\1", text)

    def line_start(match: re.Match[str]) -> str:
        lead, marker = match.group(1), match.group(2)
        if marker.isdigit():
            # "1. Foo" would become a numbered list: escape the dot/paren after the digits.
            return lead + marker + "\\"
        return lead + "\\" + marker

    return _LINE_START.sub(line_start, escaped)


def bold(text: str | None) -> str:
    return f"**{escape(text)}**" if text else ""
