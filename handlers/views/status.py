"""The word for a lead card's status, the same on every platform (renderers may add an emoji)."""

from __future__ import annotations

from handlers.text import N_, _

_WORDS = {
    "offered": N_("status.offered"),
    "accepted": N_("status.accepted"),
    "rejected": N_("status.rejected"),
    "reassigned": N_("status.reassigned"),
    "sql": N_("status.sql"),
    "unreachable": N_("status.unreachable"),
    "withdrawn": N_("status.withdrawn"),
}


def status_word(status: str) -> str:
    """The catalogue's word for ``status``; an unknown status (a newer view) is shown as it is."""
    msgid = _WORDS.get(status)
    return _(msgid) if msgid else status
