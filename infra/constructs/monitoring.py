"""Alarms, the SNS topic they notify, and the cutover dashboard.

Quarantine growth is measured as consumed write capacity on the quarantine table: every new
quarantine entry is a write there, and it needs no custom metric from application code.
v3 throttling uses the table's own `ThrottledRequests` per operation, not account-level metrics.
"""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
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

from infra.config import StageConfig

PERIOD = Duration.minutes(5)
# Emitted by the replicator via Powertools metrics (replicator/handler.py; a test keeps them in step).
APP_NAMESPACE = "cutover"
REPLICATOR_OUTCOMES = ("RecordsApplied", "RecordsSkipped", "RecordsQuarantined", "RecordsFailed")
V3_OPERATIONS = [dynamodb.Operation.PUT_ITEM, dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.GET_ITEM,
                 dynamodb.Operation.QUERY, dynamodb.Operation.BATCH_WRITE_ITEM]


class Monitoring(Construct):
    """Attributes: `topic`, `alarms` (name -> Alarm), `dashboard`."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, replicator: lambda_.IFunction,
                 failure_queues: dict[str, sqs.IQueue], v3: dynamodb.ITable, quarantine: dynamodb.ITable,
                 backfill: sfn.IStateMachine) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(self, "TopicKey", enable_key_rotation=True,
                      removal_policy=RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY,
                      description="Encrypts the cutover alarm topic (CloudWatch must be able to use it)")
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(self, "Alarms", topic_name=f"{config.names.prefix}-cutover-alarms",
                               master_key=key, enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subs.EmailSubscription(config.alarm_email))
        self.alarms: dict[str, cw.Alarm] = {}
        self._alarm("IteratorAge", replicator.metric("IteratorAge", statistic="Maximum", period=Duration.minutes(1)),
                    config.iterator_age_alarm_seconds * 1000, periods=5,
                    what="replication lag (oldest stream record age, ms)")
        self._alarm("ReplicatorErrors", replicator.metric_errors(period=PERIOD), 1, what="replicator invocation errors")
        self._alarm("V3Throttles", v3.metric_throttled_requests_for_operations(operations=V3_OPERATIONS, period=PERIOD),
                    1, what="throttled requests on the v3 table")
        for source, queue in failure_queues.items():
            self._alarm(f"{source.title()}FailureQueueDepth",
                        queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
                        1, what=f"{source} stream batches that exhausted retries (re-drive them)")
        self._alarm("QuarantineGrowth", quarantine.metric_consumed_write_capacity_units(period=PERIOD, statistic="Sum"),
                    1, what="writes to the quarantine table (new bad legacy items)")
        self._alarm("BackfillFailed", backfill.metric_failed(period=PERIOD), 1, what="failed backfill executions")
        self.dashboard = self._dashboard(config, replicator, failure_queues, v3, quarantine)

    def _alarm(self, name: str, metric: cw.IMetric, threshold: float, *, what: str, periods: int = 1) -> None:
        alarm = cw.Alarm(
            self, name, metric=metric, threshold=threshold, evaluation_periods=periods,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=f"cutover: {what} >= {threshold:g}. See runbooks/.",
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        self.alarms[name] = alarm

    def _dashboard(self, config: StageConfig, replicator: lambda_.IFunction, queues: dict[str, sqs.IQueue],
                   v3: dynamodb.ITable, quarantine: dynamodb.ITable) -> cw.Dashboard:
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{config.names.prefix}-cutover")
        dashboard.add_widgets(
            cw.GraphWidget(title="Replication lag (IteratorAge max, ms)",
                           left=[replicator.metric("IteratorAge", statistic="Maximum", period=Duration.minutes(1))]),
            cw.GraphWidget(title="Throughput", left=[replicator.metric_invocations(period=PERIOD),
                                                     v3.metric_consumed_write_capacity_units(period=PERIOD)]),
            cw.GraphWidget(title="Errors and throttles", left=[
                replicator.metric_errors(period=PERIOD), replicator.metric_throttles(period=PERIOD),
                v3.metric_throttled_requests_for_operations(operations=V3_OPERATIONS, period=PERIOD)]),
            cw.GraphWidget(title="Quarantine writes and failure queues", left=[
                quarantine.metric_consumed_write_capacity_units(period=PERIOD),
                *[q.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)) for q in queues.values()]]),
            cw.GraphWidget(title="Replicator record outcomes", left=[
                cw.Metric(namespace=APP_NAMESPACE, metric_name=name, dimensions_map={"service": config.service},
                          statistic="Sum", period=PERIOD) for name in REPLICATOR_OUTCOMES]),
        )
        return dashboard
