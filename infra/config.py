"""CDK context -> one validated `StageConfig`, failing synth with every problem named at once.

Why: a deploy with a missing or malformed value must fail at `cdk synth` on a laptop, not at
3 a.m. in CloudFormation. Dev defaults live under the `devDefaults` context key in cdk.json and
are applied ONLY to the stage named dev (not to every development-class stage: they name dev's
legacy tables), so no other deploy can silently inherit them.

The stage is any name cutover.stages accepts (`-c stage=qa`); its protection follows its class
(`-c stageClass=development|staging|production`, else the name's known class, else production).
The migration definition is chosen by `-c migration=module:attribute` (default: the loader's,
i.e. CUTOVER_MIGRATION, `[tool.cutover]`, else the seed) and read ONCE here; every stack builds
from it. The legacy tables are given per source role of that definition:
`legacyTables` and `legacyStreamArns`, each either a JSON object (`{"<role>": "<value>"}`, as in
cdk.json) or `role=value,role=value` (what a shell passes through `-c` without quoting trouble).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from cutover.errors import ConfigError
from cutover.migration import Migration, MigrationError
from cutover.migration_loader import DEFAULT_SPEC, load_migration, resolve_spec
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
STREAM_HINT = "arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/YYYY-MM-DDTHH:MM:SS.mmm"
# The seed's per-table keys, replaced by the per-role maps: refused so an old command line fails loudly.
RETIRED = ("legacyUsersTable", "legacyOrdersTable", "legacyUsersStreamArn", "legacyOrdersStreamArn")


def _seed() -> Migration:
    return load_migration(DEFAULT_SPEC)


@dataclass(frozen=True)
class StageConfig:
    """Everything a stage's stacks need; built only through `StageConfig.from_context`.

    `legacy_tables` / `legacy_stream_arns` are (role, value) pairs in the definition's order.
    `migration_spec` is what the Lambdas get as CUTOVER_MIGRATION: None for the seed (their
    default), else the `module:attribute` synth loaded, whose package is bundled with them.
    """

    stage: str
    service: str
    legacy_tables: tuple[tuple[str, str], ...]
    legacy_stream_arns: tuple[tuple[str, str], ...]
    cost_center: str
    stage_class: str = PRODUCTION  # development | staging | production (cutover.stages)
    migration: Migration = field(default_factory=_seed, compare=False)
    migration_spec: str | None = None
    api: bool = True  # the seed's example API (infra/stacks/api.py): by default only for the seed
    data_classification: str = "confidential"
    vpc: bool = False
    parallelization_factor: int = 1
    alarm_email: str | None = None
    backfill_max_concurrency: int = 10
    # Lambda reserved concurrency of the backfill segment function: by default sources x the Map's
    # concurrency, what one `--table all` run invokes at once (one execution per source; the backfill
    # lease keeps a second run from doubling it). The reconcile segment function's: the Map's (one
    # execution per run). None: none (accounts whose concurrency quota is low: unreserved
    # concurrency may not drop below 100). `-c segmentReservedConcurrency=N` sets both to N.
    segment_reserved_concurrency: int | None = 20
    reconcile_reserved_concurrency: int | None = 10
    iterator_age_alarm_seconds: int = 300
    account: str | None = None
    region: str | None = None
    api_gateway_cloudwatch_role: bool = False  # opt-in: sets the ACCOUNT-WIDE API Gateway logging role
    backup_vault_lock: str = "off"  # off | governance | compliance (offer for prod)

    @property
    def names(self) -> Names:
        return Names(self.service, self.stage, legacy=self.legacy_tables, migration=self.migration)

    @property
    def roles(self) -> tuple[str, ...]:
        """The migration's source roles, in the definition's order."""
        return self.migration.roles

    @property
    def migration_module(self) -> str | None:
        """The module the definition lives in (bundled into every Lambda), or None for the seed."""
        return None if self.migration_spec is None else self.migration_spec.partition(":")[0]

    def source_tables(self) -> dict[str, str]:
        """role -> legacy table name, in the definition's order."""
        return dict(self.legacy_tables)

    def legacy_table(self, role: str) -> str:
        return dict(self.legacy_tables)[role]

    def legacy_stream_arn(self, role: str) -> str:
        return dict(self.legacy_stream_arns)[role]

    def legacy_table_arn(self, role: str) -> str:
        """`arn:...:table/NAME/stream/TS` -> `arn:...:table/NAME` (exact, for IAM)."""
        return self.legacy_stream_arn(role).split("/stream/")[0]

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

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> StageConfig:
        """Build from a context getter (`app.node.try_get_context`); raise naming every problem."""
        stage = _text(get("stage"))
        raw: dict[str, Any] = {}
        defaults = get("devDefaults") if stage == "dev" else None
        from_defaults: set[str] = set()
        for key in _KEYS:
            value = get(key)
            if value is None and isinstance(defaults, Mapping):
                value = defaults.get(key)
                if value is not None:
                    from_defaults.add(key)
            raw[key] = value
        return _parse(raw, from_defaults)


# every context key the app reads (plus devDefaults, which supplies any of them for dev only)
_KEYS = (
    "stage",
    "stageClass",
    "service",
    "migration",
    "legacyTables",
    "legacyStreamArns",
    "api",
    "costCenter",
    "dataClassification",
    "vpc",
    "parallelizationFactor",
    "alarmEmail",
    "backfillMaxConcurrency",
    "segmentReservedConcurrency",
    "iteratorAgeAlarmSeconds",
    "account",
    "region",
    "apiGatewayCloudWatchRole",
    "backupVaultLock",
    "powertoolsLayerVersion",  # retired: read only to refuse it (the layer follows the pinned version)
    *RETIRED,  # retired: read only to refuse them (the legacy tables are given per source role)
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


def _reserved(
    raw: Mapping[str, Any], map_concurrency: int, sources: int, problems: list[str]
) -> tuple[int | None, int | None]:
    """`segmentReservedConcurrency` -> (backfill, reconcile) reservations: off, or N for both, at least
    sources x the Map's concurrency (default: exactly that for backfill, the Map's for reconcile).

    Fewer slots than one run invokes at once would throttle segments until their retries run out
    (issue 20, major 3: `--table all` starts one execution per source, 20 invocations met 10 slots)."""
    key, value = "segmentReservedConcurrency", _text(raw.get("segmentReservedConcurrency")).lower()
    least = sources * map_concurrency
    if value == "":
        return least, map_concurrency
    if value == "off":
        return None, None
    if not value.isdigit() or not least <= int(value) <= 1000:
        problems.append(
            f"{key}={value!r} must be off or an integer from sources x backfillMaxConcurrency "
            f"({sources} x {map_concurrency} = {least}) to 1000: fewer would throttle a `--table all` backfill's "
            "segments until their retries run out"
        )
        return least, map_concurrency
    return int(value), int(value)


def _role_map(value: Any, key: str, problems: list[str]) -> dict[str, Any]:
    """A per-role context value: a mapping (cdk.json), a JSON object, or `role=value,role=value` (-c)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                problems.append(f"{key}={text!r} is not a JSON object: write {key}=ROLE=VALUE,ROLE=VALUE")
                return {}
        else:
            pairs = [part.partition("=") for part in text.split(",") if part.strip()]
            if any(not sep or not role.strip() for role, sep, _ in pairs):
                problems.append(f"{key}={text!r} is malformed (expected ROLE=VALUE,ROLE=VALUE or a JSON object)")
                return {}
            value = {role.strip(): item.strip() for role, _, item in pairs}
    if not isinstance(value, Mapping):
        problems.append(f'{key}={value!r} must map each source role to a value ({{"<role>": "..."}})')
        return {}
    return dict(value)


def _migration(raw: Mapping[str, Any], problems: list[str]) -> tuple[Migration | None, str | None]:
    """The definition synth builds from, and the CUTOVER_MIGRATION value (None for the seed)."""
    spec = _text(raw.get("migration")) or None
    try:
        migration = load_migration(spec)
        seed = load_migration(DEFAULT_SPEC)
    except MigrationError as error:
        problems.append(f"migration: {error}")
        return None, None
    return migration, None if migration is seed else resolve_spec(spec).spec


def _legacy(
    raw: Mapping[str, Any], migration: Migration, from_defaults: Set[str], problems: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Per source role: the legacy table and its stream ARN, each checked, and checked to agree."""
    roles = migration.roles
    found: dict[str, dict[str, str]] = {}
    for key, ok, hint in (
        ("legacyTables", lambda v: bool(TABLE_NAME_RE.match(v)), "a DynamoDB table name"),
        ("legacyStreamArns", lambda v: bool(STREAM_ARN_RE.match(v)), STREAM_HINT),
    ):
        given = _role_map(raw.get(key), key, problems)
        unknown = sorted(set(given) - set(roles))
        if unknown and key not in from_defaults:  # cdk.json's dev defaults may name another migration's roles
            problems.append(
                f"{key} names {', '.join(map(repr, unknown))}, not a source of migration {migration.name!r} "
                f"(its roles: {', '.join(roles)})"
            )
        values: dict[str, str] = {}
        for role in roles:
            value = _text(given.get(role))
            if value == "":
                problems.append(f"{key}.{role} is missing (expected {hint})")
            elif not ok(value):
                problems.append(f"{key}.{role}={value!r} is malformed (expected {hint})")
            values[role] = value
        found[key] = values
    tables, streams = found["legacyTables"], found["legacyStreamArns"]
    for role in roles:
        match = STREAM_ARN_RE.match(streams[role])
        if match and tables[role] and match.group(4) != tables[role]:
            problems.append(
                f"legacyStreamArns.{role} belongs to table {match.group(4)!r}, not legacyTables.{role}={tables[role]!r}"
            )
    by_table: dict[str, list[str]] = {}
    for role, table in tables.items():
        if table:
            by_table.setdefault(table, []).append(role)
    for table, shared in by_table.items():
        if len(shared) > 1:
            problems.append(
                f"legacyTables gives {table!r} to {' and '.join(shared)}: each source role has its own table"
            )
    return tables, streams


def _parse(raw: Mapping[str, Any], from_defaults: Set[str] = frozenset()) -> StageConfig:
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
    for key in RETIRED:
        if _text(raw.get(key)) and key not in from_defaults:
            problems.append(
                f"{key} is no longer accepted: the legacy tables are given per source role, "
                "-c legacyTables=ROLE=TABLE,... -c legacyStreamArns=ROLE=STREAM_ARN,..."
            )
    migration, migration_spec = _migration(raw, problems)
    tables: dict[str, str] = {}
    streams: dict[str, str] = {}
    if migration is not None:
        tables, streams = _legacy(raw, migration, from_defaults, problems)
    cost_center = need("costCenter", lambda v: len(v) <= 128, "a cost-center tag value")
    classification = _text(raw.get("dataClassification")) or "confidential"
    flags = {}
    for key in ("vpc", "apiGatewayCloudWatchRole", "api"):
        text = _text(raw.get(key)).lower()
        if text not in TRUE + FALSE:
            problems.append(f"{key}={text!r} must be true or false")
        flags[key] = text in TRUE
    # The example API serves the seed's schema: deployed for the seed unless -c api=false, for any
    # other definition only with -c api=true.
    api_text = _text(raw.get("api")).lower()
    api = flags["api"] if api_text else migration_spec is None
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
    sources = len(migration.roles) if migration is not None else 1
    reserved, reconcile_reserved = _reserved(raw, ints["backfill_max_concurrency"], sources, problems)
    if problems or migration is None:
        raise ConfigError(
            "CDK context is invalid: "
            + "; ".join(problems)
            + ". Pass each value with -c KEY=VALUE (see runbooks/deploy.md)."
        )
    return StageConfig(
        stage=stage,
        stage_class=stage_class(stage, explicit_class),
        service=service,
        legacy_tables=tuple(tables.items()),
        legacy_stream_arns=tuple(streams.items()),
        cost_center=cost_center,
        migration=migration,
        migration_spec=migration_spec,
        api=api,
        data_classification=classification,
        vpc=flags["vpc"],
        api_gateway_cloudwatch_role=flags["apiGatewayCloudWatchRole"],
        backup_vault_lock=lock,
        alarm_email=email,
        account=account,
        region=region,
        segment_reserved_concurrency=reserved,
        reconcile_reserved_concurrency=reconcile_reserved,
        **ints,
    )
