"""Logging set-up: text for people, JSON lines for machines; secrets never reach a log line.

Every record passes one scrubbing filter on the handler, whatever logged it (our
code, aiohttp, SQLAlchemy): tokens and configured secret values are always
masked; email addresses and phone numbers are masked above debug level, so a
lead's contact details only appear when an operator turns debug logging on.
Exception text is scrubbed too: a database error can quote the row it failed on.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

# Slack tokens, bearer credentials and email addresses are masked whatever logged them.
_SECRETS = re.compile(r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer\s+\S+)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Phone-like runs: optional +, digit groups split by spaces, dots, dashes or brackets. Only runs of
# 9+ digits count, so dates (8 digits), times and small ids survive.
_PHONE = re.compile(r"(?<![\w:/.-])\+?\(?\d{1,4}\)?(?:[ .-]?\(?\d{1,5}\)?){2,6}(?![\w:/-])")
_MIN_PHONE_DIGITS = 9
# A configured secret shorter than this is not masked by value: it would mangle ordinary words.
_MIN_SECRET = 6


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    return "[phone]" if digits >= _MIN_PHONE_DIGITS else match.group(0)


def scrub(text: str, keep_contacts: bool = False, secrets: Iterable[str] = ()) -> str:
    """``text`` with tokens and ``secrets`` masked, and contact details too unless ``keep_contacts``."""
    text = _SECRETS.sub("[redacted]", text)
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    if keep_contacts:
        return text
    return _PHONE.sub(_phone, _EMAIL.sub("[email]", text))


class ScrubbingFilter(logging.Filter):
    """Rewrites each record's message and exception text before any formatter sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add_secrets(self, values: Iterable[str | None]) -> None:
        self.secrets.update(v for v in values if v and len(v) >= _MIN_SECRET)

    def filter(self, record: logging.LogRecord) -> bool:
        keep = record.levelno <= logging.DEBUG
        record.msg = scrub(record.getMessage(), keep_contacts=keep, secrets=self.secrets)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, keep_contacts=keep, secrets=self.secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, keep_contacts=keep, secrets=self.secrets)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry)


def setup_logging(fmt: str = "text", level: str = "INFO", secrets: Iterable[str | None] = ()) -> None:
    handler = logging.StreamHandler()
    scrubber = ScrubbingFilter()
    scrubber.add_secrets(secrets)
    handler.addFilter(scrubber)
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler logs every run of every job at INFO: several lines a second with the timer sweep.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def mask_secrets(values: Iterable[str | None]) -> None:
    """Mask these values (tokens, signing secrets) in every log line from now on."""
    values = list(values)
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, ScrubbingFilter):
                found.add_secrets(values)
