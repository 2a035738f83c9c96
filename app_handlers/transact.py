"""One TransactWriteItems call, with the cancellation reasons turned into something callers can branch on.

DynamoDB cancels the whole transaction if any condition fails and reports one reason per item,
in request order (`CancellationReasons`):
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
Only failed conditions become `Cancelled`; anything else (throttling, a conflicting concurrent
transaction, an unreachable endpoint) propagates and the API answers 503 "retry shortly".
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

CONDITION_FAILED = "ConditionalCheckFailed"


class Cancelled(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        """True if the item at `index` (request order) failed its condition."""
        return index < len(self.reasons) and self.reasons[index] == CONDITION_FAILED


def transact(client: Any, items: list[dict[str, Any]]) -> None:
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons") or []]
        if CONDITION_FAILED not in reasons:
            raise
        raise Cancelled(reasons) from exc
