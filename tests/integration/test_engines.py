"""What the two local engines (moto, dynalite) disagree on, pinned to AWS's documented behaviour.

Each test runs on both engines (tests/conftest.py ENGINE_MATRIX). Where an engine is more lenient
than AWS, the test states which one and cites the AWS page; cutover's own code must hold on AWS,
so it never relies on an engine's leniency (DESIGN.md, "Two engines").
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from cutover.batch_get import batch_get
from cutover.batch_write import MAX_BATCH_WRITE_ITEMS, write_serialised
from cutover.codec import from_ddb, to_ddb

GSI_VIOLATIONS = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.OnlineOps.ViolationDetection.html"
)
BATCH_WRITE = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html"
BATCH_GET = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html"
DELETE_TABLE = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html"
READ_UNITS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html"
NUMBERS = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
    "HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number"
)
LENIENT = {
    # behaviour: the engine that accepts what AWS rejects (or reports what AWS would not)
    "numeric value for a string GSI key": "moto",
    "empty string as a GSI key": "dynalite",
    "26 requests in one BatchWriteItem": "moto",
    "re-creating a table the moment it was deleted": "moto",
    "one read unit per Scan page whatever its size": "moto",
    "returning a number as it was written, not trimmed and spelled out": "moto",
}


def _rejected(call) -> bool:
    try:
        call()
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ValidationException", exc
        return True
    return False


def test_every_table_is_active_after_init(settings, clients):
    # Given init on either engine (dynalite, like AWS, creates tables in CREATING first)
    # Then every table cutover uses is ACTIVE before any command runs against it
    for spec in settings.names.all_specs():
        assert clients.dynamodb.describe_table(TableName=spec.name)["Table"]["TableStatus"] == "ACTIVE"


def test_a_numeric_value_for_a_string_gsi_key_is_refused_as_on_aws(settings, clients, engine):
    # AWS: a write whose GSI key attribute has the wrong type is a ValidationException
    # ("Type mismatch for Index Key"); see GSI_VIOLATIONS. dynalite agrees; moto stores it.
    put = lambda: clients.dynamodb.put_item(  # noqa: E731 - one call, named for readability
        TableName=settings.names.source_table("users"), Item=to_ddb({"userId": "n1", "email": 5})
    )
    assert _rejected(put) is (LENIENT["numeric value for a string GSI key"] != engine)


def test_an_empty_string_gsi_key_is_refused_as_on_aws(settings, clients, engine):
    # AWS: a String index key attribute must have a length greater than zero (GSI_VIOLATIONS);
    # moto agrees; dynalite 4 stores it. The transform quarantines such items before any write.
    put = lambda: clients.dynamodb.put_item(  # noqa: E731
        TableName=settings.names.v3_table, Item=to_ddb({"userId": "e1", "recordType": "ORDER#1", "email": ""})
    )
    assert _rejected(put) is (LENIENT["empty string as a GSI key"] != engine)


def test_batch_write_item_takes_at_most_25_requests(settings, clients, engine):
    # AWS: "up to 25 item put or delete operations" per BatchWriteItem (BATCH_WRITE); dynalite
    # agrees, moto accepts 26. cutover's own helper refuses before sending, on every engine.
    items = [to_ddb({"userId": f"b{i}"}) for i in range(MAX_BATCH_WRITE_ITEMS + 1)]
    raw = lambda: clients.dynamodb.batch_write_item(  # noqa: E731
        RequestItems={settings.names.source_table("users"): [{"PutRequest": {"Item": i}} for i in items]}
    )
    assert _rejected(raw) is (LENIENT["26 requests in one BatchWriteItem"] != engine)
    with pytest.raises(ValueError, match="at most 25"):
        write_serialised(clients.dynamodb, settings.names.source_table("users"), items)
    assert write_serialised(clients.dynamodb, settings.names.source_table("users"), items[:25]) == 25


def test_batch_get_dedupes_and_chunks_within_aws_limits(settings, clients):
    # AWS: at most 100 keys per BatchGetItem and no duplicate keys (BATCH_GET); both engines agree.
    # cutover's helper de-duplicates and chunks, so 250 keys with duplicates are read exactly.
    for i in range(150):
        clients.dynamodb.put_item(
            TableName=settings.names.source_table("users"), Item=to_ddb({"userId": f"g{i}", "email": "a@b"})
        )
    keys = [(f"g{i % 150}",) for i in range(250)]
    found = batch_get(clients.dynamodb, settings.names.source_table("users"), ["userId"], keys, consistent=True)
    assert len(found) == 150 and found[("g7",)]["email"] == "a@b"


def test_a_deleted_table_is_deleting_before_its_name_is_free_as_on_aws(settings, clients, engine):
    # AWS: after DeleteTable "the specified table is in the DELETING state until DynamoDB completes
    # the deletion" (DELETE_TABLE), so creating it again at once is a ResourceInUseException. dynalite
    # agrees; moto deletes at once. Whatever deletes and re-creates tables (the bench's reset) must
    # wait for `table_not_exists`, which holds on both.
    ddb = clients.dynamodb
    kwargs = settings.names.v3_spec().create_table_kwargs()
    kwargs["TableName"] = name = f"{settings.names.prefix}-scratch-deleted"
    wait = {"Delay": 1, "MaxAttempts": 30}
    ddb.create_table(**kwargs)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=wait)
    ddb.delete_table(TableName=name)
    try:
        ddb.create_table(**kwargs)
        refused = False
        ddb.delete_table(TableName=name)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceInUseException", exc
        refused = True
    assert refused is (LENIENT["re-creating a table the moment it was deleted"] != engine)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=wait)
    ddb.create_table(**kwargs)  # then the name is free on every engine
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig=wait)


def test_read_units_follow_the_size_read_as_on_aws(settings, clients, engine):
    # AWS (READ_UNITS): a Scan consumes read units for the total size of the items it reads, rounded
    # up to 4 KB, half a unit per 4 KB when eventually consistent; a GetItem of an 8 KB item costs 1
    # unit eventually consistent, 2 strongly. dynalite agrees on sizes and on GetItem, but prices a
    # strongly consistent Scan like an eventually consistent one; moto reports one unit per Scan
    # request and half a unit per GetItem whatever the size. So read-unit figures (bench/, DESIGN.md
    # "What a reconcile costs") come from dynalite's eventually consistent reads, never from moto.
    ddb, table = clients.dynamodb, settings.names.source_table("users")
    for i in range(20):  # 20 items of ~8 KB: ~160 KB, i.e. ~20 units eventually consistent, ~40 strongly
        ddb.put_item(TableName=table, Item=to_ddb({"userId": f"r{i:02d}", "pad": "x" * 8000}))
    eventual = ddb.scan(TableName=table, ReturnConsumedCapacity="TOTAL")
    strong = ddb.scan(TableName=table, ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    assert eventual["Count"] == strong["Count"] == 20
    scan_units = eventual["ConsumedCapacity"]["CapacityUnits"], strong["ConsumedCapacity"]["CapacityUnits"]
    key = to_ddb({"userId": "r00"})
    get_units = tuple(
        ddb.get_item(TableName=table, Key=key, ConsistentRead=c, ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"][
            "CapacityUnits"
        ]
        for c in (False, True)
    )
    size_based = 19 <= scan_units[0] <= 22
    assert size_based is (LENIENT["one read unit per Scan page whatever its size"] != engine), scan_units
    assert scan_units[1] == scan_units[0]  # AWS: twice as much; neither engine doubles a consistent Scan
    assert (get_units == (1, 2)) is (engine == "dynalite"), get_units  # as on AWS; moto: 0.5 for both


def test_the_dynalite_engine_survives_a_client_that_disconnects_mid_request(dynalite_server):
    # Given a client that sends half a request and is killed (the backfill crash test does this)
    import socket
    import struct

    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", dynalite_server.port))
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"{" * 1000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, as a kill does
        sock.close()
    # Then the engine keeps serving (dynalite itself rethrows the request's error and exits)
    import time

    time.sleep(0.5)
    assert dynalite_server.died() is None


def test_a_number_dynamodb_spells_out_past_38_characters_reads_back_as_written(settings, clients, engine):
    # AWS: "Numbers can have up to 38 digits of precision ... Leading and trailing zeroes are
    # trimmed" (NUMBERS); it returns 1E+100 as a 1 and 100 zeros (boto/boto3#2500), as dynalite
    # does; moto returns the text it was given. boto3's 38-digit reader raises decimal.Rounded on
    # the spelled-out form, which would stop a backfill or a stream batch on one valid item.
    from decimal import Decimal

    table = settings.names.source_table("users")
    values = {"huge": Decimal("1E+100"), "wide": Decimal("1.23456789517168E+39"), "tiny": Decimal("1E-100")}
    item = {"userId": "n1", **values, "nested": {"in": [Decimal("5E+60")]}, "set": {Decimal("7E+45"), Decimal(2)}}
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))
    raw = clients.dynamodb.get_item(TableName=table, Key=to_ddb({"userId": "n1"}), ConsistentRead=True)["Item"]
    spelled = len(raw["huge"]["N"]) == 101
    assert spelled is (LENIENT["returning a number as it was written, not trimmed and spelled out"] != engine)
    # Then cutover reads the same numbers either way, and writes them back as DynamoDB takes them
    assert from_ddb(raw) == item
    assert from_ddb(to_ddb(from_ddb(raw))) == item
