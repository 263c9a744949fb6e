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
# JWTs (a Bot Framework token quoted without its "Bearer") too.
_SECRETS = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer\s+\S+"
    r"|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)"
)
# An email as written, URL-encoded (``%40``, twice-encoded ``%2540``: a Slack click carries the
# card's blocks form-encoded), JSON-escaped (``\u0040``, however many backslashes) or HTML (``&#64;``).
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+(?:@|%40|%2540|\\+u0040|&#0*64;|&commat;)[A-Za-z0-9.-]+\.[A-Za-z]{2,}", re.IGNORECASE
)
# Phone-like runs: optional + (or %2B), digit groups split by spaces, dots, dashes or brackets, as
# written or URL-encoded (%20, %2D, %28, %29, and + for a space in a form body).
_ENCODED_SEP = r"%(?:20|2[bB]|2[dD]|2[eE]|28|29)"
_PHONE = re.compile(
    rf"(?:(?<=%[0-9A-Fa-f]{{2}})|(?<![\w:/.%-]))(?:\+|%2[bB])?(?:{_ENCODED_SEP}|\()?\d{{1,4}}\)?"
    rf"(?:(?:{_ENCODED_SEP}|[ .()+-]){{0,3}}\d{{1,5}}\)?){{2,6}}(?![\w:/-])"
)
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# E.164 numbers have at most 15 digits; dates (8 digits), times and small ids have fewer than 9.
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 9, 15
# The slack_bolt loggers whose INFO lines carry a request's whole body.
BOLT_BODY_LOGGERS = ("slack_bolt.AsyncRequestVerification", "slack_bolt.RequestVerification")
# A configured secret shorter than this is not masked by value: it would mangle ordinary words.
_MIN_SECRET = 6


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    plain = _ESCAPE.sub(" ", found)
    digits = sum(c.isdigit() for c in plain)
    if not _MIN_PHONE_DIGITS <= digits <= _MAX_PHONE_DIGITS:
        return found
    international = found.startswith("+") or found[:3].upper() == "%2B"
    separators = "".join(c for c in plain if not c.isdigit())
    # A bare run of digits, or digits with one dot, is a Unix time, a Slack ts or an id, not a phone.
    if not international and separators.strip(" ") in ("", ".") and " " not in separators:
        return found
    return "[phone]"


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
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
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
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler logs every run of every job at INFO: several lines a second with the timer sweep.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # slack_bolt logs the whole body of a request whose signature fails at INFO. Baton checks
    # signatures itself and switches bolt's check off; should it ever run, its lines stay out.
    for name in BOLT_BODY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def log_failure(logger: logging.Logger, message: str, error: BaseException, level: int = logging.WARNING) -> None:
    """One line naming the failure (``message: Type: text``); its traceback only at debug level,
    so a hostile request cannot fill the log with stack traces."""
    text = str(error)[:200]
    logger.log(level, "%s: %s%s", message, type(error).__name__, f": {text}" if text else "")
    logger.debug("the failure's traceback", exc_info=error)


def mask_secrets(values: Iterable[str | None]) -> None:
    """Mask these values (tokens, signing secrets) in every log line from now on."""
    values = list(values)
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, ScrubbingFilter):
                found.add_secrets(values)
