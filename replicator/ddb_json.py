"""DynamoDB JSON <-> plain Python values, with boto3's own (de)serialisers."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_DESERIALIZER = TypeDeserializer()
_SERIALIZER = TypeSerializer()


def from_ddb(image: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _DESERIALIZER.deserialize(v) for k, v in image.items()}


def to_ddb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _SERIALIZER.serialize(v) for k, v in item.items()}
