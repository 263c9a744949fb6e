"""Find English a user would read written straight into code, in the files the catalogue owns.

A file listed in ``CATALOGUED`` says everything through the catalogue (``_``, ``n_``, ``N_``):
a string literal in one of its functions that reads as words (``"Company size"``,
``f"New lead: {x}"``) is reported, so a new sentence cannot slip past ``make messages-check``.
Literals that are not text pass: identifiers (``"section"``, ``"baton:reject_form"``,
``"static_select"``), markup and punctuation (``"*"``, ``" · "``), emoji and emoji codes
(``":zap:"``), docstrings, dict keys, message ids, log lines and exception messages (for
developers), and the few capitalised names in ``ALLOWED`` (Adaptive Card enum values, "Baton").
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

CATALOGUED = (
    "bot/cli/config_cmd.py",
    "bot/cli/db_cmd.py",
    "bot/cli/digest_cmd.py",
    "bot/cli/import_cmd.py",
    "bot/cli/manifest_teams.py",
    "bot/cli/outbox_cmd.py",
    "bot/reach_report.py",
    "bot/slack/blocks.py",
    "bot/slack/commands.py",
    "bot/slack/home.py",
    "bot/slack/modals.py",
    "bot/slack/render.py",
    "bot/teams/cards.py",
    "bot/teams/render.py",
    "bot/teams/render_form.py",
    "bot/teams/render_notice.py",
    "handlers/digest/chart.py",
    "handlers/digest/review.py",
    "handlers/digest/weekly.py",
    "handlers/followup/cadence.py",
    "handlers/followup/escalation.py",
    "handlers/handoff/ooo.py",
    "handlers/handoff/reassign.py",
    "handlers/handoff/touch.py",
    "handlers/messaging/alerts.py",
    "handlers/messaging/platform_alert.py",
    "handlers/queries/__init__.py",
    "handlers/queries/definitions.py",
    "handlers/queries/feedback.py",
    "handlers/queries/help.py",
    "handlers/queries/history.py",
    "handlers/queries/lead_lookup.py",
    "handlers/queries/lists.py",
    "handlers/queries/my.py",
    "handlers/queries/ooo.py",
    "handlers/queries/parser.py",
    "handlers/queries/periods.py",
    "handlers/queries/render.py",
    "handlers/queries/roles.py",
    "handlers/queries/stats.py",
    "handlers/text/conditions.py",
    "handlers/text/reach.py",
    "handlers/text/routing.py",
    "handlers/text/score.py",
    "handlers/views/lead_card.py",
    "handlers/views/status.py",
)
# Non-text literals that look like words: Adaptive Card enum values and the product's name.
ALLOWED = frozenset(
    {
        "Action.Execute",
        "AdaptiveCard",
        "Attention",
        "Bolder",
        "FactSet",
        "Good",
        "Image",
        "Input.ChoiceSet",
        "Input.Text",
        "Large",
        "Medium",
        "None",
        "Small",
        "Stretch",
        "Table",
        "TableCell",
        "TableRow",
        "TextBlock",
        "Baton",
    }
)
_EMOJI_CODE = re.compile(r":[a-z0-9_+-]+:")
_WORD = re.compile(r"[A-Za-z]{2,}")
_LOOKUPS = {"_", "n_", "N_", "refuse", "refusal_text"}
_LOGGERS = {"debug", "info", "warning", "error", "exception", "critical", "log", "log_failure"}


def reads_as_text(literal: str) -> bool:
    """Words a person reads: letters with a space between, or a capitalised word (not an identifier)."""
    stripped = _EMOJI_CODE.sub("", literal).strip()
    if stripped in ALLOWED or not _WORD.search(stripped):
        return False
    return bool(re.search(r"[A-Za-z]\s+\S|\S\s+[A-Za-z]", stripped) or re.search(r"[A-Z]", stripped))


def _skipped(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are not shown to anyone (see the module docstring)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        elif isinstance(node, ast.Dict):
            skip.update(id(k) for k in node.keys if k is not None)
        elif isinstance(node, ast.Subscript):
            skip.update(id(n) for n in ast.walk(node.slice))
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            skip.update(id(n) for n in ast.walk(node.format_spec))  # f"{now:%Y-%m-%d}"
        elif isinstance(node, ast.Raise) and node.exc is not None:
            skip.update(id(n) for n in ast.walk(node.exc))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in _LOOKUPS and node.args:
                skip.add(id(node.args[0]))
            if name in _LOGGERS:
                skip.update(id(n) for arg in node.args for n in ast.walk(arg))
    return skip


def _literals(node: ast.AST) -> Iterator[tuple[int, str]]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.lineno, node.value
    elif isinstance(node, ast.JoinedStr):
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                yield node.lineno, part.value


def bare_text(source: str, where: str) -> list[str]:
    """``where:line: "literal"`` for each literal in a function of ``source`` that reads as text."""
    tree = ast.parse(source)
    skip = _skipped(tree)
    found: list[str] = []
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    seen: set[int] = set()
    for function in functions:
        # Decorators (a click option's ``help=``) are command-line help, not yet in the catalogue.
        for decorator in function.decorator_list:
            skip.update(id(n) for n in ast.walk(decorator))
        for node in ast.walk(function):
            if id(node) in skip or id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, ast.JoinedStr):
                seen.update(id(v) for v in node.values)
            for line, literal in _literals(node):
                if reads_as_text(literal):
                    found.append(f"{where}:{line}: {literal!r} is English outside the catalogue")
    return found


def hidden_lookup(source: str, where: str) -> list[str]:
    """``where:line`` for each assignment to ``_`` in a module that imports the catalogue's ``_``:
    ``head, _, tail = s.partition(" ")`` would make every later ``_("id")`` call a string call."""
    tree = ast.parse(source)
    imports = any(
        isinstance(n, ast.ImportFrom) and n.module == "handlers.text" and any(a.name == "_" for a in n.names)
        for n in tree.body
    )
    if not imports:
        return []
    return [
        f"{where}:{n.lineno}: assigns to `_`, hiding the catalogue's `_`; name it `_unused` or similar"
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)
    ]


def problems(root: Path, packages: tuple[str, ...] = ("handlers", "bot", "scoring", "store")) -> list[str]:
    out: list[str] = []
    for name in CATALOGUED:
        path = root / name
        if path.is_file():
            out += bare_text(path.read_text(encoding="utf-8"), name)
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            out += hidden_lookup(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
    return out
