"""DynamoDB adapter: the single table holding accounts, keys, projects, videos, calls and clips.

Table design (documented in README "Data model"): partition key ``pk``, sort key ``sk``.

| item     | pk                 | sk                          |
|----------|--------------------|-----------------------------|
| account  | ACCOUNT#<acc>      | ACCOUNT                     |
| api key  | KEY#<sha256>       | KEY                         |
| project  | ACCOUNT#<acc>      | PROJECT#<proj>              |
| slug     | ACCOUNT#<acc>      | SLUG#<slug>                 |
| slug seq | ACCOUNT#<acc>      | SLUGSEQ#<base slug>         |
| video    | VIDEO#<vid>        | VIDEO                       |
| clip     | VIDEO#<vid>        | CLIP#<callId>#<nn>          |
| call     | CALL#<callId>      | CALL                        |
| listing  | PROJECT#<proj>     | VIDEO#<vid>                 |
| webhook  | ACCOUNT#<acc>      | WEBHOOK#<wh>                |
| webhook owner | WEBHOOK#<wh>  | WEBHOOK                     |
| delivery | WEBHOOK#<wh>       | DELIVERY#<dlv>              |

Every request-path access is GetItem, PutItem, UpdateItem or a Query on one
partition; there is no Scan.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.adapters.aws_errors import transient_failures
from chalicelib.errors import TransientError

_ser = TypeSerializer()
_de = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _from_dynamo(_de.deserialize(v)) for k, v in item.items()}


class ConditionFailed(Exception):
    """A conditional write lost: the item was not in the expected state."""


@transient_failures("DynamoDB")
class Table:
    """Typed access to the one table; callers speak items (plain dicts), not DynamoDB JSON."""

    def __init__(self, client: Any, name: str):
        self._client = client
        self.name = name

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        resp = self._client.get_item(
            TableName=self.name, Key=serialize({"pk": pk, "sk": sk}), ConsistentRead=True
        )
        item = resp.get("Item")
        return _strip_keys(deserialize(item)) if item else None

    def put_new(
        self, pk: str, sk: str, attrs: dict[str, Any], *,
        takeover: str | None = None, takeover_values: dict[str, Any] | None = None,
    ) -> None:
        """Create an item; ConditionFailed if it already exists, unless the existing item
        matches ``takeover`` (a condition in ``#name`` / ``:value`` terms) and is replaced."""
        condition = "attribute_not_exists(pk)"
        extra: dict[str, Any] = {}
        if takeover:
            condition = f"{condition} OR ({takeover})"
            extra["ExpressionAttributeNames"] = {token: token[1:] for token in _hash_names(takeover)}
            extra["ExpressionAttributeValues"] = serialize(takeover_values or {})
        try:
            self._client.put_item(
                TableName=self.name,
                Item=serialize({"pk": pk, "sk": sk, **attrs}),
                ConditionExpression=condition,
                **extra,
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed(f"{pk}/{sk} exists") from None

    def put(self, pk: str, sk: str, attrs: dict[str, Any]) -> None:
        self._client.put_item(TableName=self.name, Item=serialize({"pk": pk, "sk": sk, **attrs}))

    def delete(self, pk: str, sk: str) -> None:
        self._client.delete_item(TableName=self.name, Key=serialize({"pk": pk, "sk": sk}))

    def update(
        self,
        pk: str,
        sk: str,
        *,
        set: dict[str, Any] | None = None,  # noqa: A002 - DynamoDB's SET clause, beside add= and remove=
        add: dict[str, int] | None = None,
        remove: Iterable[str] = (),
        condition: str | None = None,
        condition_values: dict[str, Any] | None = None,
        must_exist: bool = True,
    ) -> dict[str, Any]:
        """Update attributes and return the item as it is afterwards.

        ``condition`` may refer to attributes as ``#name`` and to ``condition_values``
        as ``:name``; a failed condition raises ConditionFailed.
        """
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses = []
        set_parts = []
        for i, (k, v) in enumerate((set or {}).items()):
            names[f"#s{i}"] = k
            values[f":s{i}"] = v
            set_parts.append(f"#s{i} = :s{i}")
        if set_parts:
            clauses.append("SET " + ", ".join(set_parts))
        add_parts = []
        for i, (k, v) in enumerate((add or {}).items()):
            names[f"#a{i}"] = k
            values[f":a{i}"] = v
            add_parts.append(f"#a{i} :a{i}")
        if add_parts:
            clauses.append("ADD " + ", ".join(add_parts))
        remove_parts = []
        for i, k in enumerate(remove):
            names[f"#r{i}"] = k
            remove_parts.append(f"#r{i}")
        if remove_parts:
            clauses.append("REMOVE " + ", ".join(remove_parts))
        conditions = []
        if must_exist:
            conditions.append("attribute_exists(pk)")
        if condition:
            conditions.append(f"({condition})")
            for token in _hash_names(condition):
                names.setdefault(token, token[1:])
            values.update(condition_values or {})
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": serialize({"pk": pk, "sk": sk}),
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if values:
            kwargs["ExpressionAttributeValues"] = serialize(values)
        if conditions:
            kwargs["ConditionExpression"] = " AND ".join(conditions)
        try:
            resp = self._client.update_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed(f"{pk}/{sk} condition failed") from None
        return _strip_keys(deserialize(resp["Attributes"]))

    def put_new_if(
        self, items: list[tuple[str, str, dict[str, Any]]], *, check: tuple[str, str, str, dict[str, Any]]
    ) -> None:
        """Create ``items`` (pk, sk, attrs) in one transaction, each only if new, and only while
        the item ``check`` (pk, sk, condition in ``#name`` / ``:value`` terms, values) exists
        and meets the condition; ConditionFailed otherwise, and nothing is written."""
        pk, sk, condition, values = check
        check_item: dict[str, Any] = {
            "TableName": self.name,
            "Key": serialize({"pk": pk, "sk": sk}),
            "ConditionExpression": f"attribute_exists(pk) AND ({condition})",
            "ExpressionAttributeNames": {token: token[1:] for token in _hash_names(condition)},
        }
        if values:
            check_item["ExpressionAttributeValues"] = serialize(values)
        puts = [
            {"Put": {"TableName": self.name, "Item": serialize({"pk": ipk, "sk": isk, **attrs}),
                     "ConditionExpression": "attribute_not_exists(pk)"}}
            for ipk, isk, attrs in items
        ]
        try:
            self._client.transact_write_items(TransactItems=[{"ConditionCheck": check_item}, *puts])
        except self._client.exceptions.TransactionCanceledException as err:
            reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                raise ConditionFailed(f"{pk}/{sk}: {condition}") from None
            raise

    def update_expression(
        self, pk: str, sk: str, expression: str, *, names: dict[str, str], values: dict[str, Any]
    ) -> None:
        """An UpdateItem with a hand-written expression, for what ``update`` cannot say."""
        self._client.update_item(
            TableName=self.name,
            Key=serialize({"pk": pk, "sk": sk}),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(values),
            ConditionExpression="attribute_exists(pk)",
        )

    def query(self, pk: str, sk_prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize({":pk": pk, ":prefix": sk_prefix}),
            "ConsistentRead": True,
        }
        while True:
            resp = self._client.query(**kwargs)
            items.extend(_strip_keys(deserialize(i)) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def query_page(
        self, pk: str, sk_prefix: str, limit: int, *, start_after: dict[str, str] | None = None,
        newest_first: bool = False,
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """One page of a partition's items under ``sk_prefix``: (items, key of the last one if
        more follow, else None). One item more than asked for is read, so the last page says it
        is the last instead of sending the caller for an empty one."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize({":pk": pk, ":prefix": sk_prefix}),
            "ConsistentRead": True,
            "ScanIndexForward": not newest_first,
            "Limit": limit + 1,
        }
        if start_after:
            kwargs["ExclusiveStartKey"] = serialize(start_after)
        resp = self._client.query(**kwargs)
        raw = resp.get("Items", [])
        items = [deserialize(i) for i in raw[:limit]]
        more = len(raw) > limit or "LastEvaluatedKey" in resp  # the 1 MB cap can end a page early
        last = {"pk": items[-1]["pk"], "sk": items[-1]["sk"]} if more and items else None
        return [_strip_keys(i) for i in items], last

    def count(self, pk: str, sk_prefix: str) -> int:
        """How many items of a partition lie under ``sk_prefix`` (a Query with Select=COUNT)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": serialize({":pk": pk, ":prefix": sk_prefix}),
            "ConsistentRead": True,
            "Select": "COUNT",
        }
        total = 0
        while True:
            resp = self._client.query(**kwargs)
            total += resp["Count"]
            if "LastEvaluatedKey" not in resp:
                return total
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """Items by (pk, sk) through BatchGetItem, 100 keys a call; a missing item is absent."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 100):
            pending: dict[str, Any] = {self.name: {
                "Keys": [serialize({"pk": pk, "sk": sk}) for pk, sk in unique[start:start + 100]],
                "ConsistentRead": True,
            }}
            for attempt in range(8):
                resp = self._client.batch_get_item(RequestItems=pending)
                for raw in resp.get("Responses", {}).get(self.name, []):
                    item = deserialize(raw)
                    key = (item["pk"], item["sk"])
                    found[key] = _strip_keys(item)
                pending = resp.get("UnprocessedKeys") or {}
                if not pending:
                    break
                time.sleep(min(0.05 * 2 ** attempt, 1.0))  # throttled: back off, then ask for the rest
            else:
                raise TransientError("DynamoDB left keys of a BatchGetItem unprocessed after retries")
        return found

    def create(self) -> None:
        """Create the table (local stack and tests; on AWS infra/ owns it)."""
        self._client.create_table(
            TableName=self.name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )

    def ping(self) -> None:
        self._client.describe_table(TableName=self.name)


def _strip_keys(item: dict[str, Any]) -> dict[str, Any]:
    item.pop("pk", None)
    item.pop("sk", None)
    return item


def _hash_names(expression: str) -> list[str]:
    import re

    return re.findall(r"#[A-Za-z_][A-Za-z0-9_]*", expression)
