"""The local stack's data directory (devstack/persistence.py, devstack/objectfiles.py): a moto
server in this process writing through to SQLite and object files, stopped and started again."""
from __future__ import annotations

import hashlib
import io
import json
import socket
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote_plus

import boto3
import pytest
import requests
from botocore.config import Config

from devstack import datadir
from devstack.datadir import DataDir
from devstack.persistence import Lifecycle, MotoServer, Persistence

TABLE, BUCKET = "klyph-persist", "klyph-persist-media"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StandIn:
    """moto on a port, its DynamoDB table and versioned bucket made afresh at each start (as
    ``provision`` does) and the data directory loaded into them."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def client(self, service: str):
        config = Config(s3={"addressing_style": "path"}, signature_version="s3v4") if service == "s3" else None
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1", config=config)

    def start(self) -> StandIn:
        from chalicelib.adapters.dynamo import Table

        self.dir = DataDir(self.root).open()
        self.persistence = Persistence(self.dir, "123456789012", "us-east-1", lifecycle=Lifecycle("work/", 7, 7))
        self.server = MotoServer("127.0.0.1", self.port, wrap=self.persistence.wsgi).start()
        self.ddb, self.s3 = self.client("dynamodb"), self.client("s3")
        Table(self.ddb, TABLE).create()
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.report = self.persistence.load()
        return self

    def stop(self) -> None:
        requests.post(f"{self.endpoint}/moto-api/reset", timeout=10)  # moto forgets everything
        self.server.stop()
        self.persistence.close()
        self.dir.close()

    def restart(self) -> StandIn:
        self.stop()
        return self.start()

    def stored(self, sql: str, *args) -> list[tuple]:
        """What is on disk now, through a connection of its own (as the next process would read it)."""
        conn = sqlite3.connect(self.root / datadir.STATE)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def object_files(self) -> set[str]:
        return set(self.persistence.files.names())


@pytest.fixture
def stand_in(tmp_path):
    s = StandIn(tmp_path / "data").start()
    yield s
    s.stop()


def item(pk: str, sk: str, **attrs) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in attrs.items()}}


def test_items_are_on_disk_when_the_answer_arrives_and_come_back(stand_in):
    ddb = stand_in.ddb
    ddb.put_item(TableName=TABLE, Item=item("A", "1", name="first"))
    # Answered: so stored, as the next process will read it.
    assert stand_in.stored("SELECT count(*) FROM items")[0][0] == 1
    ddb.update_item(TableName=TABLE, Key={"pk": {"S": "A"}, "sk": {"S": "1"}},
                    UpdateExpression="SET n = :one ADD hits :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
    ddb.put_item(TableName=TABLE, Item=item("A", "2", name="gone soon"))
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "A"}, "sk": {"S": "2"}})
    ddb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": item("B", str(i))}} for i in range(30)][:25]})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": item("C", "1", name="in a transaction")}},
        {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "B"}, "sk": {"S": "0"}}}},
    ])
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName=TABLE, Item=item("A", "1", name="refused"),
                     ConditionExpression="attribute_not_exists(pk)")
    before = {(i["pk"]["S"], i["sk"]["S"]): i for i in ddb.scan(TableName=TABLE)["Items"]}

    stand_in.restart()
    after = {(i["pk"]["S"], i["sk"]["S"]): i for i in stand_in.ddb.scan(TableName=TABLE)["Items"]}
    assert after == before
    assert after[("A", "1")]["name"] == {"S": "first"} and after[("A", "1")]["hits"] == {"N": "1"}
    assert ("A", "2") not in after and ("B", "0") not in after and len(after) == 1 + 24 + 1
    assert stand_in.report.items == len(after)


def test_objects_keep_their_bytes_versions_and_metadata(stand_in):
    s3 = stand_in.s3
    # A presigned PUT (how users upload): its body is streamed straight to a file.
    big = bytes(range(256)) * 12_000  # 3 MB
    url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "accounts/a/source"})
    first = requests.put(url, data=io.BytesIO(big), timeout=30)
    assert first.status_code == 200 and first.headers["ETag"] == f'"{hashlib.md5(big).hexdigest()}"'
    assert stand_in.stored("SELECT count(*) FROM objects")[0][0] == 1  # stored before the answer
    second = s3.put_object(Bucket=BUCKET, Key="accounts/a/source", Body=b"version two", ContentType="video/mp4")
    # boto3's multipart upload (two parts), joined on disk.
    large = b"0123456789abcdef" * (800 * 1024)  # 12.5 MB
    s3.upload_fileobj(io.BytesIO(large), BUCKET, "work/a/audio.wav", ExtraArgs={"ContentType": "audio/wav"})
    s3.put_object(Bucket=BUCKET, Key="work/a/doomed.json", Body=b"{}")
    s3.delete_object(Bucket=BUCKET, Key="work/a/doomed.json")  # a delete marker hides it
    s3.put_object(Bucket=BUCKET, Key="work/a/purged.json", Body=b"[]")
    purged = s3.list_object_versions(Bucket=BUCKET, Prefix="work/a/purged.json")["Versions"][0]["VersionId"]
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "work/a/purged.json", "VersionId": purged}]})
    head = s3.head_object(Bucket=BUCKET, Key="work/a/audio.wav")
    versions = s3.list_object_versions(Bucket=BUCKET)
    listed = sorted((v["Key"], v["VersionId"], v["ETag"], v["Size"]) for v in versions["Versions"])
    markers = sorted((m["Key"], m["VersionId"]) for m in versions["DeleteMarkers"])
    # Listing versions deep-copies every one in moto: the copies share the files.
    files = stand_in.object_files()
    assert len(files) == len(listed)

    stand_in.restart()
    s3 = stand_in.s3
    again = s3.list_object_versions(Bucket=BUCKET)
    assert sorted((v["Key"], v["VersionId"], v["ETag"], v["Size"]) for v in again["Versions"]) == listed
    assert sorted((m["Key"], m["VersionId"]) for m in again["DeleteMarkers"]) == markers
    assert s3.get_object(Bucket=BUCKET, Key="accounts/a/source")["Body"].read() == b"version two"
    old = s3.get_object(Bucket=BUCKET, Key="accounts/a/source", VersionId=first.headers["x-amz-version-id"])
    assert old["Body"].read() == big
    assert s3.get_object(Bucket=BUCKET, Key="accounts/a/source")["ContentType"] == "video/mp4"
    assert second["VersionId"] == s3.head_object(Bucket=BUCKET, Key="accounts/a/source")["VersionId"]
    wav = s3.get_object(Bucket=BUCKET, Key="work/a/audio.wav")
    assert wav["Body"].read() == large and wav["ETag"] == head["ETag"] and wav["ContentType"] == "audio/wav"
    ranged = s3.get_object(Bucket=BUCKET, Key="work/a/audio.wav", Range="bytes=1000-1999")
    assert ranged["ContentRange"] == f"bytes 1000-1999/{len(large)}" and ranged["Body"].read() == large[1000:2000]
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=BUCKET, Key="work/a/doomed.json")
    assert stand_in.object_files() == files and not stand_in.report.dropped and stand_in.report.orphans == 0

    # Deleting every version deletes the files, once the deletion is stored.
    everything = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in again["Versions"] + again.get("DeleteMarkers", [])]
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": everything})
    assert stand_in.object_files() == set()
    assert stand_in.stored("SELECT count(*) FROM objects")[0][0] == 0


def test_presigned_multipart_parts_stream_to_files(stand_in):
    """A browser-style multipart upload: each part PUT to its own presigned URL, no checksums."""
    s3 = stand_in.s3
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="accounts/d/source")["UploadId"]
    parts = [bytes([n]) * (5 * 1024 * 1024 + n) for n in (1, 2)] + [b"tail"]
    etags = []
    for number, body in enumerate(parts, 1):
        url = s3.generate_presigned_url(
            "upload_part", Params={"Bucket": BUCKET, "Key": "accounts/d/source", "UploadId": upload,
                                   "PartNumber": number})
        resp = requests.put(url, data=io.BytesIO(body), timeout=30)
        assert resp.status_code == 200, resp.text
        assert resp.headers["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
        etags.append({"PartNumber": number, "ETag": resp.headers["ETag"]})
    s3.complete_multipart_upload(Bucket=BUCKET, Key="accounts/d/source", UploadId=upload,
                                 MultipartUpload={"Parts": etags})
    assert len(stand_in.object_files()) == 1  # the parts' files went into the joined one
    stand_in.restart()
    assert stand_in.s3.get_object(Bucket=BUCKET, Key="accounts/d/source")["Body"].read() == b"".join(parts)


def test_the_upload_trigger_only_hears_of_stored_objects(stand_in, monkeypatch):
    import moto.s3.notifications

    stand_in.s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={"LambdaFunctionConfigurations": [{
            "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:trigger",
            "Events": ["s3:ObjectCreated:*"],
        }]},
    )
    seen = []

    def invoke(account_id, event, arn, region):
        key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
        rows = stand_in.stored("SELECT versions FROM objects WHERE name = ?", key)
        blob = json.loads(rows[0][0])[-1]["blob"] if rows else None
        seen.append((key, blob is not None and (stand_in.root / "objects" / blob).stat().st_size))

    monkeypatch.setattr(moto.s3.notifications, "_invoke_awslambda", invoke)
    url = stand_in.s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "accounts/b/source"})
    assert requests.put(url, data=b"x" * 70_000, timeout=30).status_code == 200
    assert seen == [("accounts/b/source", 70_000)]


def test_a_cut_off_upload_stores_nothing(stand_in):
    url = stand_in.s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "accounts/c/source"})
    path = url.split(str(stand_in.port), 1)[1]
    with socket.create_connection(("127.0.0.1", stand_in.port)) as sock:
        head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n"
        sock.sendall(head.encode() + b"y" * 1000)
        sock.shutdown(socket.SHUT_WR)  # the client goes away mid-body
        sock.recv(4096)
    with pytest.raises(stand_in.s3.exceptions.ClientError):
        stand_in.s3.head_object(Bucket=BUCKET, Key="accounts/c/source")
    assert stand_in.object_files() == set()


def test_a_crash_leaves_nothing_that_looks_complete(stand_in):
    s3 = stand_in.s3
    s3.put_object(Bucket=BUCKET, Key="kept", Body=b"all of it")
    s3.put_object(Bucket=BUCKET, Key="short", Body=b"twenty bytes long...")
    short = json.loads(stand_in.stored("SELECT versions FROM objects WHERE name = 'short'")[0][0])[0]["blob"]
    stand_in.stop()
    # As a kill -9 can leave things: a body file cut short, a body no record names yet.
    (stand_in.root / "objects" / short).write_bytes(b"twenty")
    orphan = stand_in.root / "objects" / "ff" / "ffff"
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"an upload that never finished")
    stand_in.start()
    # The short body is named by no record once its version is dropped: both files go.
    assert stand_in.report.dropped == [f"s3://{BUCKET}/short"] and stand_in.report.orphans == 2
    assert not orphan.exists() and not (stand_in.root / "objects" / short).exists()
    assert stand_in.s3.get_object(Bucket=BUCKET, Key="kept")["Body"].read() == b"all of it"
    with pytest.raises(stand_in.s3.exceptions.ClientError):
        stand_in.s3.head_object(Bucket=BUCKET, Key="short")
    assert stand_in.stored("SELECT name FROM objects") == [("kept",)]


def test_the_buckets_lifecycle_rules_apply_at_start(stand_in):
    """As on AWS: work/ files expire after a week, replaced versions a week after, and a delete
    marker with nothing left to hide goes; sources and clips stay."""
    s3 = stand_in.s3
    s3.put_object(Bucket=BUCKET, Key="work/v/old-call/audio.wav", Body=b"old audio")
    s3.put_object(Bucket=BUCKET, Key="work/v/new-call/audio.wav", Body=b"new audio")
    s3.put_object(Bucket=BUCKET, Key="accounts/a/videos/v/source", Body=b"rejected upload")
    s3.put_object(Bucket=BUCKET, Key="accounts/a/videos/v/source", Body=b"accepted upload")
    s3.put_object(Bucket=BUCKET, Key="accounts/a/old-clip.mp4", Body=b"a clip from last month")
    s3.put_object(Bucket=BUCKET, Key="gone", Body=b"deleted long ago")
    s3.delete_object(Bucket=BUCKET, Key="gone")
    stand_in.stop()
    ten_days_ago = (datetime.now(UTC) - timedelta(days=10)).replace(tzinfo=None).isoformat()
    conn = sqlite3.connect(stand_in.root / datadir.STATE)
    for name, text in conn.execute("SELECT name, versions FROM objects").fetchall():
        if name != "work/v/new-call/audio.wav":
            versions = [{**v, "modified": ten_days_ago} for v in json.loads(text)]
            conn.execute("UPDATE objects SET versions = ? WHERE name = ?", (json.dumps(versions), name))
    conn.commit()
    conn.close()
    stand_in.start()
    s3 = stand_in.s3
    listed = s3.list_object_versions(Bucket=BUCKET)
    assert sorted(v["Key"] for v in listed["Versions"]) == [
        "accounts/a/old-clip.mp4", "accounts/a/videos/v/source", "work/v/new-call/audio.wav"]
    assert not listed.get("DeleteMarkers")
    assert s3.get_object(Bucket=BUCKET, Key="accounts/a/videos/v/source")["Body"].read() == b"accepted upload"
    assert stand_in.report.expired == 4 and len(stand_in.object_files()) == 3


def test_one_stack_per_data_directory(tmp_path):
    first = DataDir(tmp_path / "data").open()
    try:
        with pytest.raises(datadir.InUse, match="in use by a running local stack"):
            DataDir(tmp_path / "data").open()
        assert datadir.reset(tmp_path / "data", force=True) == 1  # refused while in use
    finally:
        first.close()


def test_reset_data_asks_and_touches_only_its_own_files(tmp_path):
    data = DataDir(tmp_path / "data").open()
    data.write_workspace("acc_x", "klyph_sk_y")
    data.close()
    assert (tmp_path / "data" / "workspace.json").stat().st_mode & 0o777 == 0o600
    assert datadir.reset(tmp_path / "data", ask=io.StringIO("n\n")) == 0
    assert (tmp_path / "data" / "workspace.json").exists()
    assert datadir.reset(tmp_path / "data", ask=io.StringIO("y\n")) == 0
    assert not (tmp_path / "data").exists()

    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("not Klyph's")
    assert datadir.reset(home, force=True) == 2
    assert (home / "thesis.tex").exists()
