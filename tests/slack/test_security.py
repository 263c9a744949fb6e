"""Only Slack may talk to /slack/events: unsigned, wrongly signed and stale requests get 401."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from handlers.views.actions import Action
from store.models import Lead
from tests.slack.conftest import ALICE, SlackDriver, offer, signed_headers


@pytest.mark.parametrize("tamper", ["unsigned", "wrong secret", "stale", "body changed"])
async def test_a_request_not_signed_by_slack_now_is_refused_and_changes_nothing(
    slack: SlackDriver, tamper: str
) -> None:
    data = await offer(slack.runtime)
    body = urlencode({"payload": json.dumps(slack.click_payload(ALICE, Action.ACCEPT, data.pack()))})
    headers = {
        "unsigned": {"Content-Type": "application/x-www-form-urlencoded"},
        "wrong secret": signed_headers(body, secret="not-the-secret"),
        "stale": signed_headers(body, at=time.time() - 6 * 60),
        "body changed": signed_headers(body.replace("U0ALICE001", "U0ALICE002")),
    }[tamper]
    response = await slack.post(body, headers)
    await slack.component.idle(5)
    assert response.status == 401
    assert not slack.fake.calls and not slack.fake.responses
    async with slack.runtime.db.transaction() as session:
        lead = await session.get(Lead, data.lead_id)
    assert lead is not None and lead.stage == "mql" and lead.owner is None


async def test_a_request_signed_four_minutes_ago_is_still_accepted(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    body = urlencode({"payload": json.dumps(slack.click_payload(ALICE, Action.ACCEPT, data.pack()))})
    response = await slack.post(body, signed_headers(body, at=time.time() - 4 * 60))
    await slack.component.idle(5)
    assert response.status == 200 and "You accepted" in slack.last_answer()
