"""The help answer: every command with an example, and a suggestion when the text was not understood.

This is Baton's one help text: ``/baton help`` on Slack, "help" on Teams, and the command list
of the Teams manifest all read ``COMMAND_HELP`` and the ``help.*`` messages of the catalogue.
"""

from __future__ import annotations

from handlers.text import N_, _
from handlers.views.notice import Notice

# (command, usage, message id of what it answers)
COMMAND_HELP = [
    ("help", "help", N_("help.cmd.help")),
    ("define", "define <term>", N_("help.cmd.define")),
    ("stats", "stats [period] [team <name> | @rep]", N_("help.cmd.stats")),
    ("sla", "sla [period] [team <name> | @rep]", N_("help.cmd.sla")),
    ("feedback", "feedback [period] [source <name>]", N_("help.cmd.feedback")),
    ("lead", "lead <email | CRM id | number>", N_("help.cmd.lead")),
    ("my", "my", N_("help.cmd.my")),
    ("ooo", "ooo on | ooo off", N_("help.cmd.ooo")),
]


def period_names() -> str:
    return _("help.period_names")


def command_line(usage: str, what_id: str) -> str:
    return _("help.command", usage=usage, what=_(what_id))


def help_notice(unknown: str | None = None, suggestion: str | None = None) -> Notice:
    lines = []
    if unknown is not None:
        head = _("help.not_understood", text=unknown)
        lines.append(head + (" " + _("help.did_you_mean", suggestion=suggestion) if suggestion else ""))
    lines += [command_line(usage, what) for _command, usage, what in COMMAND_HELP]
    lines.append(_("help.periods", periods=period_names()))
    return Notice(title=_("help.title"), lines=lines)
