"""A lead's history in words: each audit action and each actor as a person would say them.

Audit rows keep machine names (``lead.captured``, ``intake-api``, ``baton:sla``) so that
reports and the API stay stable; what ``lead <key>`` shows is worded here, in the catalogue.
"""

from __future__ import annotations

from handlers import names
from handlers.audit import AuditAction
from handlers.text import N_, _
from scoring.agreement import Agreement

_ACTIONS = {
    AuditAction.CAPTURED: N_("history.captured"),
    AuditAction.QUALIFIED: N_("history.qualified"),
    AuditAction.STAGE_CHANGED: N_("history.stage_changed"),
    AuditAction.OFFERED: N_("history.offered"),
    AuditAction.ACCEPTED: N_("history.accepted"),
    AuditAction.REJECTED: N_("history.rejected"),
    AuditAction.REASSIGNED: N_("history.reassigned"),
    AuditAction.TAKEN_OVER: N_("history.taken_over"),
    AuditAction.TOUCHED: N_("history.touched"),
    AuditAction.SQL: N_("history.sql"),
    AuditAction.UNREACHABLE: N_("history.unreachable"),
    AuditAction.FORGOTTEN: N_("history.forgotten"),
    AuditAction.OUT_OF_OFFICE: N_("history.out_of_office"),
    AuditAction.SLA_NUDGED: N_("history.sla_nudged"),
    AuditAction.SLA_ESCALATED: N_("history.sla_escalated"),
    AuditAction.OPPORTUNITY: N_("history.opportunity"),
    AuditAction.WON: N_("history.won"),
    AuditAction.LOST: N_("history.lost"),
    AuditAction.OUTCOME_CORRECTED: N_("history.outcome_corrected"),
}
# Actors that are not people: the channels leads and decisions arrive through.
_ACTORS = {
    "baton:sla": N_("actor.sla"),
    "intake-api": N_("actor.intake_api"),
    "csv-import": N_("actor.csv_import"),
}


def actor_words(agreement: Agreement, actor: str) -> str:
    """Who did it: a person's name, or what a system actor is (``source:hubspot`` → the hubspot source)."""
    if "@" in actor:
        return names.person_name(agreement, actor)
    if actor in _ACTORS:
        return _(_ACTORS[actor])
    kind, _sep, name = actor.partition(":")
    if kind == "source" and name:
        return _("actor.source", name=name)
    if kind == "cli" and name:
        return _("actor.cli", name=name)
    if kind == "baton":
        return _("actor.baton")
    return actor


def action_words(action: str, actor: str) -> str:
    """What happened and by whom: ``Captured by the intake API``; a newer action keeps its name."""
    msgid = _ACTIONS.get(AuditAction(action)) if action in set(AuditAction) else None
    return _(msgid, actor=actor) if msgid else _("history.other", action=action, actor=actor)
