"""Request models (pydantic, validated with the Powertools parser) and their error messages.

Unknown fields are rejected (`extra="forbid"`): a client cannot smuggle `_version` or
`recordType` into the source of truth.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.utilities.parser import parse
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from app_handlers.errors import InvalidRequest
from cutover.transform_errors import shown

Id = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$"),
]
# DynamoDB's limit for a partition key value, in UTF-8 bytes (userId is one in legacy users, in the
# orders table's userId-index and in v3):
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-partition-sort-keys
MAX_KEY_BYTES = 2048


def _storable_key(value: str) -> str:
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise ValueError(f"is {size} bytes in UTF-8; DynamoDB keys are at most {MAX_KEY_BYTES} bytes")
    return value


# A key to READ: whatever the contract's transform accepts as a legacy key (any non-empty string),
# taken as it is (no stripping: " ann" and "ann" are different items), within DynamoDB's key size.
# `Id` stays the rule for ids the API itself writes.
Key = Annotated[str, StringConstraints(strict=True, min_length=1), AfterValidator(_storable_key)]
Email = Annotated[
    str,
    StringConstraints(
        strict=True, strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]


def _json_number(value: Any) -> Any:
    """Strict numbers: a JSON number decodes to int or Decimal (`parse_body` uses parse_float=Decimal);
    a string ("12.5"), a boolean or anything else is refused instead of coerced."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError(f"must be a JSON number, got {shown(value)}")
    return value


Amount = Annotated[Decimal, BeforeValidator(_json_number), Field(gt=0, max_digits=12, decimal_places=2)]


class CreateUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]
    userId: Id | None = None


class CreateOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    userId: Id
    amount: Amount
    currency: Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{3}$")] = "USD"
    orderId: Id | None = None


class EmailQuery(BaseModel):
    email: Email


class UserPath(BaseModel):
    userId: Key


M = TypeVar("M", bound=BaseModel)


def parse_body(body: str | None, model: type[M]) -> M:
    """Parse a JSON request body into `model`, or raise InvalidRequest naming the bad fields."""
    if not body:
        raise InvalidRequest("request body is empty: send a JSON object", ["body"])
    try:
        data = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}", ["body"]) from exc
    if not isinstance(data, dict):
        raise InvalidRequest(f"request body must be a JSON object, got {type(data).__name__}", ["body"])
    return parse_data(data, model)


def parse_data(data: dict[str, Any], model: type[M]) -> M:
    """Validate already-decoded values (a body, path or query parameters) with the Powertools parser."""
    try:
        return parse(event=data, model=model)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _invalid(exc: ValidationError) -> InvalidRequest:
    problems, fields = [], []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "body"
        fields.append(field)
        problems.append(f"{field}: {err['msg']}")
    return InvalidRequest("invalid request: " + "; ".join(problems), fields)
