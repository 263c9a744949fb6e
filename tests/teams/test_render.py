"""Rendering is pure: view-models in, Adaptive Card 1.5 dicts out, valid and escaped."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.teams.markdown import escape
from bot.teams.render import lead_card, render_view
from bot.teams.render_form import reject_form_card
from bot.teams.render_notice import MAX_ATTACHED_IMAGE_B64, MAX_CARD_IMAGE_B64, image_placement, notice_card
from handlers.people import PersonRef
from handlers.views.actions import Action, Button, ButtonData, Choice
from handlers.views.lead_card import LeadCard, ScoreLineView, follow_up_buttons, offer_buttons
from handlers.views.notice import Field, Notice, Table
from handlers.views.reject_form import RejectForm

VALUE = ButtonData(lead_id=7, handoff_id=9).pack()
ALICE = PersonRef(name="Alice Example", email="alice@example.com", teams_id="aad-alice")


def a_card(**changes: Any) -> LeadCard:
    values: dict[str, Any] = dict(
        lead_id=7,
        handoff_id=9,
        name="**Ann** <at>Everyone</at>",
        email="ann@prospect.example",
        title="VP [Sales](http://evil.example)",
        company="# Acme_Corp",
        employees=800,
        industry="software",
        country="US",
        source="webinar",
        campaign="Q4",
        score=72,
        threshold=50,
        explicit=45,
        implicit=27,
        lines=[ScoreLineView(rule="Senior title", kind="explicit", points=20, detail="`VP`")],
        stage_label="MQL",
        team="enterprise",
        offered_to=ALICE,
        due_at=datetime(2026, 11, 23, 15, 30, tzinfo=UTC),
        due_text="Mon 10:30 EST",
        status="offered",
        buttons=offer_buttons(ButtonData(7, 9), "direct"),
    )
    values.update(changes)
    return LeadCard(**values)


def texts(node: Any) -> str:
    """Every string in a card (its fallback text included), joined by newlines."""
    if isinstance(node, dict):
        return "\n".join(texts(v) for v in node.values())
    if isinstance(node, list):
        return "\n".join(texts(v) for v in node)
    return node if isinstance(node, str) else ""


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<at>x</at>", r"\<at\>x\</at\>"),
        ("**x**", r"\*\*x\*\*"),
        ("[x](http://e)", r"\[x\](http://e)"),
        ("- item\n1. first", "\\- item\n1\\. first"),
        ("Acme Inc. 1.5", "Acme Inc. 1.5"),
    ],
)
def test_escape_makes_markdown_literal(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_the_offer_card_is_valid_and_shows_lead_text_literally(card_validator: Any) -> None:
    card = lead_card(a_card())
    card_validator.validate(card)
    assert card["body"][0]["text"] == r"New lead: **\*\*Ann\*\* \<at\>Everyone\</at\> at \# Acme\_Corp**"
    shown = texts(card)
    assert "<at>" not in shown.replace(r"\<at\>", "") and r"VP \[Sales\](http://evil.example)" in shown


def test_offer_buttons_are_universal_actions_with_the_packed_value(card_validator: Any) -> None:
    card = lead_card(a_card())
    assert [(a["type"], a["verb"], a["data"], a.get("style")) for a in card["actions"]] == [
        ("Action.Execute", "accept", {"value": VALUE}, "positive"),
        ("Action.Execute", "reject", {"value": VALUE}, "destructive"),
    ]
    assert card["refresh"] == {
        "action": {"type": "Action.Execute", "verb": "refresh", "data": {"value": VALUE}},
        "userIds": ["8:orgid:aad-alice"],
    }


@pytest.mark.parametrize("status", ["accepted", "rejected", "reassigned", "sql", "unreachable", "withdrawn"])
def test_every_card_status_renders_valid(status: str, card_validator: Any) -> None:
    buttons = follow_up_buttons(ButtonData(7, 9)) if status == "accepted" else []
    card = lead_card(
        a_card(
            status=status,
            status_by=ALICE,
            status_text="at 10:42 EST, 3 min after offer",
            notes=["Reminder sent (Mon 10:15)", "Touch logged: *call*"],
            buttons=buttons,
        )
    )
    card_validator.validate(card)
    assert "Alice Example" in texts(card) and r"\*call\*" in texts(card)
    assert "refresh" in card


def test_the_reject_form_marks_the_note_required_for_reasons_that_need_one(card_validator: Any) -> None:
    form = RejectForm(
        lead_id=7,
        handoff_id=9,
        value=VALUE,
        lead_name="<Ann>",
        company="Acme",
        reasons=[Choice(label="No fit", value="no_fit"), Choice(label="Duplicate", value="duplicate")],
        note_required=["no_fit"],
    )
    blank = reject_form_card(form)
    shown = reject_form_card(form, {"note": "A note is required for “No fit”."}, reason="no_fit", note="<b>x</b>")
    for card in (blank, shown):
        card_validator.validate(card)
    note = next(i for i in shown["body"] if i.get("id") == "note")
    assert note["isRequired"] is True and note["value"] == "<b>x</b>"
    assert next(i for i in blank["body"] if i.get("id") == "note")["isRequired"] is False
    assert r"\<Ann\>" in blank["body"][0]["text"] and "A note is required for “No fit”." in texts(shown)


def test_an_escalation_notice_has_a_rep_picker_reassign_and_take_over(card_validator: Any) -> None:
    notice = Notice(
        title="Escalation: Ann",
        mention=ALICE,
        lines=["Offered 31 min ago."],
        fields=[Field(label="Score", value="72")],
        context="Lead crm-1 · team enterprise",
        buttons=[
            Button(
                action=Action.REASSIGN,
                label="Reassign",
                value=VALUE,
                choices=[Choice(label="Bob Example", value="bob@example.com")],
            ),
            Button(action=Action.TAKE_OVER, label="Take over", value=VALUE, style="primary"),
        ],
    )
    card = notice_card(notice)
    card_validator.validate(card)
    picker = next(i for i in card["body"] if i["type"] == "Input.ChoiceSet")
    assert picker["id"] == "reassign_choice" and picker["choices"] == [
        {"title": "Bob Example", "value": "v1:7:9:bob@example.com"}
    ]
    assert [a.get("associatedInputs") for a in card["actions"]] == [None, "none"]


def test_a_digest_notice_with_a_table_and_small_chart_renders_the_image_inline(card_validator: Any) -> None:
    small = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 100).decode()
    notice = Notice(
        title="Weekly digest", tables=[Table(columns=["Rep", "Accepted"], rows=[["<Al>", "3"]])], image_title="Funnel"
    )
    card = render_view(notice, image_png_b64=small)
    card_validator.validate(card)
    assert any(i["type"] == "Image" and i["url"].endswith(small) for i in card["body"])
    assert any(i["type"] == "Table" for i in card["body"]) and r"\<Al\>" in texts(card)


def test_a_big_chart_goes_beside_the_card_and_a_huge_one_is_left_out() -> None:
    assert image_placement("A" * MAX_CARD_IMAGE_B64) == "card"
    assert image_placement("A" * (MAX_CARD_IMAGE_B64 + 1)) == "attachment"
    assert image_placement("A" * (MAX_ATTACHED_IMAGE_B64 + 1)) == "omitted"
    assert image_placement(None) is None
