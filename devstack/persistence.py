"""The embedded stack keeps its data: moto serves from memory, every change is on disk first.

moto has no persistence of its own (its maintainers suggest pickling its backends). Snapshots
would rewrite the whole state on every change, or lose the changes since the last one; this
module writes each change through instead, to SQLite (WAL, ``synchronous=FULL``: a commit is
fsynced) in the data directory (``devstack/datadir.py``), before moto's answer leaves:

- DynamoDB: each write request (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
  TransactWriteItems; a PartiQL write resyncs the tables) runs under one lock with the write
  of the items it touched, as moto holds them afterwards (the after-image), so nobody reads an
  item that is not yet stored and a stored item is never half of two writes;
- S3: object bodies are files under ``objects/`` (``devstack/objectfiles.py``); each changed
  key's version list (version ids, ETags, sizes, content types, delete markers, and which file
  holds each body) is stored at the end of the request that changed it, and also just before
  moto fires a notification, so the upload trigger only ever hears of stored objects;
- at start, after ``provision`` made the table and bucket, ``load`` puts the rows back into
  moto's backends (bodies stay files: nothing is read), drops a version whose file is missing
  or short, deletes files no record names (an upload cut off by a crash), then turns the
  write-through on.

A ``kill -9`` at any moment leaves SQLite's last commit: every answered request, never a half
record; an object is stored only once its file is complete and fsynced. Configuration that
``provision`` creates (tables, bucket settings, functions, queue, state machine) is made
afresh at every start, and Step Functions executions are not kept: ``devstack/recovery.py``
settles the jobs they were running.
"""
from __future__ import annotations

import io
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from devstack import objectfiles
from devstack.datadir import DataDir
from devstack.objectfiles import BlobBuffer, BlobRef, IncompleteBody, ObjectFiles

log = logging.getLogger("klyph.local")
_request = threading.local()

FORMAT = "1"
ITEM_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
STATEMENTS = ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction")
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
# Query parameters a plain PutObject (or UploadPart) may carry: a presigned URL's own.
_PRESIGN = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
            "X-Amz-Signature", "X-Amz-Security-Token", "AWSAccessKeyId", "Signature", "Expires"}


def key_text(value: dict[str, Any] | None) -> str:
    """A DynamoDB key attribute (``{"S": "..."}``) as the text its row is stored under."""
    return "" if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


class Database:
    """The SQLite file: DynamoDB items and S3 version lists, one row each."""

    def __init__(self, path: Path):
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        with self.lock:
            self.conn.executescript(
                """
                CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS items (tbl TEXT NOT NULL, hk TEXT NOT NULL, rk TEXT NOT NULL,
                    item TEXT NOT NULL, PRIMARY KEY (tbl, hk, rk)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS objects (bucket TEXT NOT NULL, name TEXT NOT NULL,
                    versions TEXT NOT NULL, PRIMARY KEY (bucket, name)) WITHOUT ROWID;
                INSERT OR IGNORE INTO meta VALUES ('format', '1');
                """
            )
            found = self.conn.execute("SELECT v FROM meta WHERE k = 'format'").fetchone()[0]
        if found != FORMAT:
            raise RuntimeError(f"{path} has format {found}; this Klyph reads format {FORMAT} (make reset-data)")

    def _transaction(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(self.conn)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            return result

    def write_items(self, rows: list[tuple[str, str, str, str | None]]) -> None:
        """(table, hash key, range key, item JSON or None for a deleted item)."""

        def work(conn: sqlite3.Connection) -> None:
            for table, hk, rk, item in rows:
                if item is None:
                    conn.execute("DELETE FROM items WHERE tbl = ? AND hk = ? AND rk = ?", (table, hk, rk))
                else:
                    conn.execute("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)", (table, hk, rk, item))

        self._transaction(work)

    def replace_items(self, table: str, rows: list[tuple[str, str, str]]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM items WHERE tbl = ?", (table,))
            conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", [(table, *row) for row in rows])

        self._transaction(work)

    def write_objects(self, rows: list[tuple[str, str, list[dict[str, Any]]]]) -> set[str]:
        """Store each key's version list (empty: the key is gone); return the body files that
        no longer belong to any version."""

        def work(conn: sqlite3.Connection) -> set[str]:
            released: set[str] = set()
            for bucket, name, versions in rows:
                old = conn.execute("SELECT versions FROM objects WHERE bucket = ? AND name = ?", (bucket, name))
                previous = old.fetchone()
                if previous:
                    released |= _blobs(json.loads(previous[0]))
                if versions:
                    conn.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?)",
                                 (bucket, name, json.dumps(versions, separators=(",", ":"))))
                else:
                    conn.execute("DELETE FROM objects WHERE bucket = ? AND name = ?", (bucket, name))
            kept = {blob for _, _, versions in rows for blob in _blobs(versions)}
            return released - kept

        result: set[str] = self._transaction(work)
        return result

    def items(self) -> Iterator[tuple[str, str]]:
        with self.lock:
            rows = self.conn.execute("SELECT tbl, item FROM items").fetchall()
        yield from rows

    def items_with_range(self, table: str, prefix: str, exact: bool = False) -> list[dict[str, Any]]:
        """The items of ``table`` whose range key (a string) starts with ``prefix`` (or equals it)."""
        start = key_text({"S": prefix})
        with self.lock:
            if exact:
                rows = self.conn.execute("SELECT item FROM items WHERE tbl = ? AND rk = ?", (table, start))
            else:
                stem = start[:-2]  # without the closing quote and brace: a prefix of longer strings
                rows = self.conn.execute("SELECT item FROM items WHERE tbl = ? AND substr(rk, 1, ?) = ?",
                                         (table, len(stem), stem))
            return [json.loads(row[0]) for row in rows.fetchall()]

    def count_with_range(self, table: str, prefix: str, exact: bool = False) -> int:
        start = key_text({"S": prefix})
        with self.lock:
            if exact:
                row = self.conn.execute("SELECT count(*) FROM items WHERE tbl = ? AND rk = ?", (table, start))
            else:
                stem = start[:-2]
                row = self.conn.execute("SELECT count(*) FROM items WHERE tbl = ? AND substr(rk, 1, ?) = ?",
                                        (table, len(stem), stem))
            return int(row.fetchone()[0])

    def objects(self) -> list[tuple[str, str, str]]:
        with self.lock:
            return self.conn.execute("SELECT bucket, name, versions FROM objects").fetchall()

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def _blobs(versions: list[dict[str, Any]]) -> set[str]:
    return {v["blob"] for v in versions if "blob" in v}


@dataclass
class LoadReport:
    items: int = 0
    objects: int = 0
    versions: int = 0
    bytes: int = 0
    seconds: float = 0.0
    dropped: list[str] = field(default_factory=list)
    orphans: int = 0
    expired: int = 0
    skipped: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Lifecycle:
    """A bucket's lifecycle rules as S3 applies them, applied when the data is loaded (moto runs
    none): current versions under ``prefix`` expire ``days`` after they were written, versions
    ``noncurrent_days`` after a newer one replaced them, and delete markers with nothing left to
    hide go. Without it, every job's intermediates would stay on disk for good."""

    prefix: str
    days: int
    noncurrent_days: int

    def keep(self, name: str, versions: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
        """``versions`` (oldest first) minus the expired ones."""
        if not versions:
            return versions
        ages = [now - datetime.fromisoformat(v["modified"]) for v in versions]
        if name.startswith(self.prefix) and not versions[-1].get("marker") and ages[-1] > timedelta(self.days):
            return []  # its expiry makes every version noncurrent; nobody reads them locally
        replaced = [now - datetime.fromisoformat(v["modified"]) for v in versions[1:]]
        kept = [v for v, since in zip(versions[:-1], replaced) if since <= timedelta(self.noncurrent_days)]
        kept.append(versions[-1])
        return [] if all(v.get("marker") for v in kept) else kept


class Persistence:
    """moto's DynamoDB tables and S3 buckets written through to a data directory."""

    def __init__(self, data: DataDir, account_id: str, region: str, lifecycle: Lifecycle | None = None):
        self.data = data
        self.lifecycle = lifecycle
        self.account_id = account_id
        self.region = region
        self.files = ObjectFiles(data.objects)
        self._objects = str(data.objects)
        self.db = Database(data.state)
        self.active = False
        self.tables: dict[str, Any] = {}
        self.buckets: dict[str, Any] = {}
        self._item_lock = threading.Lock()
        self._key_template: tuple[dict[str, Any], list[Any]] | None = None
        self._dirty: set[tuple[str, str]] = set()
        self._dirty_lock = threading.Lock()

    # Start -------------------------------------------------------------------------------------

    def load(self) -> LoadReport:
        """Put the stored items and objects into moto's (freshly provisioned) tables and buckets,
        then write every change through from now on."""
        from moto.dynamodb.models import dynamodb_backends
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        started = time.perf_counter()
        self.tables = dict(dynamodb_backends[self.account_id][self.region].tables)
        s3 = s3_backends[self.account_id][get_partition(self.region)]
        self.buckets = dict(s3.buckets)
        objectfiles.install(self.files, self._changed, self.flush_objects)
        report = LoadReport()
        self._load_items(report)
        self._load_objects(s3, report)
        for name, bucket in self.buckets.items():
            bucket.keys._klyph_bucket = name  # from here on its key store reports changes
        self.active = True
        report.seconds = time.perf_counter() - started
        for name in report.dropped:
            log.error("object %s was not completely stored before the stack stopped: dropped", name)
        if report.skipped:
            log.warning("stored data of %s is not loaded: the stack no longer creates it", ", ".join(report.skipped))
        return report

    def _load_items(self, report: LoadReport) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

        for table_name, text in self.db.items():
            table = self.tables.get(table_name)
            if table is None:
                report.skipped.add(f"table {table_name}")
                continue
            # As moto's own Item.__deepcopy__ does: the item passed moto's size checks when it
            # was written, and checking again costs O(n^2) in its attributes (4 s per 8,000 items).
            item: Any = Item.__new__(Item)
            attrs = LimitedSizeDict.__new__(LimitedSizeDict)
            dict.__init__(attrs)
            for name, value in json.loads(text).items():
                dict.__setitem__(attrs, name, DynamoType(value))
            item.attrs = attrs
            item.hash_key = attrs[table.hash_key_attr]
            item.range_key = attrs[table.range_key_attr] if table.range_key_attr else None
            if item.range_key is not None:
                table.items[item.hash_key][item.range_key] = item
            else:
                table.items[item.hash_key] = item
            report.items += 1

    def _load_objects(self, s3: Any, report: LoadReport) -> None:
        on_disk = set(self.files.names())
        named: set[str] = set()
        repaired: list[tuple[str, str, list[dict[str, Any]]]] = []
        now = datetime.now(UTC).replace(tzinfo=None)  # moto's times are naive UTC
        for bucket_name, name, text in self.db.objects():
            bucket = self.buckets.get(bucket_name)
            versions: list[dict[str, Any]] = json.loads(text)
            if bucket is None:
                report.skipped.add(f"bucket {bucket_name}")
                named |= _blobs(versions)  # kept on disk: provisioning it again brings them back
                continue
            complete = [v for v in versions if "blob" not in v or self._intact(v, on_disk)]
            if len(complete) != len(versions):
                report.dropped.append(f"s3://{bucket_name}/{name}")
            if self.lifecycle is not None:
                kept = self.lifecycle.keep(name, complete, now)
                report.expired += len(complete) - len(kept)
                complete = kept
            if len(complete) != len(versions):
                repaired.append((bucket_name, name, complete))
            keys: list[Any] = []
            for record in complete:
                keys.append(self._restore(s3, bucket, name, record, keys[-1] if keys else None))
                if "blob" in record:
                    named.add(record["blob"])
                    report.bytes += record["size"]
                report.versions += 1
            if keys:
                bucket.keys.setlist(name, keys)
                report.objects += 1
        if repaired:
            self.db.write_objects(repaired)
        for orphan in on_disk - named:
            # A body whose upload never finished, or whose version was deleted just before a crash.
            self.files.delete(orphan)
            report.orphans += 1

    def _intact(self, record: dict[str, Any], on_disk: set[str]) -> bool:
        if record["blob"] not in on_disk:
            return False
        try:
            return os.stat(os.path.join(self._objects, record["blob"])).st_size == record["size"]
        except FileNotFoundError:
            return False

    def _restore(self, s3: Any, bucket: Any, name: str, record: dict[str, Any], previous: Any) -> Any:
        from moto.s3.models import FakeDeleteMarker

        modified = datetime.fromisoformat(record["modified"])
        if record.get("marker"):
            marker: Any = FakeDeleteMarker.__new__(FakeDeleteMarker)
            marker.key = previous  # as moto makes one: it points at the version it hides
            marker.name = name
            marker.last_modified = modified
            marker._version_id = record["id"]
            return marker
        if self._key_template is None:
            self._key_template = self._template(s3)
        fields, tracked = self._key_template
        key: Any = object.__new__(fields["__class__"])
        tracked.append(key)  # as moto's BaseModel.__new__ does, so moto's reset disposes of it
        buffer = BlobBuffer(self.files, BlobRef(record["blob"], record["size"], record.get("etag")))
        buffer.persisted = True
        checksum = record.get("checksum") or [None, None, None, None]
        state = key.__dict__
        state.update(fields["state"])
        state.update(
            name=name, bucket_name=bucket.name, last_modified=modified, acl=bucket.acl,
            _storage_class=record.get("storage") or "STANDARD", _etag=record.get("etag"),
            _version_id=record["id"], _is_versioned=record.get("versioned", False),
            _value_buffer=buffer, contentsize=record["size"], lock=threading.Lock(),
            _metadata=fields["metadata"](record.get("metadata", [])),
            checksum_algorithm=checksum[0], checksum_value=checksum[1], checksum_type=checksum[2],
            checksum_parts=checksum[3],
        )
        return key

    def _template(self, s3: Any) -> tuple[dict[str, Any], list[Any]]:
        """What every restored FakeKey starts from: one made by moto, its per-key fields replaced.

        FakeKey.__init__ costs ~100 us (a SpooledTemporaryFile, an ACL, state tracking): 2.6 s
        for the 24,000 object versions of 1,000 videos. Copying a made one's fields is ~10x faster.
        """
        from moto.s3.models import FakeKey
        from moto.utilities.utils import LowercaseDict

        template: Any = FakeKey(name="", value=b"", account_id=self.account_id, region_name=s3.region_name)
        template.dispose()
        state = {k: v for k, v in template.__dict__.items()
                 if k not in ("_metadata", "lock", "_value_buffer", "disposed")}
        state["disposed"] = False
        tracked: list[Any] = template.instances_tracked  # moto's InstanceTrackerMeta gives every model class one
        return {"__class__": FakeKey, "state": state, "metadata": LowercaseDict}, tracked

    def close(self) -> None:
        self.active = False
        objectfiles.uninstall()
        self.db.close()

    # S3 ----------------------------------------------------------------------------------------

    def _changed(self, bucket: str, key: str) -> None:
        if self.active:
            with self._dirty_lock:
                self._dirty.add((bucket, key))
            touched = getattr(_request, "touched", None)
            if touched is not None:
                touched.add((bucket, key))

    def flush_objects(self) -> None:
        """Store the version lists of the keys changed since the last flush.

        Always takes the database lock, even with nothing to store: a flush running on another
        thread may have taken this request's keys, and this request must not answer before
        that flush has committed them.
        """
        if not self.active:
            return
        with self.db.lock:
            with self._dirty_lock:
                dirty, self._dirty = self._dirty, set()
            if not dirty:
                return
            rows = []
            for bucket_name, name in sorted(dirty):
                versions = list(self.buckets[bucket_name].keys.getlist(name) or [])
                rows.append((bucket_name, name, [self._record(version) for version in versions]))
            released = self.db.write_objects(rows)
        for blob in released:
            self.files.delete(blob)

    def _record(self, version: Any) -> dict[str, Any]:
        from moto.s3.models import FakeDeleteMarker

        if isinstance(version, FakeDeleteMarker):
            return {"id": version.version_id, "marker": True, "modified": version.last_modified.isoformat()}
        buffer = version._value_buffer
        if not isinstance(buffer, BlobBuffer):
            # Made before the hooks were installed: its bytes move to a file once.
            buffer = objectfiles.adopt(version, self.files.write_bytes(version.value), self.files)
        # Marked before the commit: from now on only a rewrite of this row deletes the file.
        buffer.persisted = True
        record: dict[str, Any] = {
            "id": version._version_id, "blob": buffer.name, "size": version.contentsize,
            "etag": version.etag.strip('"'), "modified": version.last_modified.isoformat(),
            "metadata": list(version._metadata.items()), "storage": version.storage_class,
            "versioned": version._is_versioned,
        }
        if version.checksum_algorithm or version.checksum_value:
            record["checksum"] = [version.checksum_algorithm, version.checksum_value, version.checksum_type,
                                  version.checksum_parts]
        return record

    # DynamoDB ----------------------------------------------------------------------------------

    def _key_of(self, table_name: str, item: dict[str, Any]) -> dict[str, Any] | None:
        table = self.tables.get(table_name)
        if table is None:
            return None
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        return {name: item[name] for name in names if name in item}

    def _touched(self, operation: str, request: dict[str, Any]) -> list[tuple[str, dict[str, Any] | None]]:
        touched: list[tuple[str, dict[str, Any] | None]] = []
        if operation == "PutItem":
            touched.append((request["TableName"], self._key_of(request["TableName"], request["Item"])))
        elif operation in ("UpdateItem", "DeleteItem"):
            touched.append((request["TableName"], request["Key"]))
        elif operation == "BatchWriteItem":
            for table_name, writes in request.get("RequestItems", {}).items():
                for write in writes:
                    if "PutRequest" in write:
                        touched.append((table_name, self._key_of(table_name, write["PutRequest"]["Item"])))
                    elif "DeleteRequest" in write:
                        touched.append((table_name, write["DeleteRequest"]["Key"]))
        elif operation == "TransactWriteItems":
            for entry in request.get("TransactItems", []):
                for kind in ("Put", "Update", "Delete"):
                    if kind in entry:
                        op = entry[kind]
                        key = self._key_of(op["TableName"], op["Item"]) if kind == "Put" else op["Key"]
                        touched.append((op["TableName"], key))
        return touched

    def _store_items(self, touched: list[tuple[str, dict[str, Any] | None]]) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        rows: list[tuple[str, str, str, str | None]] = []
        for table_name, key in touched:
            table = self.tables.get(table_name)
            if table is None or not key:
                continue
            hk = key[table.hash_key_attr]
            rk = key.get(table.range_key_attr) if table.range_key_attr else None
            item = table.get_item(DynamoType(hk), DynamoType(rk) if rk is not None else None)
            text = json.dumps(item.to_json()["Attributes"], separators=(",", ":")) if item else None
            rows.append((table_name, key_text(hk), key_text(rk), text))
        if rows:
            self.db.write_items(rows)

    def _store_tables(self) -> None:
        """After a PartiQL write, whose items are not named by the request: every table, whole."""
        for table_name, table in self.tables.items():
            rows = []
            for item in table.all_items():
                attrs = item.to_json()["Attributes"]
                rk = attrs.get(table.range_key_attr) if table.range_key_attr else None
                rows.append((key_text(attrs[table.hash_key_attr]), key_text(rk), json.dumps(attrs)))
            self.db.replace_items(table_name, rows)

    # The AWS stand-in's requests ---------------------------------------------------------------

    def wsgi(self, app: Callable[..., Any]) -> Callable[..., Any]:
        """moto's WSGI app with every change it makes stored before its answer leaves."""

        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if not self.active:
                return app(environ, start_response)
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if target.startswith("DynamoDB_"):
                return self._dynamodb(app, environ, start_response, target.partition(".")[2])
            if environ.get("REQUEST_METHOD") not in ("PUT", "POST", "DELETE"):
                return app(environ, start_response)
            bucket = self._streamable_upload(environ)
            if bucket is not None:
                length = int(environ["CONTENT_LENGTH"])
                try:
                    ref = self.files.receive(environ["wsgi.input"], length)
                except IncompleteBody as exc:
                    return _s3_error(start_response, "400 Bad Request", "IncompleteBody", str(exc))
                except OSError as exc:
                    log.error("could not store an upload to %s: %s", bucket, exc)
                    return _s3_error(start_response, "500 Internal Server Error", "InternalError",
                                     f"the local stack could not store the upload: {exc}")
                environ["wsgi.input"] = io.BytesIO(b"")
                environ["CONTENT_LENGTH"] = "0"
                objectfiles.stage(bucket, ref)
            # The keys this request changes are stored again at its end: moto sets a new
            # object's content type and metadata after the notification flushed it.
            touched: set[tuple[str, str]] = set()
            _request.touched = touched
            try:
                result = app(environ, start_response)
            finally:
                _request.touched = None
                leftover = objectfiles.unstaged()
                if leftover is not None:
                    self.files.delete(leftover.name)
            if touched:
                with self._dirty_lock:
                    self._dirty |= touched
            self.flush_objects()
            return result

        return middleware

    def _dynamodb(self, app: Callable[..., Any], environ: dict[str, Any], start_response: Callable[..., Any],
                  operation: str) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        ours = _scope(environ) in (None, (self.region, "dynamodb"))
        with self._item_lock:
            status, headers, payload = _run(app, environ)
            if ours and status.startswith("200"):
                if operation in ITEM_WRITES:
                    self._store_items(self._touched(operation, json.loads(body)))
                elif operation in STATEMENTS and _writes(json.loads(body)):
                    self._store_tables()
        start_response(status, headers)
        return [payload]

    def _streamable_upload(self, environ: dict[str, Any]) -> str | None:
        """The bucket of a plain PutObject or UploadPart whose body can go straight to a file
        (no checksum or MD5 for moto to check against it, not aws-chunked); None otherwise."""
        if environ.get("REQUEST_METHOD") != "PUT" or not (environ.get("CONTENT_LENGTH") or "").isdigit():
            return None
        if int(environ["CONTENT_LENGTH"]) == 0 or _scope(environ) != (self.region, "s3"):
            return None
        for header, value in environ.items():
            if header in ("HTTP_CONTENT_MD5", "HTTP_X_AMZ_COPY_SOURCE", "HTTP_X_AMZ_DECODED_CONTENT_LENGTH",
                          "HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM") or header.startswith("HTTP_X_AMZ_CHECKSUM_"):
                return None
            if header == "HTTP_CONTENT_ENCODING" and "aws-chunked" in value:
                return None
            if header == "HTTP_X_AMZ_CONTENT_SHA256" and value.startswith("STREAMING-"):
                return None
        query = set(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)) - _PRESIGN
        if query and query != {"uploadId", "partNumber"}:
            return None
        bucket, _, key = environ.get("PATH_INFO", "").lstrip("/").partition("/")
        return bucket if key and bucket in self.buckets else None


def _scope(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(region, service) a request is signed for, from its Authorization header or presigned URL."""
    found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found:
        return found.group(1), found.group(2)
    credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential")
    if credential:
        parts = credential[0].split("/")
        if len(parts) == 5:
            return parts[2], parts[3]
    return None


def _writes(request: dict[str, Any]) -> bool:
    statements = [request.get("Statement", "")]
    for many in ("Statements", "TransactStatements"):
        statements += [s.get("Statement", "") for s in request.get(many, [])]
    return any(s.strip() and not s.strip().upper().startswith("SELECT") for s in statements)


def _run(app: Callable[..., Any], environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI app and collect its whole answer (DynamoDB answers are small)."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        answer["status"], answer["headers"] = status, headers
        return lambda data: None

    result = app(environ, start_response)
    try:
        payload = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], payload


def _s3_error(start_response: Callable[..., Any], status: str, code: str, message: str) -> list[bytes]:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


class MotoServer:
    """moto's server app on a threaded werkzeug server, behind ``wrap`` (the persistence
    middleware); what ``moto.server.ThreadedMotoServer`` does, with the app wrapped."""

    def __init__(self, host: str, port: int, wrap: Callable[[Any], Any] | None = None):
        self.host, self.port, self.wrap = host, port, wrap
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> MotoServer:
        from moto import backends
        from moto.moto_server import werkzeug_app
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        # moto answers every origin by default; off, it applies the bucket's CORS rules as S3
        # does, so the dashboard's browser upload meets the rules infra/ gives the AWS bucket.
        werkzeug_app.DISABLE_GLOBAL_CORS = True
        # moto lists its own package directory (150 stats) on every request to tell a service
        # name from a host; the list never changes while the process runs.
        modules = tuple(backends.list_of_moto_modules())
        backends.list_of_moto_modules = lambda: modules

        app: Any = DomainDispatcherApplication(create_backend_app)
        if self.wrap is not None:
            app = self.wrap(app)
        class KeepAliveHandler(MotoRequestHandler):
            # HTTP/1.0 closed the connection after each answer: every boto3 call paid a TCP
            # connect and the server a new thread. botocore pools connections; let it keep them.
            protocol_version = "HTTP/1.1"

        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=KeepAliveHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)
