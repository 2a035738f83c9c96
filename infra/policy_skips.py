"""Reviewed checkov skips: every policy we deliberately do not follow, with the reason.

`make test` runs checkov (in its own venv, `make checkov`) over every stage's synthesized
templates (tests/infrastructure/test_checkov.py); a finding not listed here fails the build.
Skips that apply to one resource only are written on that resource instead
(`infra.nag.checkov_skip`, template Metadata), like cdk-nag acknowledgements.
"""

from __future__ import annotations

CHECKOV_VERSION = "3.3.30"  # keep in step with the Makefile's CHECKOV_VERSION

CHECKOV_SKIPS: dict[str, str] = {
    "CKV_AWS_115": "No reserved concurrency: it would throttle the replicator below its shard x parallelization "
    "need; concurrency is bounded by shards, the backfill Map's MaxConcurrency and API throttling.",
    "CKV_AWS_116": "No Lambda DLQ: a DLQ only applies to asynchronous invocations; ours are stream-triggered (the "
    "event source's on-failure SQS queue is the DLQ), synchronous (API, Step Functions) or "
    "CloudFormation custom resources (a failure fails the deploy).",
    "CKV_AWS_117": "VPC placement is the opt-in -c vpc=true (infra/constructs/network.py); the functions only call "
    "AWS APIs over TLS with IAM, and deploy-time custom resources never run in the VPC.",
    "CKV_AWS_119": "DynamoDB tables use AWS-owned/managed encryption at rest, a documented choice (DESIGN.md): a "
    "customer-managed key adds a key policy every reader must be granted and a key whose loss "
    "loses the data; adopt one deliberately if the data classification requires it.",
    "CKV_AWS_158": "CloudWatch log groups are encrypted at rest by CloudWatch Logs; handlers log keys and outcomes, "
    "never item bodies or secrets, so a customer-managed key is not required (DESIGN.md).",
    "CKV_AWS_166": "The backup vault uses the AWS Backup default key (encrypted at rest); a customer-managed key is "
    "the same documented choice as for the tables (DESIGN.md).",
    "CKV_AWS_173": "Lambda environment variables hold only table names, parameter names and the stage (no secret), "
    "and Lambda encrypts them at rest with its AWS-managed key.",
    "CKV_AWS_27": "False positive: the failure queues ARE encrypted with SQS-managed SSE (SqsManagedSseEnabled), "
    "which this check does not recognise; tests assert it is on.",
    "CKV_AWS_120": "No API Gateway cache: reads must follow the read-source flag within seconds and see writes "
    "at once; a cache would serve stale or wrong-source data during the cut-over.",
}
