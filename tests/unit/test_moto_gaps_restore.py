"""The rehearsal's moto patches (cutover_cli/rehearsal/moto_gaps/) hold only inside their block:
the other moto users of a test session see moto's own behaviour."""

from __future__ import annotations

import pytest

from cutover_cli.rehearsal.moto_gaps import cloudformation, dynamodb


def test_the_patches_are_gone_after_the_block():
    from moto.cloudformation import custom_model, models, parsing

    before = (vars(custom_model.CustomModel)["create_from_cloudformation_json"], parsing.parse_and_create_resource,
              vars(models.Stack)["create_resources"])  # fmt: skip
    with cloudformation.applied():
        assert parsing.parse_and_create_resource is not before[1]
    after = (vars(custom_model.CustomModel)["create_from_cloudformation_json"], parsing.parse_and_create_resource,
             vars(models.Stack)["create_resources"])  # fmt: skip
    assert after == before


def test_a_second_block_inside_the_first_is_refused():
    from moto.dynamodb.models.table import Table

    before = vars(Table)["set_stream_specification"]
    with dynamodb.applied(), pytest.raises(RuntimeError, match="already applied"), dynamodb.applied():
        pass
    assert vars(Table)["set_stream_specification"] is before
