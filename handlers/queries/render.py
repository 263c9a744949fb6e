"""Small formatting helpers shared by the answers and the digests (plain text, not markup)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from handlers import names
from handlers.queries.figures import RepRow, rate
from handlers.views.notice import Table
from scoring.agreement import Agreement


def pct(part: int, whole: int) -> str:
    value = rate(part, whole)
    return "n/a" if value is None else f"{round(value * 100)}%"


def duration(seconds: float | None) -> str:
    """``None`` → ``n/a``; otherwise the two largest units: ``45 s``, ``12 min``, ``2 h 5 min``, ``1 d 3 h``."""
    if seconds is None:
        return "n/a"
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes = round(total / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def person_name(agreement: Agreement, email: str) -> str:
    return names.person_name(agreement, email)


def reason_label(agreement: Agreement, code: str) -> str:
    reason = agreement.reason(code)
    return reason.label if reason else code


def reasons_text(agreement: Agreement, reasons: list[tuple[str, int]]) -> str:
    return ", ".join(f"{reason_label(agreement, code)} {count}" for code, count in reasons) or "none"


def when(agreement: Agreement, email: str | None, at: datetime) -> str:
    person = agreement.person_by(email=email) if email else None
    zone = ZoneInfo(person.timezone if person else agreement.digest.timezone)
    return at.astimezone(zone).strftime("%a %-d %b %H:%M %Z")


def rep_table(agreement: Agreement, rows: list[RepRow]) -> Table:
    return Table(
        columns=["Rep", "Offers", "Accepted", "Rejected", "Open", "On time", "Avg to accept", "Touches"],
        rows=[
            [
                person_name(agreement, r.rep),
                str(r.offers),
                str(r.accepted),
                str(r.rejected),
                str(r.open),
                pct(r.on_time, r.accepted),
                duration(r.avg_accept_seconds),
                str(r.touches),
            ]
            for r in rows
        ],
    )
