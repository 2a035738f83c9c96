"""cutover.secrets: a function refuses another stage's secret before any AWS call; reads are cached."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from cutover.errors import ConfigError
from cutover.secrets import check_stage, get_stage_secret, secret_name

PROD_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/my-service/cutover/app-AbC123"


def test_name_is_read_from_full_and_partial_arns():
    assert secret_name(PROD_ARN) == "/prod/my-service/cutover/app"
    assert secret_name(PROD_ARN.removesuffix("-AbC123")) == "/prod/my-service/cutover/app"


def test_wrong_stage_secret_is_refused_with_the_fix():
    # Given a staging function pointed at a production secret
    environ = {"STAGE": "staging", "APP_SECRET_ARN": PROD_ARN}
    # When it reads the secret
    with pytest.raises(ConfigError) as error:
        get_stage_secret("APP_SECRET_ARN", environ)
    # Then it is refused naming both stages and what to do (and no AWS call was needed to decide)
    assert "belongs to stage 'prod' but this function runs in stage 'staging'" in str(error.value)
    assert "/staging/..." in str(error.value)


def test_unnamespaced_secret_is_refused():
    with pytest.raises(ConfigError, match="is not stage-namespaced"):
        check_stage("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbC123", "dev")


def test_missing_variable_is_named():
    with pytest.raises(ConfigError, match="APP_SECRET_ARN is not set"):
        get_stage_secret("APP_SECRET_ARN", {"STAGE": "dev"})


@mock_aws
def test_same_stage_secret_is_read_and_cached(monkeypatch):
    from aws_lambda_powertools.utilities import parameters

    # Given a dev secret and a dev function
    parameters.clear_caches()
    client = boto3.client("secretsmanager", region_name="us-east-1")
    arn = client.create_secret(Name="/dev/my-service/cutover/app", SecretString='{"key": "v1"}')["ARN"]
    environ = {"STAGE": "dev", "APP_SECRET_ARN": arn}
    # When it is read twice around a rotation
    first = get_stage_secret("APP_SECRET_ARN", environ, transform="json")
    client.put_secret_value(SecretId=arn, SecretString='{"key": "v2"}')
    second = get_stage_secret("APP_SECRET_ARN", environ, transform="json")
    # Then the value is decoded and the second read came from the cache
    assert first == second == {"key": "v1"}
    parameters.clear_caches()
    assert get_stage_secret("APP_SECRET_ARN", environ, transform="json") == {"key": "v2"}
