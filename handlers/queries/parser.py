"""Turn what someone typed into one typed query. Pure: no store, no agreement.

The same text arrives from ``/baton <text>``, a mention, a DM or Teams, so the
grammar is forgiving about case, punctuation and filler ("what's an sql?"),
and strict about anything it would otherwise have to guess (a period it cannot
read is an error, not "this quarter").
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from handlers.queries.periods import PERIOD_PATTERN, PERIOD_WORDS, PeriodError, PeriodSpec, parse_period
from handlers.text import _

COMMANDS = ("help", "define", "stats", "sla", "feedback", "lead", "my", "ooo")
# A Slack user mention (<@U123> or <@U123|name>), or a Teams one (<at>Name</at>).
MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>|<at>([^<]+)</at>", re.IGNORECASE)
_DEFINE = re.compile(
    r"^(?:define|definition(?: of)?|explain|meaning of|"
    r"(?:what|wat|wht|whats|wats)(?:'s|’s| is| are| does|s)?)\s+(?:an?\s+|the\s+)?(?P<term>.+?)(?:\s+mean)?$"
)
_OF_OFFICE = "of office"  # "out of office on": what people type, not what Baton says
_ALIASES = {
    "help": "help",
    "?": "help",
    "commands": "help",
    "my": "my",
    "mine": "my",
    "me": "my",
    "stat": "stats",
    "numbers": "stats",
    "metrics": "stats",
    "ooo": "ooo",
    "away": "ooo",
    "rejections": "feedback",
    "reasons": "feedback",
}


@dataclass(frozen=True)
class HelpQuery:
    """Show the help; ``suggestion`` is the closest command when the text was not understood."""

    unknown: str | None = None
    suggestion: str | None = None


@dataclass(frozen=True)
class DefineQuery:
    """``term`` to define; ``question`` is the whole text when it was a loose question ("what is X")
    rather than ``define X``: an unknown term then gets the help, not "no definition"."""

    term: str
    question: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class StatsQuery:
    """``stats`` or ``sla``; ``rep`` is raw (a mention id, a name or an email) and resolved later."""

    kind: str
    period: PeriodSpec
    team: str | None = None
    rep: str | None = None
    slack_id: str | None = None


@dataclass(frozen=True)
class FeedbackQuery:
    period: PeriodSpec
    source: str | None = None


@dataclass(frozen=True)
class LeadQuery:
    key: str


@dataclass(frozen=True)
class MyQuery:
    pass


@dataclass(frozen=True)
class OooQuery:
    on: bool


@dataclass(frozen=True)
class BadQuery:
    """Understood the command, not its arguments; ``message`` says what is wrong."""

    command: str
    message: str


Query = HelpQuery | DefineQuery | StatsQuery | FeedbackQuery | LeadQuery | MyQuery | OooQuery | BadQuery
DEFAULT_PERIODS = {
    "stats": PeriodSpec("this_quarter"),
    "sla": PeriodSpec("this_quarter"),
    "feedback": PeriodSpec("last_days", 30),
}


def _normalise(text: str) -> str:
    text = text.replace("\u00a0", " ").strip()
    text = re.sub(r"[?!.]+$", "", text).strip()
    return re.sub(r"\s+", " ", text)


def closest_command(word: str) -> str | None:
    found = difflib.get_close_matches(word.lower(), COMMANDS, n=1, cutoff=0.6)
    return found[0] if found else None


def parse(text: str) -> Query:
    """Parse one message. Never raises: anything unreadable becomes help or a ``BadQuery``."""
    text = _normalise(text)
    # "@Baton stats": drop a leading mention of the bot when a command follows it.
    first = MENTION.match(text)
    if first and first.start() == 0:
        rest = text[first.end() :].strip()
        if rest and rest.split()[0].lower() in COMMANDS:
            text = rest
    if not text:
        return HelpQuery()
    lowered = text.lower()
    define = _DEFINE.match(lowered)
    if define:
        explicit = lowered.startswith(("define ", "definition "))
        return DefineQuery(define.group("term").strip(), None if explicit else text)
    head, _sep, tail = text.partition(" ")
    command = _ALIASES.get(head.lower(), head.lower())
    tail = tail.strip()
    if command == "out" and tail.lower().startswith(_OF_OFFICE):
        command, tail = "ooo", tail[len(_OF_OFFICE) :].strip()
    if command == "help":
        return HelpQuery()
    if command == "define":
        return DefineQuery(tail.lower()) if tail else BadQuery("define", _("query.define_what"))
    if command in ("stats", "sla"):
        return _stats(command, tail)
    if command == "feedback":
        return _feedback(tail)
    if command == "lead":
        if not tail or " " in tail:
            return BadQuery("lead", _("query.one_lead"))
        return LeadQuery(tail)
    if command == "my":
        return MyQuery()
    if command == "ooo":
        value = tail.lower()
        if value in ("on", "yes", "start"):
            return OooQuery(True)
        if value in ("off", "no", "stop", "back"):
            return OooQuery(False)
        return BadQuery("ooo", _("query.ooo_how"))
    return HelpQuery(unknown=text, suggestion=closest_command(head))


def _cut_period(command: str, text: str) -> tuple[PeriodSpec | BadQuery, str]:
    """Find the period phrase in ``text``; return it (or the error) and the text without it."""
    lowered = text.lower()
    match = PERIOD_PATTERN.search(lowered)
    if match is None:
        leftover = [w for w in lowered.split() if w in PERIOD_WORDS or w.isdigit()]
        if leftover:
            return BadQuery(command, _period_message(" ".join(leftover))), text
        return DEFAULT_PERIODS[command], text
    try:
        spec = parse_period(match.group(0))
    except PeriodError as exc:
        return BadQuery(command, str(exc)), text
    rest = (text[: match.start()] + " " + text[match.end() :]).strip()
    stray = [w for w in rest.lower().split() if w in PERIOD_WORDS]
    if stray:
        return BadQuery(command, _period_message(" ".join(stray))), rest
    return spec, rest


def _period_message(words: str) -> str:
    try:
        parse_period(words)
    except PeriodError as exc:
        return str(exc)
    return _("query.two_periods", words=words)


def _stats(command: str, tail: str) -> Query:
    period, rest = _cut_period(command, tail)
    if isinstance(period, BadQuery):
        return period
    words = [w for w in rest.split() if w.lower() not in ("for", "in", "of", "by")]
    if words and words[0].lower() == "team":
        if len(words) < 2:
            return BadQuery(command, _("query.which_team"))
        if len(words) > 2:
            return BadQuery(command, _("query.one_target", words=" ".join(words)))
        return StatsQuery(command, period, team=words[1].lower())
    if not words:
        return StatsQuery(command, period)
    joined = " ".join(words)
    mention = MENTION.fullmatch(joined)
    if mention:
        if mention.group(1):
            return StatsQuery(command, period, rep=joined, slack_id=mention.group(1).upper())
        return StatsQuery(command, period, rep=mention.group(2).strip())
    return StatsQuery(command, period, rep=joined.lstrip("@"))


def _feedback(tail: str) -> Query:
    period, rest = _cut_period("feedback", tail)
    if isinstance(period, BadQuery):
        return period
    words = rest.split()
    if not words:
        return FeedbackQuery(period)
    if words[0].lower() in ("source", "from") and len(words) > 1:
        return FeedbackQuery(period, " ".join(words[1:]))
    return BadQuery("feedback", _("query.feedback_how", text=rest))
