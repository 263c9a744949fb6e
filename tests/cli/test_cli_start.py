"""The CLI answers at once: ``baton --help`` and ``baton config check`` load none of the heavy libraries.

Each command runs in a fresh interpreter (a test process has imported everything already), and
the test reads that interpreter's ``sys.modules``. How long it takes is measured in
``bench/cli_start.py``, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.cli.lazy import SUMMARY_LIMIT, LazyGroup
from tests.factories import EXAMPLE_CONFIG

HEAVY = (
    "matplotlib",
    "botbuilder",
    "botframework",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
    "sqlalchemy",
    "alembic",
    "apscheduler",
)

_RUN = """
import json, sys
from bot.cli import main
sys.argv = ["baton", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _modules_after(args: list[str]) -> set[str]:
    env = {**os.environ, "BATON_CONFIG": str(EXAMPLE_CONFIG)}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(args)], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stdout + done.stderr
    return {name.split(".")[0] for name in report["modules"]}


@pytest.mark.parametrize("args", [["--help"], ["config", "check"]], ids=["help", "config-check"])
def test_the_quick_commands_import_no_heavy_library(args: list[str]) -> None:
    assert _modules_after(args) & set(HEAVY) == set()


@pytest.mark.parametrize(
    "path",
    [
        ["serve"],
        ["db", "upgrade"],
        ["digest"],
        ["import"],
        ["lead", "forget"],
        ["outbox", "list"],
        ["manifest", "teams"],
    ],
    ids=" ".join,
)
def test_a_commands_help_imports_no_chat_sdk_or_charting(path: list[str]) -> None:
    # `outbox` needs SQLAlchemy for its --status choices; nothing needs the rest to print help.
    assert _modules_after([*path, "--help"]) & (set(HEAVY) - {"sqlalchemy"}) == set()


def test_config_check_in_a_fresh_process_still_validates_the_file() -> None:
    # The same run as above, so the import test cannot pass by failing early.
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "config", "check", "--config", str(EXAMPLE_CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and ": OK (definition v" in done.stdout, done.stderr


def _groups(group: click.Group, path: list[str]) -> list[tuple[click.Group, list[str]]]:
    found = [(group, path)]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += _groups(command, [*path, name])
    return found


def test_every_lazy_summary_is_the_commands_own_short_help() -> None:
    checked = 0
    for group, _path in _groups(cli, []):
        if not isinstance(group, LazyGroup):
            continue
        for name, lazy in group.lazy.items():
            assert lazy.summary == lazy.load().get_short_help_str(SUMMARY_LIMIT), name
            checked += 1
    assert checked >= 9  # eight top-level commands and `manifest teams`


def _every_command() -> list[list[str]]:
    paths: list[list[str]] = []
    for group, path in _groups(cli, []):
        ctx = click.Context(group)
        paths += [[*path, name] for name in group.list_commands(ctx)]
    return paths


@pytest.mark.parametrize("path", _every_command(), ids=" ".join)
def test_every_command_answers_help(path: list[str]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="baton")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: baton {' '.join(path)} ")
