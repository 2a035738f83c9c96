"""Bench 6: how long `cutover` takes to start, in CPU seconds, beside a bare `python -c pass`.

Measured: the CPU time (user + system, `resource.getrusage(RUSAGE_CHILDREN)` around each child)
of the installed console script answering `cutover --help`, and `cutover <cmd> --help` for every
command (a group's subcommands too). CPU, not wall time: on a shared 2-core machine wall time
mostly measures the neighbours. Each invocation runs `rounds` times; the figure is the median.
Baseline: `python -c pass` with the same interpreter, measured the same way in the same run (what
any Python command costs before it does anything). No backend is needed: `--help` talks to none.

The imports themselves (no SDK, rich or moto for `--help`) are held by a test,
tests/unit/test_cli_startup.py; this bench puts numbers on them.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
from pathlib import Path

from bench.harness import BenchContext, ratio_figure

TOP_TARGET = 0.3  # `cutover --help`, CPU seconds
COMMAND_TARGET = 0.5  # `cutover <cmd> --help`


def _entry_point() -> list[str]:
    """The console script beside this interpreter (what a user runs), else the same via -c."""
    script = Path(sys.executable).with_name("cutover")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from cutover_cli.app import main; main()"]


def child_cpu(argv: list[str]) -> float:
    """CPU seconds (user + system) one child process used, from the kernel's rusage of children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(argv: list[str], rounds: int) -> float:
    return statistics.median(child_cpu(argv) for _ in range(rounds))


def invocations() -> list[list[str]]:
    """`--help`, then `<cmd> --help` for every command and every subcommand of a group."""
    import click

    from cutover_cli.app import command_names, load_command

    out = [["--help"]]
    for name in command_names():
        out.append([name, "--help"])
        command = load_command(name)
        if isinstance(command, click.Group):
            out += [[name, sub, "--help"] for sub in sorted(command.commands)]
    return out


def run(ctx: BenchContext) -> None:
    rounds = 3 if ctx.quick else 7
    baseline = median_cpu([sys.executable, "-c", "pass"], rounds)
    entry = _entry_point()
    measured: dict[str, float] = {}
    for args in invocations():
        label = "cutover " + " ".join(args)
        measured[label] = median_cpu([*entry, *args], rounds)
        top = args == ["--help"]
        target = TOP_TARGET if top else COMMAND_TARGET
        ctx.add(
            ratio_figure(
                "startup",
                f"CPU: {label}",
                measured[label],
                baseline,
                unit="s",
                baseline_name="python -c pass",
                target_max=target,
                target=f"< {target:g} s CPU",
                note=f"median of {rounds} runs, user + system CPU of the child" if top else "",
            )
        )
    ctx.details["startup"] = {"rounds": rounds, "python_pass_cpu_s": baseline, "cpu_s": measured, "entry": entry}
