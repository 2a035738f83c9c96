"""The CLI works on the tables a deployment actually has: explicit names, or the names it published."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner

from cutover.errors import ConfigError
from cutover.names import Names
from cutover_cli._common import resolve_published_names
from cutover_cli.app import main

CATALOG = "migrations.catalog:MIGRATION"


def test_explicit_legacy_names_win_and_the_rest_is_derived():
    names = Names("svc", "prod", legacy=(("users", "Users-Legacy"), ("orders", "Orders2019")))
    assert (names.source_table("users"), names.source_table("orders"), names.v3_table) == (
        "Users-Legacy",
        "Orders2019",
        "svc-prod-users-v3",
    )
    assert names.with_published({"sourceTables": {"users": "other"}}).source_table("users") == "Users-Legacy"


def _publish(settings, clients, value) -> None:
    clients.ssm.put_parameter(
        Name=settings.names.deployment_parameter, Type="String", Value=json.dumps(value), Overwrite=True
    )


def test_published_names_fill_what_was_not_given(settings, clients):
    # Given a deployment that published hand-named legacy tables
    aws_like = replace(settings, endpoint_url=None)  # resolution happens only against a deployment
    _publish(settings, clients, {"sourceTables": {"users": "legacy-prod-users", "orders": "legacy-prod-orders"}})
    # When the CLI resolves its names, Then it uses them; an explicit flag still wins
    resolved = resolve_published_names(aws_like, clients)
    assert (resolved.names.source_table("users"), resolved.names.source_table("orders")) == (
        "legacy-prod-users",
        "legacy-prod-orders",
    )
    explicit = resolve_published_names(replace(aws_like, legacy_tables=(("users", "mine"),)), clients)
    assert (explicit.names.source_table("users"), explicit.names.source_table("orders")) == (
        "mine",
        "legacy-prod-orders",
    )


def test_published_names_of_another_migration_are_read_by_its_roles(settings, clients):
    # Given a deployment of the catalog migration that published its source tables by role
    aws_like = replace(settings, endpoint_url=None, migration=CATALOG)
    _publish(settings, clients, {"sourceTables": {"products": "Products2019", "reviews": "reviews-legacy"}})
    # When the CLI resolves them under the same definition, Then each role gets its table
    resolved = resolve_published_names(aws_like, clients).names
    assert resolved.source_tables() == {"products": "Products2019", "reviews": "reviews-legacy"}
    assert resolved.v3_table == f"{settings.service}-dev-catalog"


def test_a_deployment_of_another_migration_is_an_error_naming_the_fix(settings, clients):
    # Given a catalog deployment, When the CLI runs with the seed definition (the default)
    _publish(settings, clients, {"sourceTables": {"products": "p", "reviews": "r"}})
    with pytest.raises(ConfigError) as err:
        resolve_published_names(replace(settings, endpoint_url=None), clients)
    # Then one line says what the deployment migrates and how to run its definition
    message = str(err.value)
    assert "migrates products, reviews" in message and "users, orders" in message and "--migration" in message


def test_a_deployment_into_another_target_is_an_error_too(settings, clients):
    # Given a deployment of the seed's roles whose target is not this run's (another definition, same roles)
    published = {"sourceTables": settings.names.source_tables(), "v3Table": "my-service-dev-something-else"}
    _publish(settings, clients, published)
    with pytest.raises(ConfigError, match="migrates into my-service-dev-something-else .*--migration"):
        resolve_published_names(replace(settings, endpoint_url=None), clients)
    # And the deployment's own target is accepted
    _publish(settings, clients, {**published, "v3Table": settings.names.v3_table})
    assert resolve_published_names(replace(settings, endpoint_url=None), clients).names.v3_table == (
        settings.names.v3_table
    )


def test_names_published_by_an_earlier_cutover_are_not_silently_ignored(settings, clients):
    _publish(settings, clients, {"usersTable": "legacy-prod-users", "ordersTable": "legacy-prod-orders"})
    with pytest.raises(ConfigError, match="has no sourceTables.*--legacy-table ROLE=NAME"):
        resolve_published_names(replace(settings, endpoint_url=None), clients)


def test_no_published_names_means_derived_names(settings, clients):
    aws_like = replace(settings, endpoint_url=None)
    assert resolve_published_names(aws_like, clients).names.source_table("users") == f"{settings.service}-dev-users"


def test_unreadable_published_names_are_an_error_not_a_silent_fallback(settings, clients):
    clients.ssm.put_parameter(Name=settings.names.deployment_parameter, Type="String", Value="not json")
    with pytest.raises(ConfigError, match="is not JSON"):
        resolve_published_names(replace(settings, endpoint_url=None), clients)


def test_the_cli_reads_the_legacy_tables_it_is_told(settings, clients):
    # Given a deployment whose legacy users table is named by hand (and missing here)
    result = CliRunner().invoke(
        main,
        [
            "backfill",
            "--endpoint-url",
            settings.endpoint_url,
            "--service",
            settings.service,
            "--legacy-table",
            "users=hand-named-users",
            "--table",
            "users",
            "--i-know-sync-is-off",
            "--quiet",
        ],
    )
    # Then the run looks for that table, and names it when it is missing
    assert result.exit_code == 2, result.output
    assert "hand-named-users" in result.stderr


def _backfill_looks_for(settings, *args: str, env: dict[str, str] | None = None) -> str:
    """What a backfill of a missing hand-named table says (it names the tables it looked for)."""
    result = CliRunner().invoke(
        main,
        ["backfill", "--endpoint-url", settings.endpoint_url, "--service", settings.service, "--quiet", *args],
        env=env or {},
    )
    assert result.exit_code == 2, result.output
    return result.stderr


def test_legacy_tables_come_from_the_environment_as_role_name_pairs(settings):
    env = {"CUTOVER_LEGACY_TABLES": "users=hand-users,orders=hand-orders"}
    said = _backfill_looks_for(settings, "--i-know-sync-is-off", env=env)
    assert "hand-users" in said and "hand-orders" in said


def test_legacy_tables_of_another_migration_are_given_by_its_roles(settings):
    said = _backfill_looks_for(
        settings, "--migration", CATALOG, "--legacy-table", "reviews=Reviews2019", "--table", "reviews"
    )
    assert "Reviews2019" in said and f"{settings.service}-dev-catalog" in said


@pytest.mark.parametrize(
    "args,needle",
    [
        (
            ("--legacy-table", "products=Products2019"),
            "--legacy-table products=Products2019: migration 'seed' has no source role 'products': use one of "
            "users, orders",
        ),
        (
            ("--migration", CATALOG, "--legacy-table", "users=u-table"),
            "migration 'catalog' has no source role 'users': use one of products, reviews",
        ),
        (("--legacy-table", "users"), "'users' is not ROLE=NAME"),
        (("--legacy-table", "users=aaa", "--legacy-table", "users=bbb"), "names users twice"),
    ],
)
def test_a_legacy_table_for_a_role_the_migration_lacks_is_one_line_exit_2(args, needle):
    result = CliRunner().invoke(main, ["status", "--endpoint-url", "http://127.0.0.1:1", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], result.stderr
