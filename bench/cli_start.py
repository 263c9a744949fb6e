"""Benchmark: how long the ``baton`` command takes to answer, beside a bare Python importing click.

    .venv/bin/python bench/cli_start.py [--runs 20] [--before REVISION]

Every command runs ``--runs`` times, each in a fresh process, and the runs are interleaved (one
of each in turn) so that a busy moment on the machine falls on all of them alike. The floor,
``python -c "import click"``, is measured in the same run. ``--before`` also measures an older
revision's CLI (its tree from ``git archive``, run from a temporary directory with the same
interpreter and packages), e.g. the commit before the subcommands were loaded lazily. The
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
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "baton.example.toml"
TARGET = 10.0


# What the console script runs, spelled out so that this tree and an older one start alike.
BATON = [sys.executable, "-c", "from bot.cli import main; main()"]


def _cases(before: Path | None) -> dict[str, tuple[Path, list[str]]]:
    cases = {
        'floor: python -c "import click"': (ROOT, [sys.executable, "-c", "import click"]),
        "baton --help": (ROOT, [*BATON, "--help"]),
        "baton config check": (ROOT, [*BATON, "config", "check", "--config", str(EXAMPLE)]),
        "baton manifest slack --socket": (ROOT, [*BATON, "manifest", "slack", "--socket"]),
        "baton serve --help": (ROOT, [*BATON, "serve", "--help"]),
    }
    if before:
        cases["before: baton --help"] = (before, [*BATON, "--help"])
        cases["before: baton config check"] = (before, [*BATON, "config", "check", "--config", str(EXAMPLE)])
    return cases


def _checkout(revision: str, into: Path) -> Path:
    """The tree of ``revision`` in ``into`` (``git archive``), to measure the code before a change."""
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _once(where: Path, args: list[str]) -> float:
    started = time.perf_counter()
    # The working directory comes first on sys.path (``-c``), ahead of the editable install.
    done = subprocess.run(
        args,
        cwd=where,
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
    parser.add_argument(
        "--before",
        metavar="REVISION",
        default=None,
        help="also measure this git revision's CLI (e.g. the commit before a change)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="baton-cli-before-") as folder:
        _measure(args.runs, _checkout(args.before, Path(folder)) if args.before else None, args.before)


def _measure(runs: int, before: Path | None, revision: str | None) -> None:
    cases = _cases(before)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for where, command in cases.values():  # one warm-up each: the first run reads the files from disk
        _once(where, command)
    load = os.getloadavg()[0]
    for _ in range(runs):
        for name, (where, command) in cases.items():
            times[name].append(_once(where, command))
    floor = statistics.median(next(iter(times.values())))
    print(
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average at start {load:.2f}; "
        f"{runs} fresh processes per command, interleaved"
        + (f"; before = revision {revision}" if revision else "")
        + ".\n"
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
