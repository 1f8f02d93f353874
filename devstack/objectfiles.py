"""S3 object bodies as files of the data directory, and the moto hooks that keep them there.

Stock moto holds each object's bytes in a ``SpooledTemporaryFile`` and moves them through
memory whole, several times per request: a PUT reads the body into one ``bytes``
(``request.data``), every GET (each ranged GET of a download too) reads the whole object to
slice it, multipart completion joins all parts in a ``bytearray`` and checksums the result,
and ListObjectVersions deep-copies every version of the bucket with its bytes. Eight uploads
of a 65 MB video grew the stack by 650 MB: none of it alive (tracemalloc's count of live
Python memory stayed flat), all of it freed buffers the allocator's per-thread arenas keep.

With the hooks installed (``install``, by ``devstack/persistence.py``):
- a FakeKey's body is a ``BlobBuffer``: a file under ``objects/``, written once, fsynced,
  read in bounded chunks;
- a plain PUT (a presigned upload, ``curl -T``) or UploadPart streams its body from the
  socket to such a file; the persistence middleware hands moto the file instead of bytes;
- GetObject answers with a ``FileRange`` that werkzeug streams from the file, ranges included;
- CompleteMultipartUpload concatenates the part files on disk;
- deep copies (ListObjectVersions) share the file instead of copying the bytes.

Bodies that arrive through moto's own parsing (boto3's small PUTs with checksums, its
8 MB multipart parts) still pass through memory once, bounded by their size.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from devstack.datadir import fsync_dir

CHUNK = 1 << 20


class IncompleteBody(Exception):
    """The client sent fewer bytes than its Content-Length announced."""


@dataclass(frozen=True)
class BlobRef:
    """A finished body file: its name under ``objects/``, size and MD5 (the ETag of a plain PUT)."""

    name: str
    size: int
    md5: str | None = None


class ObjectFiles:
    """The ``objects/`` directory: one file per object version, sharded by the name's first two characters."""

    def __init__(self, root: Path):
        self.root = root
        self._made: set[str] = set()

    def path(self, name: str) -> Path:
        return self.root / name

    def new(self) -> tuple[str, Path]:
        ident = uuid.uuid4().hex
        shard = ident[:2]
        if shard not in self._made:
            (self.root / shard).mkdir(mode=0o700, exist_ok=True)
            self._made.add(shard)
        name = f"{shard}/{ident}"
        return name, self.root / name

    def _finish(self, fh: BinaryIO, path: Path) -> None:
        # The body is durable before any record names it: a crash leaves at worst an unnamed
        # file, which the next start deletes.
        fh.flush()
        os.fsync(fh.fileno())
        fsync_dir(path.parent)

    def write_bytes(self, data: bytes) -> BlobRef:
        name, path = self.new()
        with open(path, "wb") as fh:
            fh.write(data)
            self._finish(fh, path)
        return BlobRef(name, len(data), hashlib.md5(data, usedforsecurity=False).hexdigest())

    def receive(self, stream: BinaryIO, length: int) -> BlobRef:
        """Copy exactly ``length`` bytes of a request body to a new file, in 1 MB chunks."""
        name, path = self.new()
        digest = hashlib.md5(usedforsecurity=False)
        remaining = length
        try:
            with open(path, "wb") as fh:
                while remaining:
                    chunk = stream.read(min(CHUNK, remaining))
                    if not chunk:
                        raise IncompleteBody(f"the body ended after {length - remaining} of {length} bytes")
                    fh.write(chunk)
                    digest.update(chunk)
                    remaining -= len(chunk)
                self._finish(fh, path)
        except BaseException:
            self.delete(name)
            raise
        return BlobRef(name, length, digest.hexdigest())

    def concat(self, bodies: Iterable[Any]) -> BlobRef:
        """One file holding ``bodies`` (BlobBuffers, or bytes) end to end."""
        name, path = self.new()
        size = 0
        try:
            with open(path, "wb") as out:
                for body in bodies:
                    if isinstance(body, BlobBuffer):
                        with open(body.path, "rb") as src:
                            shutil.copyfileobj(src, out, CHUNK)
                        size += body.size
                    else:
                        out.write(body)
                        size += len(body)
                self._finish(out, path)
        except BaseException:
            self.delete(name)
            raise
        return BlobRef(name, size)

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.root / name).unlink()

    def names(self) -> Iterator[str]:
        """Every body file on disk."""
        if not self.root.exists():
            return
        for shard in os.scandir(self.root):
            if shard.is_dir():
                for entry in os.scandir(shard.path):
                    yield f"{shard.name}/{entry.name}"




class BlobBuffer:
    """Stands in for FakeKey's ``SpooledTemporaryFile``: the body is a file, written once.

    ``persisted`` says a stored record names the file: from then on only a record's rewrite
    deletes it (``Persistence.flush_objects``). A body no record names yet belongs to its key
    alone, and goes when moto disposes of the key (an aborted upload's parts, a version
    replaced before it was stored). A ``borrowed`` buffer (a deep copy's) never deletes.
    """

    def __init__(self, files: ObjectFiles, ref: BlobRef, owner: bool = True):
        self.files = files
        self.name = ref.name
        self.size = ref.size
        self.md5 = ref.md5
        self.owner = owner
        self.persisted = False
        self.closed = False
        self._pos = 0

    @property
    def path(self) -> Path:
        return self.files.path(self.name)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        with open(self.path, "rb") as fh:
            fh.seek(self._pos)
            data = fh.read(size if size is not None and size >= 0 else -1)
        self._pos += len(data)
        return data

    def read_all(self) -> bytes:
        with open(self.path, "rb") as fh:
            return fh.read()

    def write(self, data: bytes) -> int:
        raise io.UnsupportedOperation("an object body is written once")

    def truncate(self, size: int | None = None) -> int:
        raise io.UnsupportedOperation("an object body is written once")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.owner and not self.persisted:
            self.files.delete(self.name)

    def borrowed(self) -> BlobBuffer:
        twin = BlobBuffer(self.files, BlobRef(self.name, self.size, self.md5), owner=False)
        twin.persisted = self.persisted
        return twin


class FileRange:
    """A GET's body: ``length`` bytes of a file from ``start``, streamed by werkzeug in 1 MB chunks.

    moto's range handling only takes ``len()`` and a slice of the body, which stay lazy here.
    """

    def __init__(self, path: Path, start: int, length: int):
        self.path = path
        self.start = start
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:
        return self.length > 0

    def __getitem__(self, item: slice) -> FileRange:
        if not isinstance(item, slice):
            raise TypeError("a FileRange is sliced, not indexed")
        start, stop, step = item.indices(self.length)
        if step != 1:
            raise ValueError("a FileRange slice has no step")
        return FileRange(self.path, self.start + start, max(0, stop - start))

    def __iter__(self) -> Iterator[bytes]:
        remaining = self.length
        if not remaining:
            return
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            while remaining:
                chunk = fh.read(min(CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk


# The hooks ------------------------------------------------------------------------------------

_local = threading.local()
_files: ObjectFiles | None = None
_originals: dict[str, Any] = {}


def stage(bucket: str, ref: BlobRef) -> None:
    """The request running on this thread brought this body: its PutObject or UploadPart takes it."""
    _local.staged = (bucket, ref)


def unstaged() -> BlobRef | None:
    """The staged body moto did not take (it answered with an error), now the caller's to delete."""
    staged = getattr(_local, "staged", None)
    _local.staged = None
    return staged[1] if staged else None


def _take_staged(bucket: str) -> BlobRef | None:
    staged = getattr(_local, "staged", None)
    if staged is None or staged[0] != bucket:
        return None
    _local.staged = None
    return staged[1]


def adopt(key: Any, ref: BlobRef, files: ObjectFiles) -> BlobBuffer:
    """Make ``ref`` the body of FakeKey ``key``."""
    old = key.__dict__.get("_value_buffer")
    if old is not None and not isinstance(old, BlobBuffer):
        old.close()
    buffer = BlobBuffer(files, ref)
    key._value_buffer = buffer
    key.contentsize = ref.size
    if key._etag is None and ref.md5 is not None:
        key._etag = ref.md5
    return buffer


def _get_value(self: Any) -> Any:
    buffer = self._value_buffer
    if isinstance(buffer, BlobBuffer):
        if getattr(_local, "lazy", False):
            return FileRange(buffer.path, 0, self.contentsize)
        return buffer.read_all()
    return _originals["value"].fget(self)


def _set_value(self: Any, new_value: Any) -> None:
    if isinstance(new_value, BlobRef):
        assert _files is not None, "a BlobRef outside the data directory"
        adopt(self, new_value, _files)
    elif _files is None:
        _originals["value"].fset(self, new_value)
    else:
        if isinstance(new_value, str):
            new_value = new_value.encode()
        adopt(self, _files.write_bytes(bytes(new_value)), _files)


def _deepcopy_key(self: Any, memo: dict[int, Any]) -> Any:
    new = object.__new__(type(self))
    memo[id(self)] = new
    buffer = self.__dict__.get("_value_buffer")
    if not isinstance(buffer, BlobBuffer):
        # moto's own way: through __getstate__/__setstate__, which copy the bytes.
        new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return new
    for name, value in self.__dict__.items():
        if name == "_value_buffer":
            new.__dict__[name] = buffer.borrowed()
        elif name == "lock":
            new.__dict__[name] = threading.Lock()
        else:
            new.__dict__[name] = copy.deepcopy(value, memo)
    return new


def _complete_multipart(self: Any, body: Iterator[tuple[int, str]]) -> tuple[Any, str, Any]:
    """FakeMultipart.complete with the parts joined on disk: (the body, the ETag, the checksum)."""
    if _files is None:
        return _originals["complete"](self, body)
    from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
    from moto.s3.models import MultipartChecksumBuilder
    from moto.settings import S3_UPLOAD_PART_MIN_SIZE

    parts: list[Any] = []
    md5s = bytearray()
    for number, etag in body:
        part = self.parts.get(number)
        part_etag = part.etag.replace('"', "") if part is not None else None
        if part is None or part_etag != etag.replace('"', ""):
            raise InvalidPart
        if parts and parts[-1].contentsize < S3_UPLOAD_PART_MIN_SIZE:
            raise EntityTooSmall
        md5s.extend(bytes.fromhex(part_etag))
        parts.append(part)
    if not parts:
        raise MalformedXML
    checksum = None
    algorithm = self.metadata.get("x-amz-checksum-algorithm")
    if algorithm:
        # Only when the client asked for one (moto computes a CRC64 of the whole object in
        # memory for every upload otherwise). A composite checksum reads one part at a time.
        builder = MultipartChecksumBuilder(algorithm, self.metadata.get("x-amz-checksum-type"))
        for part in parts:
            builder.addPart(part.value)
        checksum = builder.build()
    joined = _files.concat(part._value_buffer if isinstance(part._value_buffer, BlobBuffer) else part.value
                           for part in parts)
    for part in self.parts.values():
        part.dispose()  # their files are now inside the joined one
    etag = hashlib.md5(bytes(md5s), usedforsecurity=False).hexdigest()
    return joined, f"{etag}-{len(parts)}", checksum


def _wrap_put_object(original: Callable[..., Any]) -> Callable[..., Any]:
    """S3Backend.put_object taking the request's streamed body in place of ``b""``."""

    def put_object(self: Any, bucket_name: str, key_name: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if not value:
            value = _take_staged(bucket_name) or value
        return original(self, bucket_name, key_name, value, *args, **kwargs)

    return put_object


def _wrap_upload_part(original: Callable[..., Any]) -> Callable[..., Any]:
    """S3Backend.upload_part taking the request's streamed body in place of ``b""``."""

    def upload_part(self: Any, bucket_name: str, multipart_id: str, part_id: int, value: Any) -> Any:
        if not value:
            value = _take_staged(bucket_name) or value
        return original(self, bucket_name, multipart_id, part_id, value)

    return upload_part


def _lazy_get_object(self: Any) -> Any:
    _local.lazy = True
    try:
        return _originals["get_object"](self)
    finally:
        _local.lazy = False


def _wrap_key_store(original: Callable[..., Any], on_change: Callable[[str, str], None]) -> Callable[..., Any]:
    """A bucket's key store method that reports the key it changed (after changing it)."""

    def method(self: Any, key: str, *args: Any) -> Any:
        result = original(self, key, *args)
        bucket = self.__dict__.get("_klyph_bucket")
        if bucket is not None:
            on_change(bucket, key)
        return result

    return method


def _notifies(bucket: Any, event_name: Any, key: Any) -> bool:
    """Whether S3 sends this event anywhere (the bucket's Lambda, queue or topic configurations)."""
    config = bucket.notification_configuration
    if config is None:
        return False
    if config.event_bridge is not None:
        return True
    targets = [*config.cloud_function, *config.queue, *config.topic]
    return any(target.matches(event_name, key.name) for target in targets)


def install(files: ObjectFiles, on_change: Callable[[str, str], None], before_event: Callable[[], None]) -> None:
    """Patch moto so object bodies live in ``files``; ``on_change(bucket, key)`` hears of every
    changed key of a tracked bucket, ``before_event()`` runs before S3 notifies anyone."""
    global _files
    from moto.s3 import models, notifications, responses, utils

    if not _originals:
        _originals.update(
            value=models.FakeKey.value,
            deepcopy=models.FakeKey.__dict__.get("__deepcopy__"),
            complete=models.FakeMultipart.complete,
            put_object=models.S3Backend.put_object,
            upload_part=models.S3Backend.upload_part,
            get_object=responses.S3Response.get_object,
            send_event=notifications.send_event,
            **{f"store.{name}": getattr(utils._VersionedKeyStore, name) for name in ("setlist", "__setitem__", "pop")},
        )
    original_send = _originals["send_event"]

    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        if _notifies(bucket, event_name, key):
            before_event()  # what S3 tells the upload trigger exists is already on disk
        original_send(account_id, event_name, bucket, key)

    # Assignments through setattr: mypy rejects assigning to methods and properties.
    setattr(models.FakeKey, "value", property(_get_value, _set_value))  # noqa: B010
    setattr(models.FakeKey, "__deepcopy__", _deepcopy_key)  # noqa: B010
    setattr(models.FakeMultipart, "complete", _complete_multipart)  # noqa: B010
    setattr(models.S3Backend, "put_object", _wrap_put_object(_originals["put_object"]))  # noqa: B010
    setattr(models.S3Backend, "upload_part", _wrap_upload_part(_originals["upload_part"]))  # noqa: B010
    setattr(responses.S3Response, "get_object", _lazy_get_object)  # noqa: B010
    setattr(notifications, "send_event", send_event)  # noqa: B010
    for name in ("setlist", "__setitem__", "pop"):
        setattr(utils._VersionedKeyStore, name, _wrap_key_store(_originals[f"store.{name}"], on_change))
    _files = files


def uninstall() -> None:
    """Give moto its own behaviour back (a test's stack is going away)."""
    global _files
    from moto.s3 import models, notifications, responses, utils

    _files = None
    if not _originals:
        return
    setattr(models.FakeKey, "value", _originals["value"])  # noqa: B010
    if _originals["deepcopy"] is None:
        delattr(models.FakeKey, "__deepcopy__")
    else:
        setattr(models.FakeKey, "__deepcopy__", _originals["deepcopy"])  # noqa: B010
    setattr(models.FakeMultipart, "complete", _originals["complete"])  # noqa: B010
    setattr(models.S3Backend, "put_object", _originals["put_object"])  # noqa: B010
    setattr(models.S3Backend, "upload_part", _originals["upload_part"])  # noqa: B010
    setattr(responses.S3Response, "get_object", _originals["get_object"])  # noqa: B010
    setattr(notifications, "send_event", _originals["send_event"])  # noqa: B010
    for name in ("setlist", "__setitem__", "pop"):
        setattr(utils._VersionedKeyStore, name, _originals[f"store.{name}"])
    _originals.clear()
