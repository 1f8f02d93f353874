"""S3 adapter: the media bucket (sources, audio, transcripts, clips) and presigned URLs.

Key layout, every key naming its workspace so one account's objects never mix
with another's:
- ``accounts/<acc>/videos/<vid>/source`` and ``.../clips/<callId>/<nn>.mp4``: what
  users uploaded and what we rendered, kept. The bucket is versioned: a video record pins
  the version of its source that the upload probe accepted, and everything reads that one;
- ``.../transcripts/<language>.json`` and ``.../prepared/`` (the speech audio and its loudness
  measurements): what a job learned about the source version, kept with the video so a later
  job (other options, same source) reuses it instead of extracting and transcribing again;
- ``work/<acc>/<vid>/<callId>/...`` (each job's own copy of its transcript): intermediates
  under one top-level prefix so a lifecycle rule can expire them, and so they never
  fire the upload trigger (which listens on ``accounts/``).

Deleting a video purges both of its prefixes, every version (``purge``).
"""
from __future__ import annotations

import io
from typing import Any, BinaryIO
from urllib.parse import unquote_plus

from chalicelib.adapters.aws_errors import transient_failures
from chalicelib.errors import TransientError


def video_prefix(account_id: str, video_id: str) -> str:
    return f"accounts/{account_id}/videos/{video_id}"


def source_key(account_id: str, video_id: str) -> str:
    return f"{video_prefix(account_id, video_id)}/source"


def parse_source_key(key: str) -> tuple[str, str] | None:
    """(account id, video id) of a ``source_key``; None for any other key. ``key`` as S3
    events carry it: URL-encoded."""
    parts = unquote_plus(key).split("/")
    if len(parts) == 5 and parts[0] == "accounts" and parts[2] == "videos" and parts[4] == "source":
        return parts[1], parts[3]
    return None


def transcript_key(account_id: str, video_id: str, language: str) -> str:
    """The video's transcript in one language, kept with the video (not under the expiring work/ prefix)."""
    return f"{video_prefix(account_id, video_id)}/transcripts/{language}.json"


def prepared_key(account_id: str, video_id: str, name: str) -> str:
    """What preparation extracted from the source (``audio.wav``, ``levels.json``), kept with
    the video like its transcripts: a later job reads them instead of decoding the source again."""
    return f"{video_prefix(account_id, video_id)}/prepared/{name}"


def work_prefix(account_id: str, video_id: str) -> str:
    return f"work/{account_id}/{video_id}"


def work_key(account_id: str, video_id: str, call_id: str, name: str) -> str:
    return f"work/{account_id}/{video_id}/{call_id}/{name}"


def clip_key(account_id: str, video_id: str, call_id: str, index: int, ext: str = "mp4", version: int = 1) -> str:
    """A clip's file; a later version (update-clip, update-transcript) beside the first, never over it."""
    suffix = f".v{version}" if version > 1 else ""
    return f"{video_prefix(account_id, video_id)}/clips/{call_id}/{index:02d}{suffix}.{ext}"


@transient_failures("S3")
class Blobs:
    def __init__(self, client: Any, bucket: str):
        self._client = client
        self.bucket = bucket

    def upload_file(self, path: str, key: str, content_type: str = "application/octet-stream") -> None:
        self._client.upload_file(path, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get_bytes(self, key: str) -> bytes:
        return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def get_range(self, key: str, first: int, last: int) -> bytes:
        """Bytes ``first``..``last`` (inclusive) of an object; fewer past its end."""
        return self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={first}-{last}")["Body"].read()

    def open_version(self, key: str, version_id: str, size: int, buffer_bytes: int = 64 * 1024) -> BinaryIO:
        """A seekable, read-only file over one version of an object (``size`` bytes, from its
        HEAD): each read the buffer cannot answer is one ranged GET of at least ``buffer_bytes``.
        For reading a container's index in place (``domain/keyframes.py``) without a download."""
        return io.BufferedReader(_RangedObject(self._client, self.bucket, key, version_id, size), buffer_bytes)

    def download_file(self, key: str, path: str, version_id: str | None = None) -> None:
        extra = {"VersionId": version_id} if version_id else None
        self._client.download_file(self.bucket, key, path, ExtraArgs=extra)

    def head(self, key: str, version_id: str | None = None) -> dict[str, Any] | None:
        """The object's metadata (``ContentLength``, ``ETag``, ``VersionId`` on a versioned
        bucket), of one version when ``version_id`` is given; None if there is none."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            return self._client.head_object(**kwargs)
        except self._client.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound", "NoSuchVersion"):
                return None
            raise

    def delete_version(self, key: str, version_id: str) -> None:
        """Remove one version for good (the bucket is versioned: a plain delete would only hide it)."""
        self._client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)

    def versions(self, prefix: str) -> list[dict[str, str]]:
        """Every version and delete marker under ``prefix``: ``{"Key", "VersionId"}`` each."""
        found: list[dict[str, str]] = []
        for page in self._client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend({"Key": entry["Key"], "VersionId": entry["VersionId"]}
                         for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])])
        return found

    def delete_versions(self, objects: list[dict[str, str]]) -> None:
        """Remove these versions for good, a thousand per DeleteObjects call (its limit)."""
        for start in range(0, len(objects), 1000):
            resp = self._client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": objects[start:start + 1000], "Quiet": True}
            )
            if resp.get("Errors"):  # a 200 that refused some objects: the caller's retry finishes the job
                codes = sorted({e.get("Code", "?") for e in resp["Errors"]})
                raise TransientError(f"S3 did not delete {len(resp['Errors'])} objects ({', '.join(codes)})")

    def purge(self, prefix: str) -> int:
        """Delete every version of every object under ``prefix`` (a versioned bucket hides a
        plainly deleted object behind a marker; this leaves nothing); returns how many."""
        objects = self.versions(prefix)
        self.delete_versions(objects)
        return len(objects)

    def presign_put(self, key: str, expires: int, content_length: int | None = None) -> str:
        # No Content-Type is signed so a plain `curl -T file URL` works. Content-Length is: S3
        # then refuses a body of any other size (SignatureDoesNotMatch), which `curl -T` and
        # every HTTP client send correctly by themselves.
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if content_length is not None:
            params["ContentLength"] = content_length
        return self._client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires)

    def presign_get(self, key: str, expires: int, filename: str | None = None, version_id: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        if filename:
            params["ResponseContentDisposition"] = f'inline; filename="{filename}"'
        return self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    def create_bucket(self, region: str) -> None:
        """The bucket as infra/ makes it on AWS: versioned, so an accepted source's version
        stays readable whatever is written to its key later (local stack and tests)."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self._client.create_bucket(**kwargs)
        self._client.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})

    def ping(self) -> None:
        self._client.head_bucket(Bucket=self.bucket)


class _RangedObject(io.RawIOBase):
    """One object version as a raw file: reads are ranged GETs (``Blobs.open_version``)."""

    def __init__(self, client: Any, bucket: str, key: str, version_id: str, size: int):
        self._client, self._bucket, self._key, self._version = client, bucket, key, version_id
        self._size, self._at = size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._size}[whence]
        self._at = max(0, base + offset)
        return self._at

    def tell(self) -> int:
        return self._at

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._size - self._at)
        if want <= 0:
            return 0
        body = self._client.get_object(Bucket=self._bucket, Key=self._key, VersionId=self._version,
                                       Range=f"bytes={self._at}-{self._at + want - 1}")["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        n = len(data)
        buffer[:n] = data
        self._at += n
        return n
