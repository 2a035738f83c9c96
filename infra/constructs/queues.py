"""Encrypted SQS queues for failure records (what a poison batch leaves behind), retained unless
their own creation rolls back (infra/retention.py)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.retention import retained_unless_new


def failure_queue(scope: Construct, construct_id: str, *, name: str, retain: bool) -> sqs.Queue:
    """14-day retention (the maximum) so an operator always has time to re-drive."""
    queue = sqs.Queue(
        scope,
        construct_id,
        queue_name=name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=retained_unless_new(retain),
    )
    Validations.of(queue).acknowledge(
        Acknowledgment(
            id="AwsSolutions-SQS3",
            reason="This queue IS the failure destination (Lambda on-failure records); a DLQ for it would "
            "only hide failures from the queue-depth alarm.",
        )
    )
    return queue
