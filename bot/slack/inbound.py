"""What reaches Slack's endpoint before bolt sees it: the signature first, then the body's shape.

slack-bolt parses the body before it checks the signature (so an unsigned garbage body
made it fail with a 500) and its matchers index into payloads they never checked (an empty
``actions`` list raised). Here the signature is checked on the raw bytes, then the body is
parsed once and its shape checked, so bolt only ever gets a verified, well-formed object.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

# Slack's own window: a request signed more than five minutes ago (or ahead) is a replay.
MAX_AGE = 5 * 60
_MAX_TIMESTAMP_DIGITS = 12


@dataclass(frozen=True)
class Refusal:
    """Why a request is not handled, and the HTTP status that says so."""

    status: int
    reason: str


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> Refusal | None:
    """``None`` when Slack signed ``body`` within the last five minutes, else the 401 refusal.

    The HMAC covers the raw bytes, as Slack's documentation specifies (v0:timestamp:body);
    nothing is decoded or parsed before it matches.
    """
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp or not signature:
        return Refusal(
            401, "the request is not signed by Slack (X-Slack-Signature and X-Slack-Request-Timestamp are required)"
        )
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _MAX_TIMESTAMP_DIGITS):
        return Refusal(401, "X-Slack-Request-Timestamp is not a Unix time in seconds")
    if abs(now - int(timestamp)) > MAX_AGE:
        return Refusal(401, "the request was signed more than 5 minutes ago (or the clock is off)")
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return Refusal(401, "the Slack signature does not match the body")
    return None


def parse(content_type: str, body: bytes) -> dict[str, Any] | Refusal:
    """The request body as Slack's payload object, or the 4xx refusal naming what is wrong."""
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "the body is not UTF-8 text")
    try:
        if kind == "application/json":
            payload = json.loads(text)
        elif kind == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(text, keep_blank_values=True))
            payload = json.loads(form["payload"]) if "payload" in form else form
        else:
            return Refusal(415, "send application/x-www-form-urlencoded or application/json, as Slack does")
    except (ValueError, RecursionError):
        return Refusal(400, "the body (or its `payload` field) is not valid JSON")
    if not isinstance(payload, dict):
        return Refusal(400, "the payload is not a JSON object")
    problem = shape_problem(payload)
    return Refusal(400, problem) if problem else payload


# Keys bolt (and Baton's listeners) read as an id-bearing object or a plain id string.
_ID_OR_OBJECT = ("team", "user", "channel", "enterprise")
# Keys read as nested objects, and as lists of objects.
_OBJECTS = (
    "event",
    "view",
    "container",
    "message",
    "previous_message",
    "item",
    "assistant_thread",
    "function_data",
    "state",
    "selected_option",
)
_LISTS = ("actions", "authorizations", "response_urls")
# Scalars compared, matched or split as strings.
_STRINGS = (
    "type",
    "id",
    "team_id",
    "user_id",
    "channel_id",
    "enterprise_id",
    "api_app_id",
    "trigger_id",
    "response_url",
    "callback_id",
    "action_id",
    "block_id",
    "value",
    "command",
    "event_id",
    "private_metadata",
    "channel_type",
    "subtype",
    "bot_id",
    "tab",
    "ts",
    "thread_ts",
    "hash",
    "challenge",
    "ssl_check",
)


def _object_problem(where: str, obj: dict[str, Any], *, text_is_string: bool = True) -> str | None:
    for key in _ID_OR_OBJECT:
        value = obj.get(key)
        if value is not None and not isinstance(value, str | dict):
            return f"`{where}{key}` must be an object or an id"
        if isinstance(value, dict) and not isinstance(value.get("id", ""), str):
            return f"`{where}{key}.id` must be a string"
    for key in _OBJECTS:
        if key in obj and obj[key] is not None and not isinstance(obj[key], dict):
            return f"`{where}{key}` must be an object"
    for key in _LISTS:
        value = obj.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return f"`{where}{key}` must be a list of objects"
    for key in _STRINGS + (("text",) if text_is_string else ()):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return f"`{where}{key}` must be a string"
    return None


def shape_problem(payload: dict[str, Any]) -> str | None:
    """What makes ``payload`` unusable as a Slack request, or ``None`` when it is well-formed.

    Shared by HTTP and Socket Mode: only the fields bolt's routing and Baton's listeners
    read are checked, so payload types Baton does not handle still reach bolt (which answers
    them as unhandled).
    """
    if problem := _object_problem("", payload):
        return problem
    for key in _OBJECTS:
        nested = payload.get(key)
        # A message's `text` is a string, a view's or a container's never carries one we read.
        if isinstance(nested, dict) and (problem := _object_problem(f"{key}.", nested, text_is_string=False)):
            return problem
    kind = payload.get("type")
    if kind is None and "command" not in payload and "ssl_check" not in payload:
        return "not a Slack payload (no `type` or `command`)"
    if kind == "block_actions":
        actions = payload.get("actions")
        if not actions:
            return "`actions` must list the action that was taken"
        for n, action in enumerate(actions):
            # A button's `text` is a text object, not a string.
            if problem := _object_problem(f"actions[{n}].", action, text_is_string=False):
                return problem
            if not isinstance(action.get("action_id"), str):
                return f"`actions[{n}].action_id` is required"
            selected = action.get("selected_option")
            if isinstance(selected, dict) and (
                problem := _object_problem(f"actions[{n}].selected_option.", selected, text_is_string=False)
            ):
                return problem
    if kind in ("block_actions", "view_submission", "view_closed", "shortcut", "message_action") and not isinstance(
        payload.get("user"), dict
    ):
        return "`user` is required"
    if kind in ("view_submission", "view_closed") and not isinstance(payload.get("view"), dict):
        return "`view` is required"
    if kind == "event_callback" and not isinstance((payload.get("event") or {}).get("type"), str):
        return "`event.type` is required"
    if "command" in payload:
        if not str(payload.get("command") or "").startswith("/"):
            return "`command` must be a slash command"
        if not payload.get("response_url"):
            return "`response_url` is required with a slash command"
    return None
