"""The reviewer's Agree button from Slack: one handler call, the answer to the clicker only."""

from __future__ import annotations

from handlers.agreement.signoff import AgreeData
from handlers.agreement.versions import content_hash
from handlers.views.actions import Action
from tests.slack.conftest import SlackDriver


async def test_slack_agree_button(slack: SlackDriver) -> None:
    value = AgreeData(content_hash(slack.runtime.agreement)).pack()
    response = await slack.click("U0MARKETER1", Action.AGREE, value)
    assert response.status == 200
    assert "your agreement to v2026.4 is recorded" in slack.last_answer()
    await slack.click("U0ALICE001", Action.AGREE, value)
    assert "Only the agreement's reviewers" in slack.last_answer()
