"""`cutover rehearse`: deploy a stage into a local emulator before deploying it to AWS."""

from __future__ import annotations

import sys
import textwrap
from typing import TYPE_CHECKING

import click

from cutover_cli._common import Runtime, common_options
from cutover_cli.app import EXIT_FINDING

if TYPE_CHECKING:
    from cutover_cli.rehearsal.report import Report

WIDTH = 80


def _context(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE (e.g. -c vpc=true)")
        out[key] = text
    return out


@click.command("rehearse")
@click.option(
    "--context",
    "-c",
    "context",
    multiple=True,
    callback=_context,
    metavar="KEY=VALUE",
    help="A CDK context value, as `cdk deploy -c` takes it (repeatable; the runbook's $CTX as it is). "
    "stage, service and migration given so win over --stage/--service/--migration; account, region, "
    "legacyTables and legacyStreamArns are replaced by the rehearsal's local ones.",
)
@common_options
def command(rt: Runtime, context: dict[str, str]) -> None:
    """Rehearse the deploy of --stage (and --migration) on a local moto server: synthesize the
    stage, create its legacy tables as the Serverless stack has them, deploy every stack through
    CloudFormation in dependency order (assets in the bootstrap bucket, the legacy check and the
    flag's creation run from their deployed code), and report each stack, the custom resources'
    verdicts and what the IAM checker finds in the deployed policies.

    Run it before the first deploy to staging (runbooks/deploy.md). Nothing leaves this machine;
    --endpoint-url is ignored (the rehearsal starts its own backend, gone when it ends). Exit 0
    when every stack deployed, 1 when one failed (CloudFormation's reason is printed), 2 when the
    stage could not be synthesized.
    """
    import logging
    import warnings

    from cutover.errors import ConfigError
    from cutover_cli.rehearsal.rehearse import rehearse

    # moto warns and logs (logger "moto") per resource of a type it does not emulate; the report
    # lists those types instead
    warnings.filterwarnings("ignore", message="Tried to parse", category=UserWarning)
    logging.getLogger("moto").setLevel(logging.ERROR)

    requested, context = rt.requested, dict(context)
    shown = not rt.as_json and sys.stderr.isatty()
    report = rehearse(
        progress=(lambda message: click.echo(f"{message} ...", err=True)) if shown else None,
        service=context.pop("service", requested.service),
        stage=context.pop("stage", requested.stage),
        migration=context.pop("migration", requested.migration),
        extra_context=context,
    )
    if report.error is not None and not report.stacks:
        raise ConfigError(report.error)
    rt.emit(report.to_dict(), lambda: _print(report))
    if not report.ok:
        raise SystemExit(EXIT_FINDING)


def _wrap(text: str, indent: int) -> str:
    """`text` in lines of at most 80 columns; an id longer than a line is cut, never overflows."""
    return textwrap.fill(
        text,
        WIDTH,
        initial_indent=" " * indent,
        subsequent_indent=" " * (indent + 2),
        break_on_hyphens=False,
        break_long_words=True,
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _print(report: Report) -> None:
    click.echo(_wrap(f"rehearse {report.service} {report.stage} (migration {report.migration}), local moto server", 0))
    click.echo("stacks")
    width = max((len(n) for n in report.expected_stacks), default=10)
    for stack in report.stacks:
        count = f"{stack.resources:>3} resources" if stack.ok else ""
        click.echo(f"  {stack.name:<{width}}  {stack.status:<18} {count}".rstrip())
        if stack.reason:
            click.echo(_wrap(stack.reason, 4))
        if report.unemulated.get(stack.name):
            click.echo(_wrap("not emulated by moto: " + ", ".join(report.unemulated[stack.name]), 4))
    deployed = {s.name for s in report.stacks}
    for name in report.expected_stacks:
        if name not in deployed:
            click.echo(f"  {name:<{width}}  not deployed (a stack it depends on failed)")
    click.echo("custom resources")
    for logical, kind, verdict in report.custom:
        click.echo(f"  {logical} ({kind})")
        click.echo(_wrap(verdict, 4))
    if not report.custom:
        click.echo("  none reached")
    click.echo("IAM (the synthesized policies, resolved with the deployed ids)")
    statements = sum(f.statements for f in report.grants)
    unresolved = [f for f in report.grants if f.unresolved]
    conditional = sum(f.conditional for f in report.grants)
    click.echo(
        _wrap(
            f"{_plural(len(report.grants), 'function')}, {_plural(statements, 'statement')}; "
            f"{_plural(sum(len(f.unresolved) for f in unresolved), 'grant')} on a resource the checker cannot "
            f"resolve; {_plural(conditional, 'statement')} with a Condition it does not evaluate",
            2,
        )
    )
    for finding in unresolved:
        click.echo(_wrap(f"{finding.function} ({finding.handler}): {', '.join(finding.unresolved)}", 4))
    click.echo("run")
    if not report.ran:
        click.echo(_wrap("not run: the migration on the deployed system is not built yet (issue 20)", 2))
    for step in report.steps:
        mark = "ok" if step.ok else "FAILED"
        click.echo(_wrap(f"{step.name}: {mark} ({step.seconds:.1f} s) {step.detail}".rstrip(), 2))
    seconds = ", ".join(f"{k} {v:.0f} s" for k, v in report.seconds.items())
    click.echo(f"{'rehearsed' if report.ok else 'FAILED'} ({seconds})")
