"""View-models in, Block Kit out: the lead card, notices, the Reject modal. Pure; tested offline.

Every text from a view is escaped for mrkdwn (views carry raw text, see ``handlers.views``).
Buttons carry ``action_id = Action.action_id`` and ``value`` = the packed ``ButtonData``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bot.slack.blocks import (
    MAX_ACTIONS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    Block,
    cap_blocks,
    context,
    escape,
    fallback,
    fields_sections,
    mention,
    plain,
    section,
)
from handlers.people import PersonRef
from handlers.text import _, n_
from handlers.views.actions import Button, ButtonData, ReassignChoice
from handlers.views.lead_card import LeadCard, score_line
from handlers.views.notice import Notice
from handlers.views.reject_form import RejectForm
from handlers.views.status import status_word

REASSIGN_BLOCK = "baton_reassign"  # the picker's block; before v1 options carried the offer, its id did
REJECT_CALLBACK = "baton:reject_form"
REASON_BLOCK, REASON_ACTION = "reason", "reason_select"
NOTE_BLOCK, NOTE_ACTION = "note", "note_input"


@dataclass(frozen=True)
class Message:
    text: str  # notification fallback, escaped
    blocks: list[Block]


def message(view: BaseModel) -> Message:
    """Render any outbox view to a Slack message."""
    if isinstance(view, LeadCard):
        return Message(fallback(view.summary), card_blocks(view))
    if isinstance(view, Notice):
        return Message(fallback(view.title), notice_blocks(view))
    raise ValueError(f"Slack cannot render a {type(view).__name__} as a message")


def _who(ref: PersonRef | None) -> str:
    return mention(ref.slack_id, ref.name) if ref else escape(_("person.someone"))


def card_blocks(card: LeadCard) -> list[Block]:
    badge = f"  :zap: *{escape(_('card.fast_track'))}*" if card.fast_track else ""
    role = " · ".join(escape(p) for p in (card.title, card.company) if p)
    blocks: list[Block] = [section(f"*{escape(card.name)}*{badge}\n{role}".rstrip())]
    employees = n_("card.employees", card.employees) if card.employees is not None else None
    facts = [
        (_("card.fact.company_size"), employees),
        (_("card.fact.industry"), card.industry),
        (_("card.fact.country"), card.country),
        (_("card.fact.source"), card.source),
        (_("card.fact.campaign"), card.campaign),
        (_("card.fact.email"), card.email or None),
        (_("card.fact.stage"), card.stage_label),
    ]
    blocks += fields_sections([(label, escape(value)) for label, value in facts if value])
    lines = [f"• {escape(score_line(line))}" for line in card.lines]
    score = _("card.score", score=card.score, threshold=card.threshold, explicit=card.explicit, implicit=card.implicit)
    why = f"*{escape(_('card.why'))}*\n*{escape(_('card.fact.score'))}* {escape(score)}"
    if card.fast_track_events:
        why += "\n" + escape(_("card.fast_tracked_by", events=", ".join(card.fast_track_events)))
    blocks.append(section("\n".join([why, *lines])))
    blocks.append(context(_offer_line(card)))
    if card.status != "offered":
        word = f"*{escape(status_word(card.status))}*"
        line = _("card.status_by", status=word, name=_who(card.status_by)) if card.status_by else word
        blocks.append(section(line + (f" {escape(card.status_text)}" if card.status_text else "")))
    if card.notes:
        blocks.append(context("\n".join(escape(n) for n in card.notes[-10:])))
    if card.buttons:
        blocks += actions_blocks(card.buttons)
    return cap_blocks(blocks)


def _offer_line(card: LeadCard) -> str:
    if card.mode == "channel":
        offer = _("card.offer.channel", team=f"*{escape(card.team or '')}*")
    elif card.offered_to:
        offer = _("card.offer.direct", name=_who(card.offered_to))
    else:
        offer = escape(_("card.offer.nobody"))
    if card.due_text and card.status == "offered":
        return _("card.respond_by", offer=offer, due=escape(card.due_text))
    return offer


def actions_blocks(buttons: list[Button]) -> list[Block]:
    """Plain buttons share one actions block; a button with ``choices`` becomes a select of its own."""
    plain_buttons = [b for b in buttons if not b.choices][:MAX_ACTIONS]
    blocks: list[Block] = []
    if plain_buttons:
        blocks.append({"type": "actions", "elements": [_button(b) for b in plain_buttons]})
    for choice_button in (b for b in buttons if b.choices):
        offer = ButtonData.unpack(choice_button.value)
        options = [
            {"text": plain(c.label, MAX_OPTION_TEXT), "value": ReassignChoice(offer, c.value).pack()[:MAX_OPTION_VALUE]}
            for c in choice_button.choices[:100]
        ]
        blocks.append(
            {
                "type": "actions",
                "block_id": REASSIGN_BLOCK,
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": choice_button.action.action_id,
                        "placeholder": plain(choice_button.label, MAX_OPTION_TEXT),
                        "options": options,
                    }
                ],
            }
        )
    return blocks


def _button(button: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": button.action.action_id,
        "text": plain(button.label, MAX_BUTTON_TEXT),
        "value": button.value[:MAX_BUTTON_VALUE],
    }
    if button.style:
        element["style"] = button.style
    return element


def notice_blocks(notice: Notice) -> list[Block]:
    head = f"*{escape(notice.title)}*"
    if notice.mention:
        head += f"\n{_who(notice.mention)}"
    # The people it notifies (managers on an escalation), unless already mentioned above.
    others = [p for p in notice.notify if p.slack_id and (notice.mention is None or p.email != notice.mention.email)]
    if others:
        head += "\n" + _("notice.slack_mentions", people=", ".join(_who(p) for p in others))
    blocks: list[Block] = [section(head)]
    if notice.resolved:
        # A live notice once the offer is settled: what happened, where the buttons were.
        blocks.append(section(f":white_check_mark: *{escape(notice.resolved)}*"))
    blocks += [section(escape(line)) for line in notice.lines if line]
    blocks += fields_sections([(f.label, escape(f.value)) for f in notice.fields])
    for table in notice.tables:
        blocks.append(section("```" + escape(_table_text(table.columns, table.rows)) + "```"))
    if notice.buttons:
        blocks += actions_blocks(notice.buttons)
    if notice.context:
        blocks.append(context(escape(notice.context)))
    return cap_blocks(blocks)


def _table_text(columns: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) if i < len(r) else 0 for r in [columns, *rows]) for i in range(len(columns))]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in [columns, *rows]
    )


def reject_modal(form: RejectForm, channel: str | None) -> dict[str, Any]:
    """The Reject modal; ``private_metadata`` carries the button value and where to answer."""
    required = [r.label for r in form.reasons if r.value in form.note_required]
    # plain_text is never parsed for mentions, so labels go in unescaped (escaping would show "&amp;").
    hint = _("form.note_required_for", reasons="; ".join(required)) if required else ""
    at = _("form.at_company", company=escape(form.company)) if form.company else ""
    return {
        "type": "modal",
        "callback_id": REJECT_CALLBACK,
        "private_metadata": json.dumps({"value": form.value, "channel": channel}),
        "title": plain(_("form.title"), 24),
        "submit": plain(_("form.submit_short"), 24),
        "close": plain(_("form.cancel"), 24),
        "blocks": [
            section(_("form.slack_question", name=f"*{escape(form.lead_name)}*", at=at)),
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": plain(_("form.reason"), 2000),
                "element": {
                    "type": "static_select",
                    "action_id": REASON_ACTION,
                    "placeholder": plain(_("form.choose_reason"), 150),
                    "options": [
                        {"text": plain(c.label, MAX_OPTION_TEXT), "value": c.value} for c in form.reasons[:100]
                    ],
                },
            },
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "optional": True,
                "label": plain(_("form.note"), 2000),
                "hint": plain(hint, 2000) if hint else plain(_("form.note_optional"), 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_ACTION,
                    "multiline": True,
                    "max_length": min(form.note_max, 3000),
                },
            },
        ],
    }


def ephemeral(text: str) -> Message:
    """A short answer to the person who clicked; handler messages are escaped like everything else."""
    return Message(fallback(text), [section(escape(text))])


__all__ = ["Message", "card_blocks", "ephemeral", "message", "notice_blocks", "reject_modal"]
