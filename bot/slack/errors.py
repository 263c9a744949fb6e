"""Slack's failures, mapped to the outcomes the delivery worker understands (``handlers.messaging.ports``).

Slack answers an API error with HTTP 200 and ``ok:false`` plus a code, a rate limit with 429
and ``Retry-After``, and its own outages (or a proxy's) with 5xx, often with an HTML page that
slack_sdk cannot read as JSON. Every one of those ends here as ``RetryLater``,
``PermanentFailure`` (with Slack's code) or ``ConversationGone``; nothing else escapes.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

from handlers.messaging.ports import ConversationGone, PermanentFailure, RetryLater, retry_after

# The bot lost the conversation: stop sending there (the worker reports it via on_gone).
GONE = frozenset(
    {
        "is_archived",
        "channel_is_archived",
        "account_inactive",
        "user_disabled",
        "team_access_not_granted",
        "cannot_dm_bot",
        "user_not_found",
    }
)
# Slack's own trouble, reported with HTTP 200: try again later.
TRANSIENT = frozenset(
    {
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "ratelimited",
        "rate_limited",
        "team_added_to_org",
    }
)
RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})
# Slack sends Retry-After with every 429; if a proxy does not, one second is chat.postMessage's pace.
DEFAULT_RETRY_AFTER = 1.0


def status_of(response: Any) -> int:
    """HTTP status of slack_sdk's response (``status_code``) or of a raw aiohttp one (``status``),
    which is what SlackApiError carries when the body claimed JSON and was not."""
    for name in ("status_code", "status"):
        value = getattr(response, name, None)
        if isinstance(value, int):
            return value
    return 0


def error_of(response: Any) -> str | None:
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return None


def header(response: Any, name: str) -> str | None:
    headers = getattr(response, "headers", None) or {}
    try:
        items = list(headers.items())
    except AttributeError:
        return None
    value = next((v for k, v in items if str(k).lower() == name.lower()), None)
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


def classify(exc: SlackApiError, method: str, limited: tuple[str, ...]) -> Exception:
    """``limited``: the scopes a 429 from ``method`` applies to (see ``SlackSender._limited``)."""
    response = exc.response
    status, error = status_of(response), error_of(response)
    if status == 429 or error in RATE_LIMITED:
        after = retry_after(header(response, "Retry-After"))
        after = DEFAULT_RETRY_AFTER if after is None else after
        return RetryLater(
            after, f"rate limited by Slack on {method} (Retry-After {after:g})", rate_limited=True, scopes=limited
        )
    if status >= 500 or error in TRANSIENT:
        return RetryLater(None, f"Slack is unavailable: {method} answered {error or f'HTTP {status}'}")
    if error is None:
        # No JSON to read: a proxy or load balancer answered. A 4xx from one will not heal by
        # itself (wrong SLACK_API_URL, a blocked egress); anything else is an outage.
        if 400 <= status < 500 and status not in (408, 425):
            return PermanentFailure(
                f"Slack's {method} answered HTTP {status} without a Slack error", code=f"http_{status}"
            )
        return RetryLater(None, f"Slack's {method} answered HTTP {status} with a body that is not Slack's")
    if error in GONE:
        return ConversationGone(error, code=error)
    return PermanentFailure(f"Slack refused the message: {error}", code=error)
