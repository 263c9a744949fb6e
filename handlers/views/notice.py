"""A general message: a title, who it is for, lines of text, fields, buttons, an image."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from handlers.people import PersonRef
from handlers.views import register_view
from handlers.views.actions import Button


class Field(BaseModel):
    label: str
    value: str


class Table(BaseModel):
    """A small table (per-rep figures in a digest); renderers lay it out as monospace text or a grid."""

    columns: list[str]
    rows: list[list[str]]


@register_view
class Notice(BaseModel):
    """Feedback posts, nudges, escalations, answers and digests all render from this."""

    type: Literal["notice"] = "notice"
    title: str
    mention: PersonRef | None = None  # who it is about or for; shown under the title

    lines: list[str] = []
    fields: list[Field] = []
    tables: list[Table] = []
    buttons: list[Button] = []
    link_key: str | None = None  # a sent message to link to (e.g. the lead card)
    image_title: str | None = None
    context: str | None = None
    # People to notify: Slack mentions them (<@U…>), Teams sends real mention entities.
    notify: list[PersonRef] = []
    # What became of the lead since (a live notice updated in place); its buttons are gone then.
    resolved: str | None = None

    def plain_text(self) -> str:
        """The notice as plain text: notifications fall back to it, and the CLI prints it."""
        parts = [self.title, *([self.resolved] if self.resolved else []), *self.lines]
        parts += [f"{f.label}: {f.value}" for f in self.fields]
        for table in self.tables:
            parts.append(" | ".join(table.columns))
            parts += [" | ".join(row) for row in table.rows]
        if self.context:
            parts.append(self.context)
        return "\n".join(parts)
