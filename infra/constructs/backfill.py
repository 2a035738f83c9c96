"""Distributed backfill: a Step Functions Map over segments, each looping its Lambda until done.

Why a DISTRIBUTED Map: an inline Map keeps every iteration in the parent execution's history,
capped at 25,000 events. One round of a segment (invoke + choice) costs ~5 events and a large
table needs many rounds per segment (each Lambda stops well before its 15-minute timeout), so
64 segments x 80 rounds would already hit the cap and fail the run. A distributed Map gives each
segment its own child execution and history, and MaxConcurrency bounds the parallel Lambdas
(and so the write load on v3).

Input: {"table": ROLE, "segments": N, "run_id": "...", "rate": R | null}, ROLE one of the migration's
source roles (`cutover backfill --remote --table all` starts one execution per role); R is items/s
for EACH segment (null: unlimited), so the run's load is at most min(N, MaxConcurrency) x R items/s
(runbooks/backfill.md, "On AWS", says how to choose it). `cutover backfill --remote` starts it.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from backfill.runs import DEFAULT_SEGMENTS, MAX_REMOTE_SEGMENTS
from cutover.environment import BACKFILL_SEGMENT_ENV
from infra.config import StageConfig
from infra.constructs.function import CutoverFunction, Placement
from infra.constructs.refs import TableRef
from infra.constructs.segments import InputRule, checked_input, logged_machine, number_in, segment_loop
from infra.constructs.tables import grant_table, own_spec

HANDLER = "backfill.segment_lambda.lambda_handler"
# Exactly what a segment calls on v3 (backfill/segment.py, replicator/v3_writer.py): GetItem of the
# current `_version`, then a PutItem conditional on it. No Update/Delete/BatchWrite, ever.
V3_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
# On each legacy table: the segment's Scan (backfill/scan.py) and the consistent GetItem that re-reads
# a bad item before quarantining it (backfill/segment.py, "fixed meanwhile"; issue 20's first major:
# without it the re-read is AccessDenied and the Map fails). Never a write, never an index.
LEGACY_ACTIONS = ("dynamodb:Scan", "dynamodb:GetItem")
QUARANTINE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem")  # conditional entry writes
CHECKPOINT_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
# What a field left out of the input means (as `cutover backfill --remote` without the option;
# `run_id` defaults to the execution's name). `table` has none: which table is never implied.
DEFAULTS = {"segments": DEFAULT_SEGMENTS, "rate": None}


class Backfill(Construct):
    """Attributes: `function` (segment Lambda), `state_machine`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        legacy: dict[str, str],
        tables: dict[str, TableRef],
        layer: lambda_.ILayerVersion,
        placement: Placement | None,
    ) -> None:
        super().__init__(scope, construct_id)
        names = config.names
        self.function = CutoverFunction(
            self,
            "Segment",
            config=config,
            handler=HANDLER,
            env=BACKFILL_SEGMENT_ENV,
            layer=layer,
            timeout=Duration.minutes(15),
            memory_mb=1024,
            placement=placement,
            # sources x the Map's concurrency unless set apart (-c segmentReservedConcurrency): what
            # one `--table all` run invokes at once; the lease (backfill/lease.py), not the
            # reservation, keeps a second run from doubling the load on the tables
            reserved_concurrency=config.segment_reserved_concurrency,
            transforms=True,
            values={f"{role.upper()}_TABLE": ref.name for role, ref in tables.items()},
        ).function
        for role in config.roles:
            grant_table(self.function, legacy[role], names.source_spec(role), LEGACY_ACTIONS, indexes=False)
        grant_table(self.function, tables["v3"].arn, names.v3_spec(), V3_ACTIONS, indexes=False)
        grant_table(
            self.function, tables["quarantine"].arn, own_spec(names, "quarantine"), QUARANTINE_ACTIONS, indexes=False
        )
        # its cursor (backfill/checkpoint.py): a consistent GetItem, a PutItem conditional on the
        # revision; never a delete (only `cutover backfill --restart` resets), never the reports table
        grant_table(self.function, tables["checkpoints"].arn, own_spec(names, "checkpoints"), CHECKPOINT_ACTIONS)
        self.state_machine = self._state_machine(config)

    def _state_machine(self, config: StageConfig) -> sfn.StateMachine:
        fields = ("table", "segments", "run_id", "rate")
        loop = segment_loop(self, self.function, {**{f"{f}.$": f"$.{f}" for f in fields}, "segment.$": "$.segment"})
        segment_map = sfn.DistributedMap(
            self,
            "Segments",
            items_path="$.segment_ids",
            max_concurrency=config.backfill_max_concurrency,
            item_selector={**{f"{f}.$": f"$.{f}" for f in fields}, "segment.$": "$$.Map.Item.Value"},
            map_execution_type=sfn.StateMachineType.STANDARD,
            result_path=sfn.JsonPath.DISCARD,
        )
        segment_map.item_processor(loop)
        plan = sfn.Pass(
            self,
            "Plan segments",
            parameters={
                **{f"{f}.$": f"$.{f}" for f in fields},
                "segment_ids.$": "States.ArrayRange(0, States.MathAdd($.segments, -1), 1)",
            },
        )
        return logged_machine(
            self,
            config,
            "backfill",
            checked_input(self, DEFAULTS, _input_rules(config), plan.next(segment_map)),
            (self.function,),
        )


def _input_rules(config: StageConfig) -> list[InputRule]:
    """Refuse, before any segment starts, an input a segment would fail on: a `table` that is not a
    source role of the migration (a typo would otherwise fail N segment Lambdas, each after its
    retries), a segment count States.ArrayRange cannot plan, a rate that is not items/s."""
    roles = config.roles
    matches = [sfn.Condition.string_equals("$.table", role) for role in roles]
    return [
        InputRule(
            "Known table?",
            sfn.Condition.and_(
                sfn.Condition.is_present("$.table"), matches[0] if len(matches) == 1 else sfn.Condition.or_(*matches)
            ),
            "Unknown table",
            "UnknownTable",
            f"input.table must be one of the migration's source roles: {', '.join(roles)}",
        ),
        InputRule(
            "Segments valid?",
            number_in("$.segments", 1, MAX_REMOTE_SEGMENTS),
            "Invalid segments",
            "InvalidSegments",
            f"input.segments must be a whole number from 1 to {MAX_REMOTE_SEGMENTS} (default {DEFAULTS['segments']})",
        ),
        InputRule(
            "Rate valid?",
            sfn.Condition.or_(
                sfn.Condition.is_null("$.rate"),
                sfn.Condition.and_(sfn.Condition.is_numeric("$.rate"), sfn.Condition.number_greater_than("$.rate", 0)),
            ),
            "Invalid rate",
            "InvalidRate",
            "input.rate must be items/s per segment (a number above 0), or null for no limit (the default)",
        ),
    ]
