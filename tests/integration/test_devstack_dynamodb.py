"""The local stack's DynamoDB stand-in answers item operations without moto's generic
serializer (devstack/stack.py ``_fast_item_results``): the documents must be the ones moto's
serializer writes, and boto3 must read back exactly what was written."""
from __future__ import annotations

import json
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from devstack import stack

ITEM = {
    "pk": "video#1",
    "sk": "clip#0001",
    "title": "Sourdough starts with flour and water",
    "score": Decimal("87.25"),
    "count": 3,
    "ready": True,
    "gone": None,
    "thumb": b"\x00\xffPNG bytes",
    "tags": {"bread", "starter"},
    "blobs": {b"a", b"\x01\x02"},
    "scores": {Decimal("1.5"), Decimal(2)},
    "words": [{"w": "flour", "t": Decimal("1.25")}, ["nested", Decimal(0)], b"\x7f"],
    "meta": {"aspect": "9:16", "size": {"w": 404, "h": 720}, "empty": {}},
}


@pytest.fixture
def table():
    stack.serialize_dynamodb()
    with mock_aws():
        db = boto3.resource("dynamodb", region_name="us-east-1")
        t = db.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield t


def _plain(value):
    """boto3 gives Binary wrappers; compare their bytes."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return getattr(value, "value", value)


def test_items_read_back_as_written_through_every_item_operation(table):
    table.put_item(Item=ITEM)
    for n in range(2, 5):
        table.put_item(Item={**ITEM, "sk": f"clip#{n:04d}"})
    key = {"pk": "video#1", "sk": "clip#0001"}

    assert _plain(table.get_item(Key=key)["Item"]) == ITEM
    queried = table.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "video#1"})
    assert queried["Count"] == 4 and _plain(queried["Items"][0]) == ITEM
    assert table.scan()["ScannedCount"] == 4
    page = table.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "video#1"}, Limit=2)
    assert page["LastEvaluatedKey"] == {"pk": "video#1", "sk": "clip#0002"}
    updated = table.update_item(Key=key, UpdateExpression="SET #c = #c + :one",
                                ExpressionAttributeNames={"#c": "count"},
                                ExpressionAttributeValues={":one": 1}, ReturnValues="ALL_NEW")
    assert _plain(updated["Attributes"]) == {**ITEM, "count": 4}
    batch = table.meta.client.batch_get_item(RequestItems={"t": {"Keys": [key]}})
    assert _plain(batch["Responses"]["t"][0]) == {**ITEM, "count": 4}
    assert _plain(table.delete_item(Key=key, ReturnValues="ALL_OLD")["Attributes"])["blobs"] == {b"a", b"\x01\x02"}
    assert "Item" not in table.get_item(Key=key)
    # A failed condition is still DynamoDB's error, not an answer.
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.put_item(Item={**ITEM, "sk": "clip#0002"}, ConditionExpression="attribute_not_exists(pk)")


def test_the_document_is_the_one_motos_serializer_writes():
    from moto.core import serialize
    from moto.core.responses import ActionContext, ActionResult, get_service_model
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.responses import DynamoResult

    stack.serialize_dynamodb()
    item = {
        "pk": DynamoType({"S": "a"}),
        "n": DynamoType({"N": "1.5"}),
        "b": DynamoType({"B": "aGVsbG8="}),
        "l": DynamoType({"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}]}),
        "m": DynamoType({"M": {"ss": {"SS": ["a", "b"]}, "bs": {"BS": ["aGk="]}, "ns": {"NS": ["1", "2.5"]}}}),
    }
    result = DynamoResult({"Count": 2, "ScannedCount": 3, "Items": [item, item],
                           "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}})
    model = get_service_model("dynamodb")
    serializer = serialize.get_serializer_class("dynamodb", "json")

    class Handler:
        RESPONSE_KEY_PATH_TO_TRANSFORMER = None

    context = ActionContext(model, model.operation_model("Query"), serializer, Handler())
    status, headers, body = result.execute_result(context)
    # DynamoResult inherits moto's generic serializer from ActionResult; the fast path overrides it.
    g_status, g_headers, g_body = ActionResult.execute_result(result, context)
    assert (status, headers["Content-Type"]) == (g_status, g_headers["Content-Type"])
    assert json.loads(body) == json.loads(g_body)
