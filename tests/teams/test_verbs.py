"""Teams' invoke dispatch is a verb → handler table, and every card button has a row."""

from __future__ import annotations

from bot.teams.cards import REFRESH_VERB, REJECT_SUBMIT_VERB
from bot.teams.invoke import HANDLERS, parse
from handlers.views.actions import Action, ButtonData


def test_every_button_and_card_verb_has_a_handler() -> None:
    # Agree (the review reminder's sign-off) carries no offer: handle() answers it before parse().
    offers = {a.value for a in Action if a is not Action.AGREE}
    assert set(HANDLERS) == offers | {REFRESH_VERB, REJECT_SUBMIT_VERB}


def test_a_verb_outside_the_table_is_a_400() -> None:
    value = {"action": {"type": "Action.Execute", "verb": "delete_everything", "data": {"value": "v1:1:1"}}}
    answer = parse(value)
    assert isinstance(answer, dict) and answer["statusCode"] == 400
    assert "delete_everything" in answer["value"]["message"]


def test_a_verb_in_the_table_parses() -> None:
    value = {"action": {"type": "Action.Execute", "verb": Action.TAKE_OVER.value, "data": {"value": "v1:3:4"}}}
    assert parse(value) == (Action.TAKE_OVER.value, ButtonData(3, 4), {"value": "v1:3:4"})
