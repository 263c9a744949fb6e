"""The audit trail's vocabulary: every action an audit event can record, spelled once.

The values are the strings stored in `audit_events.action` since the first release, so the
enum is a StrEnum: rows written before it existed compare equal to its members.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    CAPTURED = "lead.captured"
    QUALIFIED = "lead.qualified"
    STAGE_CHANGED = "lead.stage_changed"
    OFFERED = "lead.offered"
    ACCEPTED = "lead.accepted"
    REJECTED = "lead.rejected"
    REASSIGNED = "lead.reassigned"
    TAKEN_OVER = "lead.taken_over"
    TOUCHED = "lead.touched"
    SQL = "lead.sql"
    UNREACHABLE = "lead.unreachable"
    FORGOTTEN = "lead.forgotten"
    OPPORTUNITY = "lead.opportunity"
    WON = "lead.won"
    LOST = "lead.lost"
    OUTCOME_CORRECTED = "lead.outcome_corrected"
    OUT_OF_OFFICE = "rep.out_of_office"
    SLA_NUDGED = "sla.nudged"
    SLA_ESCALATED = "sla.escalated"

    @property
    def is_sla_step(self) -> bool:
        """An SLA step's own record (the policy action is the part after "sla.")."""
        return self.value.startswith("sla.")
