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


def test_explicit_legacy_names_win_and_the_rest_is_derived():
    names = Names("svc", "prod", legacy_users="Users-Legacy", legacy_orders="Orders2019")
    assert (names.source_table("users"), names.source_table("orders"), names.v3_table) == (
        "Users-Legacy",
        "Orders2019",
        "svc-prod-users-v3",
    )
    assert names.with_published({"usersTable": "other"}).source_table("users") == "Users-Legacy"


def test_published_names_fill_what_was_not_given(settings, clients):
    # Given a deployment that published hand-named legacy tables
    aws_like = replace(settings, endpoint_url=None)  # resolution happens only against a deployment
    clients.ssm.put_parameter(
        Name=settings.names.deployment_parameter,
        Type="String",
        Value=json.dumps({"usersTable": "legacy-prod-users", "ordersTable": "legacy-prod-orders"}),
    )
    # When the CLI resolves its names, Then it uses them; an explicit flag still wins
    resolved = resolve_published_names(aws_like, clients)
    assert (resolved.names.source_table("users"), resolved.names.source_table("orders")) == (
        "legacy-prod-users",
        "legacy-prod-orders",
    )
    explicit = resolve_published_names(replace(aws_like, users_table="mine"), clients)
    assert (explicit.names.source_table("users"), explicit.names.source_table("orders")) == (
        "mine",
        "legacy-prod-orders",
    )


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
            "--users-table",
            "hand-named-users",
            "--table",
            "users",
            "--i-know-sync-is-off",
            "--quiet",
        ],
    )
    # Then the run looks for that table, and names it when it is missing
    assert result.exit_code == 2, result.output
    assert "hand-named-users" in result.stderr
