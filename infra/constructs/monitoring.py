"""Alarms, the SNS topic they notify, and the cutover dashboard.

Every metric a runbook tells the operator to watch has an alarm here or in the API stack
(`api_alarms`): records the replicator REPORTS failed (`RecordsFailed`: failures are reported in
batchItemFailures, not raised, so Lambda's `Errors` stays 0), quarantine growth, lag, failure
queues, throttles, backfill failures; and on the read path `ShadowMismatch`, `FlagInvalid`,
`V3Fallback`, `V3Error` and API 5XX. Quarantine growth is counted twice: the replicator's
`RecordsQuarantined` and the quarantine table's consumed writes (backfill and re-drive too).
v3 throttling uses the table's own `ThrottledRequests` per operation, not account-level metrics.
Replication that stops silently (a re-created legacy stream leaves the event source on the old ARN:
no invocations, so IteratorAge has no data and its alarm stays quiet) is caught from the other
side: a legacy table taking writes while the replicator is not invoked at all (`STALLED`).
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cutover import metrics as m
from infra.config import StageConfig
from infra.constructs.refs import construct_name
from infra.retention import retained_unless_new

PERIOD = Duration.minutes(5)
# Emitted by the replicator via Powertools metrics (replicator/handler.py; a test keeps them in step).
APP_NAMESPACE = m.NAMESPACE
REPLICATOR_OUTCOMES = m.REPLICATOR_OUTCOMES
# Read-path metrics (app_handlers/telemetry.py) -> (threshold per 5 minutes, what it means).
# V3Fallback is normal for a second after a write (replication lag), so only a burst alarms.
API_METRIC_ALARMS = {
    m.SHADOW_MISMATCH: (1, "shadow reads where v3 differs from transform(legacy) (runbooks/cutover.md)"),
    m.FLAG_INVALID: (1, "reads that found an invalid read-source flag value and fell back to legacy"),
    m.V3_FALLBACK: (100, "v3 misses served from legacy (normal only right after writes)"),
    m.V3_ERROR: (1, "v3 reads that failed while serving from v3 (runbooks/rollback.md)"),
}
API_5XX_THRESHOLD = 5
LEGACY_READS = [dynamodb.Operation.SCAN, dynamodb.Operation.GET_ITEM, dynamodb.Operation.QUERY]
V3_OPERATIONS = [
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.QUERY,
    dynamodb.Operation.BATCH_WRITE_ITEM,
]


# 1 for a period where the legacy table took writes and the replicator ran not once; FILL counts an
# absent metric (a function never invoked publishes no Invocations) as 0.
STALLED = "IF(FILL(writes, 0) > 0 AND FILL(invocations, 0) == 0, 1, 0)"
STALLED_PERIODS = 3  # 15 minutes in a row: a write at a period's end replicates in the next one


class Monitoring(Construct):
    """Attributes: `topic`, `alarms` (name -> Alarm), `dashboard`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        replicator: lambda_.IFunction,
        failure_queues: dict[str, sqs.IQueue],
        v3: dynamodb.ITable,
        quarantine: dynamodb.ITable,
        backfill: sfn.IStateMachine,
        legacy: dict[str, dynamodb.ITable] | None = None,
        reconcile: sfn.IStateMachine | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(
            self,
            "TopicKey",
            enable_key_rotation=True,
            removal_policy=retained_unless_new(config.retain),  # encrypts nothing that is retained
            description="Encrypts the cutover alarm topic (CloudWatch must be able to use it)",
        )
        # CloudWatch may use the key only for alarms in THIS account (confused-deputy guard).
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        self.topic = sns.Topic(self, "Alarms", topic_name=topic_name(config), master_key=key, enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(config.alarm_email))
        self.alarms: dict[str, cw.Alarm] = {}
        self._alarm(
            "IteratorAge",
            replicator.metric("IteratorAge", statistic="Maximum", period=Duration.minutes(1)),
            config.iterator_age_alarm_seconds * 1000,
            periods=5,
            what="replication lag (oldest stream record age, ms)",
        )
        self._alarm("ReplicatorErrors", replicator.metric_errors(period=PERIOD), 1, what="replicator invocation errors")
        self._alarm(
            m.RECORDS_FAILED,
            app_metric(config, m.RECORDS_FAILED),
            1,
            what="stream records the replicator reported failed (retried, then sent to a failure queue)",
        )
        self._alarm(
            m.RECORDS_QUARANTINED,
            app_metric(config, m.RECORDS_QUARANTINED),
            1,
            what="stream records quarantined by replication (new bad legacy items)",
        )
        self._alarm(
            "V3Throttles",
            v3.metric_throttled_requests_for_operations(operations=V3_OPERATIONS, period=PERIOD),
            1,
            what="throttled requests on the v3 table",
        )
        for source, table in (legacy or {}).items():
            # backfill's segment Scans share the legacy tables with production: a throttle here means
            # lower the state machine's per-segment `rate` (runbooks/backfill.md)
            self._alarm(
                f"Legacy{construct_name(source)}Throttles",
                table.metric_throttled_requests_for_operations(operations=LEGACY_READS, period=PERIOD),
                1,
                what=f"throttled reads on the legacy {source} table (backfill rate too high?)",
            )
            stalled = cw.MathExpression(
                expression=STALLED,
                using_metrics={
                    "writes": table.metric_consumed_write_capacity_units(period=PERIOD, statistic="Sum"),
                    "invocations": replicator.metric_invocations(period=PERIOD),
                },
                period=PERIOD,
                label=f"{source} writes with no replicator invocation",
            )
            self._alarm(
                f"Legacy{construct_name(source)}WritesUnreplicated",
                stalled,
                1,
                periods=STALLED_PERIODS,
                what=f"periods the legacy {source} table takes writes while the replicator is never invoked "
                "(stream re-created? the event source still reads the old one: deploy again with the "
                "table's current LatestStreamArn, runbooks/deploy.md)",
            )
        for source, queue in failure_queues.items():
            self._alarm(
                f"{construct_name(source)}FailureQueueDepth",
                queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
                1,
                what=f"{source} stream batches that exhausted retries (re-drive them)",
            )
        self._alarm(
            "QuarantineGrowth",
            quarantine.metric_consumed_write_capacity_units(period=PERIOD, statistic="Sum"),
            1,
            what="writes to the quarantine table (new bad legacy items)",
        )
        self._alarm("BackfillFailed", backfill.metric_failed(period=PERIOD), 1, what="failed backfill executions")
        if reconcile is not None:
            self._alarm(
                "ReconcileFailed", reconcile.metric_failed(period=PERIOD), 1, what="failed reconcile executions"
            )
        self.dashboard = self._dashboard(config, replicator, failure_queues, v3, quarantine)

    def _alarm(self, name: str, metric: cw.IMetric, threshold: float, *, what: str, periods: int = 1) -> None:
        self.alarms[name] = add_alarm(self, name, metric, threshold, topic=self.topic, what=what, periods=periods)

    def _dashboard(
        self,
        config: StageConfig,
        replicator: lambda_.IFunction,
        queues: dict[str, sqs.IQueue],
        v3: dynamodb.ITable,
        quarantine: dynamodb.ITable,
    ) -> cw.Dashboard:
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{config.names.prefix}-cutover")
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Replication lag (IteratorAge max, ms)",
                left=[replicator.metric("IteratorAge", statistic="Maximum", period=Duration.minutes(1))],
            ),
            cw.GraphWidget(
                title="Throughput",
                left=[
                    replicator.metric_invocations(period=PERIOD),
                    v3.metric_consumed_write_capacity_units(period=PERIOD),
                ],
            ),
            cw.GraphWidget(
                title="Errors and throttles",
                left=[
                    replicator.metric_errors(period=PERIOD),
                    replicator.metric_throttles(period=PERIOD),
                    v3.metric_throttled_requests_for_operations(operations=V3_OPERATIONS, period=PERIOD),
                ],
            ),
            cw.GraphWidget(
                title="Quarantine writes and failure queues",
                left=[
                    quarantine.metric_consumed_write_capacity_units(period=PERIOD),
                    *[
                        q.metric_approximate_number_of_messages_visible(period=Duration.minutes(1))
                        for q in queues.values()
                    ],
                ],
            ),
            cw.GraphWidget(
                title="Replicator record outcomes", left=[app_metric(config, name) for name in REPLICATOR_OUTCOMES]
            ),
            cw.GraphWidget(title="Read path", left=[app_metric(config, name) for name in API_METRIC_ALARMS]),
        )
        return dashboard


def topic_name(config: StageConfig) -> str:
    return f"{config.names.prefix}-cutover-alarms"


def app_metric(config: StageConfig, name: str) -> cw.Metric:
    """A Powertools EMF metric of ours (namespace `cutover`, dimension service = POWERTOOLS_SERVICE_NAME)."""
    return cw.Metric(
        namespace=APP_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": config.service},
        statistic="Sum",
        period=PERIOD,
    )


def add_alarm(
    scope: Construct, name: str, metric: cw.IMetric, threshold: float, *, topic: sns.ITopic, what: str, periods: int = 1
) -> cw.Alarm:
    alarm = cw.Alarm(
        scope,
        name,
        metric=metric,
        threshold=threshold,
        evaluation_periods=periods,
        comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        alarm_description=f"cutover: {what} >= {threshold:g}. See runbooks/.",
    )
    alarm.add_alarm_action(cw_actions.SnsAction(topic))
    return alarm


def api_alarms(scope: Construct, *, config: StageConfig, api: apigw.RestApi) -> dict[str, cw.Alarm]:
    """The read path's alarms (API stack), notifying the replication stack's topic by its name."""
    topic = sns.Topic.from_topic_arn(
        scope, "AlarmTopic", Stack.of(scope).format_arn(service="sns", resource=topic_name(config))
    )
    alarms = {
        name: add_alarm(scope, f"{name}Alarm", app_metric(config, name), threshold, topic=topic, what=what)
        for name, (threshold, what) in API_METRIC_ALARMS.items()
    }
    alarms["Api5XX"] = add_alarm(
        scope,
        "Api5XXAlarm",
        api.metric_server_error(period=PERIOD, statistic="Sum"),
        API_5XX_THRESHOLD,
        topic=topic,
        what="API responses with a 5XX status",
    )
    return alarms
