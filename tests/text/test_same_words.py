"""Slack and Teams say the same thing about a lead card: the same catalogue texts, in their own markup."""

from __future__ import annotations

import json
import re

import pytest

from bot.slack.render import card_blocks, message
from bot.teams.render import lead_card, summary
from handlers.people import PersonRef
from handlers.text import _, n_
from handlers.views.actions import ButtonData
from handlers.views.lead_card import LeadCard, ScoreLineView, offer_buttons

ALICE = PersonRef(name="Alice Example", email="alice@example.com", slack_id=None, teams_id="aad-alice")


def _card(**changes: object) -> LeadCard:
    values: dict[str, object] = {
        "lead_id": 1,
        "handoff_id": 2,
        "name": "Pat Prospect",
        "email": "pat@x.example",
        "company": "Acme",
        "employees": 1200,
        "industry": "Software",
        "score": 70,
        "threshold": 50,
        "explicit": 20,
        "implicit": 50,
        "lines": [ScoreLineView(rule="Senior title", kind="explicit", points=20, detail="VP")],
        "fast_track_events": ["Requested a demo"],
        "stage_label": "MQL",
        "status": "offered",
        "offered_to": ALICE,
        "due_text": "Mon 09:25 EST",
        "buttons": offer_buttons(ButtonData(1, 2), "direct"),
    }
    values.update(changes)
    return LeadCard.model_validate(values)


def _plain(rendered: object) -> str:
    """Every text of a rendered card with Slack's and Teams' markup (``*``, ``**``, ``\\``) removed."""
    return re.sub(r"[*\\]", "", json.dumps(rendered, ensure_ascii=False).replace("\\n", " "))


@pytest.mark.parametrize(
    "words",
    [
        _("card.fact.company_size"),
        n_("card.employees", 1200),
        _("card.fact.industry"),
        _("card.fact.email"),
        _("card.fact.stage"),
        _("card.why"),
        _("card.score", score=70, threshold=50, explicit=20, implicit=50),
        _("card.score_line_detail", rule="Senior title", points="+20", detail="VP"),
        _("card.fast_tracked_by", events="Requested a demo"),
        _("card.respond_by", offer=_("card.offer.direct", name="Alice Example"), due="Mon 09:25 EST"),
    ],
)
def test_both_platforms_show_the_same_words_for_an_offered_card(words: str) -> None:
    card = _card()
    assert words in _plain(card_blocks(card)), "Slack"
    assert words in _plain(lead_card(card)), "Teams"


@pytest.mark.parametrize("status", ["accepted", "rejected"])
def test_both_platforms_word_a_decided_card_alike(status: str) -> None:
    card = _card(status=status, status_by=ALICE, buttons=[])
    word = _(f"status.{status}")
    said = _("card.status_by", status=word, name="Alice Example")
    assert said in _plain(card_blocks(card)) and said in _plain(lead_card(card))
    assert message(card).text == summary(card) == f"Pat Prospect at Acme: {word}"


def test_the_notification_text_is_the_same_on_both() -> None:
    card = _card()
    assert message(card).text == summary(card) == "New lead: Pat Prospect at Acme (score 70)"


def test_a_channel_card_names_the_team_alike() -> None:
    card = _card(mode="channel", team="emea", offered_to=None)
    said = _("card.offer.channel", team="emea")
    assert said in _plain(card_blocks(card)) and said in _plain(lead_card(card))
