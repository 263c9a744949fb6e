"""The help answer: every command with an example, and a suggestion when the text was not understood."""

from __future__ import annotations

from handlers.views.notice import Notice

COMMAND_HELP = [
    ("help", "this list"),
    ("define <term>", "what MQL, SAL, SQL, ICP, the SLA, scoring, required fields or rejection reasons mean"),
    ("stats [period] [team <name> | @rep]", "MQLs against the commitment, acceptance, speed, SLA, conversion"),
    ("sla [period] [team <name> | @rep]", "how fast leads are accepted and touched"),
    ("feedback [period] [source <name>]", "why leads were rejected, with the reps' notes"),
    ("lead <email | CRM id | number>", "one lead: stage, owner, score, routing, history"),
    ("my", "your open offers and accepted leads"),
    ("ooo on | ooo off", "stop or resume new offers while you are away"),
]
PERIODS = "today, this week, last week, this month, last month, this quarter, last quarter, last N days"


def help_notice(unknown: str | None = None, suggestion: str | None = None) -> Notice:
    lines = []
    if unknown is not None:
        lines.append(f"I didn't understand “{unknown}”." + (f" Did you mean `{suggestion}`?" if suggestion else ""))
    lines += [f"`{usage}`: {what}" for usage, what in COMMAND_HELP]
    lines.append(f"Periods: {PERIODS}.")
    return Notice(title="What you can ask Baton", lines=lines)
