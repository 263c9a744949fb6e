"""Rendering is pure: view-models in, Block Kit out, within Slack's limits."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import MAX_BLOCKS, MAX_TEXT, clip, escape
from bot.slack.render import card_blocks, message, notice_blocks, reject_modal
from handlers.views.actions import Action, Button, ButtonData, Choice
from handlers.views.lead_card import LeadCard, ScoreLineView, offer_buttons
from handlers.views.notice import Field, Notice, Table
from handlers.views.reject_form import RejectForm


def _card(**fields: object) -> LeadCard:
    values: dict[str, object] = {
        "lead_id": 1,
        "handoff_id": 2,
        "name": "Pat Prospect",
        "email": "pat@x.example",
        "score": 70,
        "threshold": 50,
        "stage_label": "MQL",
        "status": "offered",
        "buttons": offer_buttons(ButtonData(1, 2), "direct"),
    }
    values.update(fields)
    return LeadCard.model_validate(values)


def _all_text(blocks: list[dict[str, Any]]) -> list[str]:
    """The mrkdwn texts of sections (text and fields) and context blocks."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        out += [field["text"] for field in block.get("fields", [])]
        out += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return out


def test_escape_covers_slacks_three_control_characters() -> None:
    assert escape("<!here> & <@U1>") == "&lt;!here&gt; &amp; &lt;@U1&gt;"


def test_clipping_never_splits_an_entity() -> None:
    assert clip("a" * 8 + "&lt;b", 11) == "a" * 8 + "…"


def test_a_card_with_hundreds_of_score_lines_keeps_every_text_within_3000_characters() -> None:
    lines = [ScoreLineView(rule=f"Rule {i} <x>", kind="implicit", points=1, detail="d" * 40) for i in range(300)]
    blocks = card_blocks(_card(lines=lines, notes=["n" * 500] * 30))
    assert all(len(text) <= MAX_TEXT for text in _all_text(blocks))
    assert blocks[-1]["type"] == "actions"


def test_a_notice_with_too_many_lines_is_capped_at_50_blocks_keeping_its_buttons() -> None:
    notice = Notice(
        title="Many",
        lines=[f"line {i}" for i in range(80)],
        buttons=[Button(action=Action.TAKE_OVER, label="Take over", value="v1:1:2")],
    )
    blocks = notice_blocks(notice)
    assert len(blocks) == MAX_BLOCKS and blocks[-1]["type"] == "actions"
    assert "more not shown" in str(blocks[-2])


def test_a_reassign_button_with_choices_becomes_a_picker_whose_options_carry_the_offer() -> None:
    button = Button(
        action=Action.REASSIGN,
        label="Reassign to…",
        value="v1:3:4",
        choices=[Choice(label="Bob Example", value="bob@example.com")],
    )
    (block,) = notice_blocks(Notice(title="Escalation", buttons=[button]))[1:]
    (select,) = block["elements"]
    assert block["block_id"] == "baton_reassign" and select["action_id"] == "baton:reassign"
    assert select["options"][0]["value"] == "v1:3:4:bob@example.com"


def test_a_notice_renders_fields_and_tables_escaped() -> None:
    notice = Notice(
        title="Digest",
        fields=[Field(label="Reason", value="<b>")],
        tables=[Table(columns=["Rep", "Leads"], rows=[["A&B", "3"]])],
    )
    text = " ".join(_all_text(notice_blocks(notice)))
    assert "&lt;b&gt;" in text and "A&amp;B" in text and "```" in text


def test_a_fast_track_card_shows_the_badge_and_the_events() -> None:
    blocks = card_blocks(_card(fast_track=True, fast_track_events=["Requested a demo"]))
    text = " ".join(_all_text(blocks))
    assert ":zap: *Fast track*" in text and "Fast-tracked by: Requested a demo" in text


def test_the_reject_modal_marks_which_reasons_need_a_note() -> None:
    form = RejectForm(
        lead_id=1,
        handoff_id=2,
        value="v1:1:2",
        lead_name="<Pat>",
        company=None,
        reasons=[Choice(label="No fit", value="no_fit"), Choice(label="No budget", value="no_budget")],
        note_required=["no_fit"],
    )
    modal = reject_modal(form, "D0ALICE001")
    assert modal["blocks"][2]["hint"]["text"] == "A note is required for: No fit"
    assert "&lt;Pat&gt;" in modal["blocks"][0]["text"]["text"] and len(modal["title"]["text"]) <= 24


def test_a_message_has_an_escaped_fallback_text() -> None:
    assert message(_card(name="<!here>")).text == "New lead: &lt;!here&gt; (score 70)"
