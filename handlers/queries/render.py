"""Small formatting helpers shared by the answers and the digests (plain text, not markup)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from handlers import names
from handlers.queries.figures import RepRow, rate
from handlers.text import _
from handlers.views.notice import Table
from scoring.agreement import Agreement


class OfferCounts(Protocol):
    @property
    def offers(self) -> int: ...
    @property
    def accepted(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def open(self) -> int: ...
    @property
    def reassigned(self) -> int: ...
    @property
    def withdrawn(self) -> int: ...


def pct(part: int, whole: int) -> str:
    value = rate(part, whole)
    return _("figure.not_available") if value is None else _("figure.percent", value=round(value * 100))


def duration(seconds: float | None) -> str:
    """``None`` → ``n/a``; otherwise the two largest units: ``45 s``, ``12 min``, ``2 h 5 min``, ``1 d 3 h``."""
    if seconds is None:
        return _("figure.not_available")
    total = max(0, round(seconds))
    if total < 60:
        return _("unit.seconds", n=total)
    minutes = round(total / 60)
    if minutes < 60:
        return _("unit.minutes", n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("unit.hours_minutes", h=hours, min=minutes) if minutes else _("unit.hours", n=hours)
    days, hours = divmod(hours, 24)
    return _("unit.days_hours", d=days, h=hours) if hours else _("unit.days", n=days)


def offers_text(counts: OfferCounts, *, rate_of_accepted: bool = False) -> str:
    """``7: 4 accepted, 2 rejected, 1 open`` plus every other way an offer ended, so the parts add up."""
    decided = counts.accepted + counts.rejected
    accepted = (
        _("offers.accepted_rate", n=counts.accepted, rate=pct(counts.accepted, decided))
        if rate_of_accepted
        else _("offers.accepted", n=counts.accepted)
    )
    parts = [accepted, _("offers.rejected", n=counts.rejected), _("offers.open", n=counts.open)]
    if counts.reassigned:
        parts.append(_("offers.reassigned", n=counts.reassigned))
    if counts.withdrawn:
        parts.append(_("offers.withdrawn", n=counts.withdrawn))
    return _("offers.total", n=counts.offers, parts=", ".join(parts))


def person_name(agreement: Agreement, email: str) -> str:
    return names.person_name(agreement, email)


def reason_label(agreement: Agreement, code: str) -> str:
    reason = agreement.reason(code)
    return reason.label if reason else code


def reasons_text(agreement: Agreement, reasons: list[tuple[str, int]]) -> str:
    return ", ".join(f"{reason_label(agreement, code)} {count}" for code, count in reasons) or _("figure.none")


def when(agreement: Agreement, email: str | None, at: datetime) -> str:
    person = agreement.person_by(email=email) if email else None
    zone = ZoneInfo(person.timezone if person else agreement.digest.timezone)
    return at.astimezone(zone).strftime("%a %-d %b %H:%M %Z")


def rep_table(agreement: Agreement, rows: list[RepRow]) -> Table:
    reassigned = any(r.reassigned for r in rows)
    columns = [
        _("reps.rep"),
        _("reps.offers"),
        _("reps.accepted"),
        _("reps.rejected"),
        _("reps.open"),
        *([_("reps.reassigned")] if reassigned else []),
        _("reps.on_time"),
        _("reps.avg_to_accept"),
        _("reps.touches"),
    ]
    return Table(
        columns=columns,
        rows=[
            [
                person_name(agreement, r.rep),
                str(r.offers),
                str(r.accepted),
                str(r.rejected),
                str(r.open),
                *([str(r.reassigned)] if reassigned else []),
                pct(r.on_time, r.accepted),
                duration(r.avg_accept_seconds),
                str(r.touches),
            ]
            for r in rows
        ],
    )
