"""`cutover dlq list|redrive`: the replicator's on-failure queues, and re-driving what they point at."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cutover_cli._common import Runtime, common_options
from cutover_cli.app import EXIT_FINDING

if TYPE_CHECKING:
    from replicator.poller.dlq import FailureQueue, RedriveResult


@click.group("dlq")
def command() -> None:
    """Batches the replicator's event source discarded (on-failure queue): list them, re-drive them."""


def _queues(rt: Runtime) -> dict[str, FailureQueue]:
    """One on-failure queue per source role of the migration (each event source has its own)."""
    from replicator.poller.dlq import FailureQueue

    names = rt.settings.names
    sqs = rt.clients.sqs
    return {
        role: FailureQueue(sqs, sqs.get_queue_url(QueueName=names.failure_queue(role))["QueueUrl"])
        for role in names.roles
    }


@command.command("list")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True, help="Messages per queue.")
@common_options
def list_(rt: Runtime, limit: int) -> None:
    """Show each discarded batch (source, shard, size, first arrival; its sequence range under it)
    without consuming it. --json adds why Lambda gave up (condition) and the stream ARN."""
    from cutover_cli.render.dlq import render
    from replicator.poller.dlq import FailedBatch

    rows = [
        {"source": source, **FailedBatch.from_message(m).to_dict()}
        for source, queue in _queues(rt).items()
        for m in queue.peek(limit)
    ]

    def human() -> None:
        if not rows:
            click.echo("no discarded batches: the on-failure queues are empty")
            return
        click.echo("\n".join(render(rows)))

    rt.emit(rows, human)


@command.command("redrive")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True, help="Messages per queue.")
@common_options
def redrive_(rt: Runtime, limit: int) -> None:
    """Re-read each discarded range from the stream and apply it with the replicator's own code.

    A message is deleted only when every record of its range, up to its end sequence, was read and
    applied, skipped or quarantined; a range read only in part (closed shard, empty pages) is kept.
    A range the stream no longer holds (24 h retention) is reported as trimmed and exits 1:
    run `cutover reconcile --repair` to mend what it covered, then delete the message.
    """
    from replicator.engine import Replicator, ReplicatorConfig
    from replicator.poller.dlq import FailedBatch, Verdict, redrive

    results: list[RedriveResult] = []
    with Replicator(ReplicatorConfig.from_names(rt.settings.names), rt.clients.dynamodb) as replicator:
        for queue in _queues(rt).values():
            for message in queue.take(limit):
                batch = FailedBatch.from_message(message)
                result = redrive(batch, rt.clients.streams, replicator, rt.clients.region)
                (queue.delete if result.verdict is Verdict.REDRIVEN else queue.release)(batch)
                results.append(result)
    rows = [r.to_dict() for r in results]

    def human() -> None:
        if not results:
            click.echo("nothing to re-drive: the on-failure queues are empty")
        for r in results:
            click.echo(
                f"{r.verdict.value:9} {r.batch.shard_id} {r.batch.start_sequence}..{r.batch.end_sequence} "
                f"{r.records} record(s) {r.outcomes or ''} {r.detail}".rstrip()
            )

    rt.emit(rows, human)
    for r in results:  # one line per kept message, on stderr so --json output still says it
        if r.verdict is not Verdict.REDRIVEN:
            b, what = r.batch, f"{r.verdict.value}: {r.detail}"
            click.echo(f"kept: {b.shard_id} {b.start_sequence}..{b.end_sequence} {what}", err=True)
    trimmed = sum(r.verdict is Verdict.TRIMMED for r in results)
    if trimmed:
        click.echo(
            f"{trimmed} range(s) trimmed from the stream: run `cutover reconcile --repair`, then delete those messages "
            "(`aws sqs purge-queue` or the console)",
            err=True,
        )
    if any(r.verdict is not Verdict.REDRIVEN for r in results):
        raise SystemExit(EXIT_FINDING)
