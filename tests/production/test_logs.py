"""Structured logs never carry tokens, and carry lead contact details only at debug level."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import mask_secrets, setup_logging

EMAIL = "zelda.q@acme-widgets.example"
PHONE = "+1 (415) 555-0199"
TOKEN = "xoxb-1234-5678-abcdefghijkl"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    setup_logging("json", "DEBUG", secrets=["intake-token-value-42"])
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    """This test's own log lines: other libraries (aiosqlite at debug) may log in between."""
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [entry for entry in entries if entry["logger"] == "baton.test"]


def test_json_lines_above_debug_carry_no_email_phone_or_token(captured: io.StringIO) -> None:
    log = logging.getLogger("baton.test")
    log.info("lead %s phone %s via %s", EMAIL, PHONE, TOKEN)
    log.warning("Authorization: Bearer intake-token-value-42")
    text = captured.getvalue()
    (first, second) = lines(captured)
    assert first["level"] == "info" and first["logger"] == "baton.test"
    assert EMAIL not in text and "555-0199" not in text and TOKEN not in text
    assert "intake-token-value-42" not in text
    assert first["message"] == "lead [email] phone [phone] via [redacted]"


def test_debug_lines_keep_contact_details_but_never_tokens(captured: io.StringIO) -> None:
    logging.getLogger("baton.test").debug("lead %s phone %s via %s", EMAIL, PHONE, TOKEN)
    (line,) = lines(captured)
    assert EMAIL in line["message"] and PHONE in line["message"] and TOKEN not in line["message"]


def test_exception_text_is_scrubbed_too(captured: io.StringIO) -> None:
    try:
        raise ValueError(f"duplicate key (email)=({EMAIL}) token {TOKEN}")
    except ValueError:
        logging.getLogger("baton.test").exception("insert failed")
    (line,) = lines(captured)
    assert "ValueError" in line["exception"]
    assert EMAIL not in line["exception"] and TOKEN not in line["exception"]


def test_secrets_registered_at_start_up_are_masked_by_value(captured: io.StringIO) -> None:
    mask_secrets(["signing-secret-abcdef", None])
    logging.getLogger("baton.test").error("bad signature with signing-secret-abcdef")
    (line,) = lines(captured)
    assert line["message"] == "bad signature with [redacted]"


def test_dates_times_and_ids_are_not_mistaken_for_phone_numbers(captured: io.StringIO) -> None:
    logging.getLogger("baton.test").info("lead 42 offered 2026-11-23 15:00:00 on 127.0.0.1:3978")
    (line,) = lines(captured)
    assert line["message"] == "lead 42 offered 2026-11-23 15:00:00 on 127.0.0.1:3978"


@pytest.mark.parametrize(
    "encoded",
    [
        "zelda.q%40acme-widgets.example",
        "zelda.q%2540acme-widgets.example",
        "zelda.q\\u0040acme-widgets.example",
        "zelda.q\\\\u0040acme-widgets.example",
        "zelda.q&#64;acme-widgets.example",
        "ZELDA.Q%40ACME-WIDGETS.EXAMPLE",
    ],
)
def test_url_encoded_and_json_escaped_emails_are_masked(captured: io.StringIO, encoded: str) -> None:
    logging.getLogger("baton.test").info("body: payload=%s&x=1", encoded)
    (line,) = lines(captured)
    assert line["message"] == "body: payload=[email]&x=1"


@pytest.mark.parametrize(
    "phone",
    [
        "%2B1%20%28415%29%20555-0199",
        "+1+415+555+0199",
        "415-555-0199",
        "415.555.0199",
        "+14155550199",
        "+49 30 12345678",
    ],
)
def test_url_encoded_and_plain_phone_numbers_are_masked(captured: io.StringIO, phone: str) -> None:
    logging.getLogger("baton.test").info("phone=%s;", phone)
    (line,) = lines(captured)
    assert line["message"] == "phone=[phone];"


@pytest.mark.parametrize(
    "kept",
    [
        "ts 1764000000.000001",
        "at 1764000000",
        "action_ts=1764000000.12",
        "id 1234567890123",
        "ts%3D1764000000",
        "%22ts%22%3A%221764000000.000001%22",
        "U0ALICE001 T0BATON",
    ],
)
def test_unix_times_slack_timestamps_and_ids_are_not_phone_numbers(captured: io.StringIO, kept: str) -> None:
    logging.getLogger("baton.test").info(kept)
    (line,) = lines(captured)
    assert line["message"] == kept


def test_a_jwt_quoted_without_bearer_is_masked(captured: io.StringIO) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"
    logging.getLogger("baton.test").warning("token %s refused", token)
    (line,) = lines(captured)
    assert line["message"] == "token [redacted] refused"
