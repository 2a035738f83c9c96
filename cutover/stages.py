"""Stage names and stage classes: any stage name AWS's naming rules allow, with its safety from its class.

A stage is a name (`qa`, `live`, `prod-eu`): it appears in every resource name. Its CLASS decides
how its resources are protected and what defaults it gets:

| class | stateful resources | termination protection | backups | log level |
|---|---|---|---|---|
| development | deleted with the stack, no deletion protection, no PITR | off | 7 days | DEBUG |
| staging | retained, deletion-protected, PITR | off | 7 days | INFO |
| production | retained, deletion-protected, PITR | on (stateful stack) | 30 days | INFO |

The class is given explicitly (CDK context `stageClass`, Lambda `STAGE_CLASS`), or follows from a
name this module knows (`KNOWN_CLASSES`); a name it does not know gets PRODUCTION: a production
stage called `live` or `prod-eu` must not lose its protection because nobody said what it was.
An explicit class can never weaken a name the mapping calls production.

Length: every name cutover creates is `<service>-<stage>` plus a suffix, so the limit is on that
prefix; the tightest derived name (`DERIVED_NAMES`) is the AWS Backup vault `<prefix>-cutover`,
at most 50 characters, so the prefix is at most 42. The on-failure queues also carry a source
role (`<prefix>-cutover-<role>-stream-failures`, 80): `cutover.names.Names` checks each role.
"""

from __future__ import annotations

import re

from cutover.errors import ConfigError

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
NAME_RULE = "1-40 lower-case letters, digits and '-', starting with a letter or digit"

DEVELOPMENT, STAGING, PRODUCTION = "development", "staging", "production"
STAGE_CLASSES = (DEVELOPMENT, STAGING, PRODUCTION)
KNOWN_CLASSES = {
    "dev": DEVELOPMENT,
    "development": DEVELOPMENT,
    "stage": STAGING,
    "staging": STAGING,
    "prod": PRODUCTION,
    "production": PRODUCTION,
}

# Every physical name derived from the prefix `<service>-<stage>`, with the longest suffix cutover
# gives it and the AWS limit on the whole name. Lambda functions, IAM roles, log groups and alarms
# are not named by cutover (CloudFormation generates names that fit), so they set no limit.
DERIVED_NAMES: tuple[tuple[str, str, int, str], ...] = (
    (
        "AWS Backup vault",
        "-cutover",
        50,
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupVault.html",
    ),
    (
        "Step Functions state machine",
        "-cutover-reconcile",
        80,
        "https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html",
    ),
    (
        "CloudFormation stack",
        "-replication",
        128,
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html",
    ),
    (
        "AWS Backup plan",
        "-cutover",
        200,
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupPlan.html",
    ),
    (
        "DynamoDB table",
        "-cutover-checkpoints",
        255,
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-naming-rules",
    ),
    (
        "CloudWatch dashboard",
        "-cutover",
        255,
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
    ),
    ("SNS topic", "-cutover-alarms", 256, "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html"),
)
_TIGHTEST = min(DERIVED_NAMES, key=lambda d: d[2] - len(d[1]))
MAX_PREFIX = _TIGHTEST[2] - len(_TIGHTEST[1])  # 42: the backup vault's 50 minus "-cutover"


def name_problem(kind: str, value: str) -> str | None:
    """Why `value` is not a valid service or stage name, or None."""
    if NAME_RE.match(value):
        return None
    return f"{kind} {value!r} is not a valid name: use {NAME_RULE}"


def prefix_problem(service: str, stage: str) -> str | None:
    """Why `<service>-<stage>` would make a resource name AWS refuses, or None."""
    prefix = f"{service}-{stage}"
    if len(prefix) <= MAX_PREFIX:
        return None
    what, suffix, limit, _ = _TIGHTEST
    return (
        f"service {service!r} and stage {stage!r} make the name prefix {prefix!r} ({len(prefix)} characters): "
        f"the longest it may be is {MAX_PREFIX}, since the {what} is named <prefix>{suffix} "
        f"(at most {limit} characters); use a shorter stage or service"
    )


def check_names(service: str, stage: str) -> None:
    """Raise ConfigError naming the rule a service or stage name (or the two together) breaks."""
    for problem in (name_problem("service", service), name_problem("stage", stage), prefix_problem(service, stage)):
        if problem:
            raise ConfigError(problem)


def class_problem(stage: str, explicit: str | None) -> str | None:
    """Why `explicit` cannot be the class of `stage`, or None."""
    if not explicit:
        return None
    if explicit not in STAGE_CLASSES:
        return f"stage class {explicit!r} is not one of {'|'.join(STAGE_CLASSES)}"
    if KNOWN_CLASSES.get(stage) == PRODUCTION and explicit != PRODUCTION:
        return (
            f"stage {stage!r} is a production stage: its class cannot be {explicit!r} (that would drop its protection)"
        )
    return None


def stage_class(stage: str, explicit: str | None = None) -> str:
    """The class of `stage`: the explicit one if given, else the known mapping, else production."""
    problem = class_problem(stage, explicit)
    if problem:
        raise ConfigError(problem)
    return explicit or KNOWN_CLASSES.get(stage, PRODUCTION)
