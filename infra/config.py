"""CDK context -> one validated `StageConfig`, failing synth with every problem named at once.

Why: a deploy with a missing or malformed value must fail at `cdk synth` on a laptop, not at
3 a.m. in CloudFormation. Dev defaults live under the `devDefaults` context key in cdk.json and
are applied ONLY to the stage named dev (not to every development-class stage: they name dev's
legacy tables), so no other deploy can silently inherit them.

The stage is any name cutover.stages accepts (`-c stage=qa`); its protection follows its class
(`-c stageClass=development|staging|production`, else the name's known class, else production).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cutover.errors import ConfigError
from cutover.names import Names
from cutover.stages import (
    DEVELOPMENT,
    NAME_RE,
    NAME_RULE,
    PRODUCTION,
    class_problem,
    prefix_problem,
    stage_class,
)

STREAM_ARN_RE = re.compile(
    r"^arn:(aws[a-z-]*):dynamodb:([a-z0-9-]+):(\d{12}):table/([A-Za-z0-9_.-]{3,255})"
    r"/stream/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$"
)
TABLE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
TRUE = ("true", "1", "yes")
FALSE = ("false", "0", "no", "")
VAULT_LOCKS = ("off", "governance", "compliance")


@dataclass(frozen=True)
class StageConfig:
    """Everything a stage's stacks need; built only through `StageConfig.from_context`."""

    stage: str
    service: str
    legacy_users_table: str
    legacy_orders_table: str
    legacy_users_stream_arn: str
    legacy_orders_stream_arn: str
    cost_center: str
    stage_class: str = PRODUCTION  # development | staging | production (cutover.stages)
    data_classification: str = "confidential"
    vpc: bool = False
    parallelization_factor: int = 1
    alarm_email: str | None = None
    backfill_max_concurrency: int = 10
    iterator_age_alarm_seconds: int = 300
    account: str | None = None
    region: str | None = None
    api_gateway_cloudwatch_role: bool = False  # opt-in: sets the ACCOUNT-WIDE API Gateway logging role
    backup_vault_lock: str = "off"  # off | governance | compliance (offer for prod)

    @property
    def names(self) -> Names:
        return Names(self.service, self.stage)

    @property
    def is_prod(self) -> bool:
        """Production's class: termination protection, 30-day backups, longer log retention."""
        return self.stage_class == PRODUCTION

    @property
    def retain(self) -> bool:
        """Stateful resources survive stack deletion, deletion-protected, in every class but development."""
        return self.stage_class != DEVELOPMENT

    @property
    def point_in_time_recovery(self) -> bool:
        return self.stage_class != DEVELOPMENT

    @property
    def backup_retention_days(self) -> int:
        return 30 if self.is_prod else 7

    def legacy_table_arn(self, stream_arn: str) -> str:
        """`arn:...:table/NAME/stream/TS` -> `arn:...:table/NAME` (exact, for IAM)."""
        return stream_arn.split("/stream/")[0]

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> StageConfig:
        """Build from a context getter (`app.node.try_get_context`); raise naming every problem."""
        stage = _text(get("stage"))
        raw: dict[str, Any] = {}
        defaults = get("devDefaults") if stage == "dev" else None
        for key in _KEYS:
            value = get(key)
            if value is None and isinstance(defaults, Mapping):
                value = defaults.get(key)
            raw[key] = value
        return _parse(raw)


# every context key the app reads (plus devDefaults, which supplies any of them for dev only)
_KEYS = (
    "stage",
    "stageClass",
    "service",
    "legacyUsersTable",
    "legacyOrdersTable",
    "legacyUsersStreamArn",
    "legacyOrdersStreamArn",
    "costCenter",
    "dataClassification",
    "vpc",
    "parallelizationFactor",
    "alarmEmail",
    "backfillMaxConcurrency",
    "iteratorAgeAlarmSeconds",
    "account",
    "region",
    "apiGatewayCloudWatchRole",
    "backupVaultLock",
    "powertoolsLayerVersion",  # retired: read only to refuse it (the layer follows the pinned version)
)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int(raw: Mapping[str, Any], key: str, default: int, low: int, high: int, problems: list[str]) -> int:
    value = _text(raw.get(key))
    if value == "":
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        problems.append(f"{key}={value!r} must be an integer from {low} to {high}")
        return default
    return int(value)


def _parse(raw: Mapping[str, Any]) -> StageConfig:
    problems: list[str] = []

    def need(key: str, ok: Callable[[str], bool], hint: str) -> str:
        value = _text(raw.get(key))
        if value == "":
            problems.append(f"{key} is missing (expected {hint})")
        elif not ok(value):
            problems.append(f"{key}={value!r} is malformed (expected {hint})")
        return value

    stage = need("stage", lambda v: bool(NAME_RE.match(v)), NAME_RULE)
    service = need("service", lambda v: bool(NAME_RE.match(v)), NAME_RULE)
    explicit_class = _text(raw.get("stageClass")).lower() or None
    for problem in (
        prefix_problem(service, stage) if NAME_RE.match(stage) and NAME_RE.match(service) else None,
        class_problem(stage, explicit_class),
    ):
        if problem:
            problems.append(problem.replace("stage class ", "stageClass=", 1))
    tables = {
        k: need(k, lambda v: bool(TABLE_NAME_RE.match(v)), "a DynamoDB table name")
        for k in ("legacyUsersTable", "legacyOrdersTable")
    }
    streams = {
        k: need(
            k,
            lambda v: bool(STREAM_ARN_RE.match(v)),
            "arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/YYYY-MM-DDTHH:MM:SS.mmm",
        )
        for k in ("legacyUsersStreamArn", "legacyOrdersStreamArn")
    }
    for table_key, stream_key in (
        ("legacyUsersTable", "legacyUsersStreamArn"),
        ("legacyOrdersTable", "legacyOrdersStreamArn"),
    ):
        match = STREAM_ARN_RE.match(streams[stream_key])
        if match and tables[table_key] and match.group(4) != tables[table_key]:
            problems.append(f"{stream_key} belongs to table {match.group(4)!r}, not {table_key}={tables[table_key]!r}")
    cost_center = need("costCenter", lambda v: len(v) <= 128, "a cost-center tag value")
    classification = _text(raw.get("dataClassification")) or "confidential"
    flags = {}
    for key in ("vpc", "apiGatewayCloudWatchRole"):
        text = _text(raw.get(key)).lower()
        if text not in TRUE + FALSE:
            problems.append(f"{key}={text!r} must be true or false")
        flags[key] = text in TRUE
    lock = _text(raw.get("backupVaultLock")).lower() or "off"
    if lock not in VAULT_LOCKS:
        problems.append(f"backupVaultLock={lock!r} must be one of {'|'.join(VAULT_LOCKS)}")
    email = _text(raw.get("alarmEmail")) or None
    if email and not EMAIL_RE.match(email):
        problems.append(f"alarmEmail={email!r} is not an e-mail address")
    account = _text(raw.get("account")) or None
    if account and not ACCOUNT_RE.match(account):
        problems.append(f"account={account!r} must be a 12-digit AWS account id")
    region = _text(raw.get("region")) or None
    if region and not REGION_RE.match(region):
        problems.append(f"region={region!r} is not an AWS region name")
    if _text(raw.get("powertoolsLayerVersion")):
        problems.append(
            "powertoolsLayerVersion is no longer accepted: the Powertools layer is the version pinned in "
            "pyproject.toml, resolved from its public SSM parameter; drop the -c flag"
        )
    ints = {
        "parallelization_factor": _int(raw, "parallelizationFactor", 1, 1, 10, problems),
        "backfill_max_concurrency": _int(raw, "backfillMaxConcurrency", 10, 1, 1000, problems),
        "iterator_age_alarm_seconds": _int(raw, "iteratorAgeAlarmSeconds", 300, 1, 86400, problems),
    }
    if problems:
        raise ConfigError(
            "CDK context is invalid: "
            + "; ".join(problems)
            + ". Pass each value with -c KEY=VALUE (see runbooks/deploy.md)."
        )
    return StageConfig(
        stage=stage,
        stage_class=stage_class(stage, explicit_class),
        service=service,
        legacy_users_table=tables["legacyUsersTable"],
        legacy_orders_table=tables["legacyOrdersTable"],
        legacy_users_stream_arn=streams["legacyUsersStreamArn"],
        legacy_orders_stream_arn=streams["legacyOrdersStreamArn"],
        cost_center=cost_center,
        data_classification=classification,
        vpc=flags["vpc"],
        api_gateway_cloudwatch_role=flags["apiGatewayCloudWatchRole"],
        backup_vault_lock=lock,
        alarm_email=email,
        account=account,
        region=region,
        **ints,
    )
