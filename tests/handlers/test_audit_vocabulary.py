"""Every audit event is written with an AuditAction, and the enum keeps the strings stored so far."""

from __future__ import annotations

import ast
from pathlib import Path

from handlers.audit import AuditAction

ROOT = Path(__file__).resolve().parents[2]


def test_the_enum_keeps_every_stored_action_string() -> None:
    # Rows written before the enum existed must still compare equal to its members.
    assert {a.value for a in AuditAction} == {
        "lead.captured",
        "lead.qualified",
        "lead.stage_changed",
        "lead.offered",
        "lead.accepted",
        "lead.rejected",
        "lead.reassigned",
        "lead.taken_over",
        "lead.touched",
        "lead.sql",
        "lead.unreachable",
        "lead.forgotten",
        "lead.opportunity",
        "lead.won",
        "lead.lost",
        "lead.outcome_corrected",
        "rep.out_of_office",
        "sla.nudged",
        "sla.escalated",
    }
    assert AuditAction("sla.nudged") == "sla.nudged"


def _literal_actions() -> list[str]:
    """String literals that look like audit actions anywhere in the shipped code."""
    found = []
    for package in ("handlers", "bot", "store"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "audit.py":
                continue
            tree = ast.parse(path.read_text(), str(path))
            # A dict's values may be webhook event names, which share some spellings.
            webhook_names = {id(v) for d in ast.walk(tree) if isinstance(d, ast.Dict) for v in d.values}
            for node in ast.walk(tree):
                if id(node) in webhook_names:
                    continue
                if isinstance(node, ast.Constant) and node.value in {a.value for a in AuditAction}:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}")
    return found


def test_no_audit_action_is_spelled_as_a_bare_string() -> None:
    # The webhook names in the agreement (scoring/) are the CRM's vocabulary, not the audit trail's.
    assert _literal_actions() == []
