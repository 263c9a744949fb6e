"""Benchmark: how long the ``baton`` command takes to answer, beside a bare Python importing click.

    .venv/bin/python bench/cli_start.py [--runs 20]

Every command runs ``--runs`` times, each in a fresh process, and the runs are interleaved (one
of each in turn) so that a busy moment on the machine falls on all of them alike. The floor,
``python -c "import click"``, is measured in the same run. Beside the commands, one row imports
every subcommand module, as ``baton --help`` did before the subcommands were loaded lazily. The
target: ``baton --help`` and ``baton config check`` take at most 10 times the floor (median).
Prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "baton.example.toml"
TARGET = 10.0


def _baton() -> list[str]:
    # The console script pip installed, as a user runs it; else the same entry point by hand.
    script = Path(sys.executable).parent / "baton"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from bot.cli import main; main()"]


def _cases() -> dict[str, list[str]]:
    baton = _baton()
    every_module = (
        "import bot.cli.config_cmd, bot.cli.db_cmd, bot.cli.digest_cmd, bot.cli.import_cmd, "
        "bot.cli.lead_cmd, bot.cli.manifest_cmd, bot.cli.manifest_teams, bot.cli.outbox_cmd, "
        "bot.cli.serve_cmd"
    )
    return {
        'floor: python -c "import click"': [sys.executable, "-c", "import click"],
        "baton --help": [*baton, "--help"],
        "baton config check": [*baton, "config", "check", "--config", str(EXAMPLE)],
        "baton manifest slack --socket": [*baton, "manifest", "slack", "--socket"],
        "baton serve --help": [*baton, "serve", "--help"],
        "every subcommand imported (the old --help)": [sys.executable, "-c", every_module],
    }


def _once(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        args,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
        env={**os.environ, "BATON_CONFIG": str(EXAMPLE)},
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="fresh processes per command (default 20)")
    args = parser.parse_args()
    cases = _cases()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for command in cases.values():  # one warm-up each: the first run reads the files from disk
        _once(command)
    load = os.getloadavg()[0]
    for _ in range(args.runs):
        for name, command in cases.items():
            times[name].append(_once(command))
    floor = statistics.median(next(iter(times.values())))
    print(
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average at start {load:.2f}; "
        f"{args.runs} fresh processes per command, interleaved.\n"
    )
    print("| command | median | p90 | median ÷ floor |")
    print("| --- | --- | --- | --- |")
    verdicts = []
    for name, values in times.items():
        median = statistics.median(values)
        ratio = median / floor
        print(f"| `{name}` | {median * 1000:.0f} ms | {_p90(values) * 1000:.0f} ms | {ratio:.1f}× |")
        if name in ("baton --help", "baton config check"):
            verdicts.append(f"{name}: {ratio:.1f}× ({'met' if ratio <= TARGET else 'MISSED'})")
    print(f"\nTarget at most {TARGET:.0f}× the floor: " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
