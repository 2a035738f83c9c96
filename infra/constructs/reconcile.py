"""Reconcile on AWS: begin -> a distributed Map of segment Lambdas, each looped until done -> merge.

- `Begin` (the run function, reconciler/merge.py) stores when the run started and what held then
  (`evidence_at_start`), once per run id, and returns the map's items: every part (each source
  role of the migration, then "v3": the target -> source direction) x segment.
- `Parts` (a DISTRIBUTED Map, for the history limit explained in backfill.py) runs the segment
  Lambda (reconciler/segment_lambda.py) per item until it says done; each stores its partial
  result (counts + differences, chunked) in the reports table under the run id.
- `Merge` (the run function) adds the partials, sweeps quarantine and records the one report the
  flip gate reads, ordered by when the run started.

Input: {"run_id": "...", "segments": N, "sample": F | null, "repair": bool}, every field optional
(DEFAULTS; `run_id` is then the execution's name), each checked before Begin.
`cutover reconcile --remote [--repair]` starts it and follows it.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cutover.environment import RECONCILE_RUN_ENV, RECONCILE_SEGMENT_ENV
from infra.config import StageConfig
from infra.constructs.function import CutoverFunction, Placement
from infra.constructs.refs import TableRef
from infra.constructs.segments import InputRule, checked_input, invoke, logged_machine, number_in, segment_loop
from infra.constructs.tables import grant_table, own_spec
from reconciler.partials import DEFAULT_SEGMENTS, max_segments

SEGMENT_HANDLER = "reconciler.segment_lambda.lambda_handler"
RUN_HANDLER = "reconciler.merge.lambda_handler"
OPTIONS = ("run_id", "segments", "sample", "repair")
# What a field left out of the input means (as `cutover reconcile --remote` without the option);
# `run_id` defaults to the execution's name
DEFAULTS = {"segments": DEFAULT_SEGMENTS, "sample": None, "repair": False}

# Exactly the calls each function makes (reconciler/scan.py, checker.py, repair.py, sweep.py,
# partials.py, run.py's evidence_at_start), per table. The segment function may repair (--repair).
SEGMENT_GRANTS = {
    "legacy": ("dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:GetItem"),  # scan, v3->legacy, re-read
    "v3": ("dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"),  # + guarded repair
    "quarantine": ("dynamodb:GetItem", "dynamodb:PutItem"),  # is it quarantined; repair opens an entry
    "reports": ("dynamodb:GetItem", "dynamodb:PutItem"),  # its checkpoint and difference chunks
}
RUN_GRANTS = {
    "legacy": ("dynamodb:GetItem",),  # the quarantine sweep re-reads the source item
    "v3": ("dynamodb:GetItem",),
    "quarantine": ("dynamodb:Scan", "dynamodb:UpdateItem"),  # sweep: open entries, resolve
    "checkpoints": ("dynamodb:GetItem", "dynamodb:Query"),  # evidence: sync positions, gaps, consumers
    "reports": ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"),  # header, parts, chunks, report
}


class Reconcile(Construct):
    """Attributes: `segment_function`, `run_function`, `state_machine`."""

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
        values = {f"{role.upper()}_TABLE": ref.name for role, ref in tables.items()}
        self.segment_function, self.run_function = (
            CutoverFunction(
                self,
                construct_id,
                config=config,
                handler=handler,
                env=env,
                values=values,
                layer=layer,
                timeout=Duration.minutes(15),
                memory_mb=memory_mb,
                placement=placement,
                reserved_concurrency=reserved,
                transforms=True,  # both re-transform legacy items (the check, the quarantine sweep)
            ).function
            for construct_id, handler, env, memory_mb, reserved in (
                ("Segment", SEGMENT_HANDLER, RECONCILE_SEGMENT_ENV, 1024, config.reconcile_reserved_concurrency),
                ("Run", RUN_HANDLER, RECONCILE_RUN_ENV, 512, None),
            )
        )
        for function, grants in ((self.segment_function, SEGMENT_GRANTS), (self.run_function, RUN_GRANTS)):
            _grant(function, config, legacy, tables, grants)
        self.state_machine = self._state_machine(config)

    def _state_machine(self, config: StageConfig) -> sfn.StateMachine:
        options = {f"{o}.$": f"$.{o}" for o in OPTIONS}
        begin = invoke(self, "Begin", self.run_function, {"step": "begin", **options}, "$.begin")
        loop = segment_loop(
            self, self.segment_function, {**options, "part.$": "$.part", "segment.$": "$.segment"}, name="Run part"
        )
        parts = sfn.DistributedMap(
            self,
            "Parts",
            items_path="$.begin.items",
            max_concurrency=config.backfill_max_concurrency,
            item_selector={**options, "part.$": "$$.Map.Item.Value.part", "segment.$": "$$.Map.Item.Value.segment"},
            map_execution_type=sfn.StateMachineType.STANDARD,
            result_path=sfn.JsonPath.DISCARD,
        )
        parts.item_processor(loop)
        merge = invoke(self, "Merge", self.run_function, {"step": "merge", "run_id.$": "$.run_id"}, "$.report")
        run = checked_input(self, DEFAULTS, _input_rules(config), begin.next(parts).next(merge))
        return logged_machine(self, config, "reconcile", run, (self.segment_function, self.run_function))


def _input_rules(config: StageConfig) -> list[InputRule]:
    """Refuse, before Begin, an input the run would fail on: a segment count whose map items would
    not fit the state payload (max_segments), a sample that is no fraction, a repair that is no flag."""
    most = max_segments(config.roles)
    return [
        InputRule(
            "Segments valid?",
            number_in("$.segments", 1, most),
            "Invalid segments",
            "InvalidSegments",
            f"input.segments must be a whole number from 1 to {most} (default {DEFAULTS['segments']})",
        ),
        InputRule(
            "Sample valid?",
            sfn.Condition.or_(
                sfn.Condition.is_null("$.sample"),
                sfn.Condition.and_(
                    sfn.Condition.is_numeric("$.sample"),
                    sfn.Condition.number_greater_than("$.sample", 0),
                    sfn.Condition.number_less_than_equals("$.sample", 1),
                ),
            ),
            "Invalid sample",
            "InvalidSample",
            "input.sample must be the fraction of items to check (above 0, at most 1), or null for all (the default)",
        ),
        InputRule(
            "Repair valid?",
            sfn.Condition.is_boolean("$.repair"),
            "Invalid repair",
            "InvalidRepair",
            "input.repair must be true (repair what differs) or false (only report; the default)",
        ),
    ]


def _grant(
    function: lambda_.IFunction,
    config: StageConfig,
    legacy: dict[str, str],
    tables: dict[str, TableRef],
    grants: dict[str, tuple[str, ...]],
) -> None:
    names = config.names
    for role, actions in grants.items():
        if role == "legacy":
            for source in config.roles:
                grant_table(function, legacy[source], names.source_spec(source), actions, indexes=False)
        elif role == "v3":
            grant_table(function, tables["v3"].arn, names.v3_spec(), actions, indexes=False)
        else:
            grant_table(function, tables[role].arn, own_spec(names, role), actions, indexes=False)
