"""Sealing webhook signing secrets at rest with a key the stack owns.

- ``KmsSecretBox`` (AWS): KMS Encrypt/Decrypt with the stack's key; the plain secret never
  leaves the function's memory and the key never leaves KMS.
- ``FileSecretBox`` (the local stack): AES-256-GCM with a 32-byte key in a file (mode 0600)
  in the local stack's data directory, made on first use.

Both bind each sealed secret to its webhook id (KMS encryption context, GCM associated data),
so a sealed value copied onto another webhook does not open. Sealed values name their box
(``kms:`` / ``aesgcm:``) so that a mismatch is an error that says so.
"""
from __future__ import annotations

import base64
import os
import threading
from typing import Any, Protocol

from chalicelib.adapters.aws_errors import transient_failures

CONTEXT_KEY = "klyph:webhookId"


class SecretBox(Protocol):
    def seal(self, plain: str, context: str) -> str: ...

    def open(self, sealed: str, context: str) -> str: ...


@transient_failures("KMS")
class KmsSecretBox:
    def __init__(self, client: Any, key_id: str):
        self._client = client
        self.key_id = key_id

    def seal(self, plain: str, context: str) -> str:
        resp = self._client.encrypt(KeyId=self.key_id, Plaintext=plain.encode(),
                                    EncryptionContext={CONTEXT_KEY: context})
        return "kms:" + base64.b64encode(resp["CiphertextBlob"]).decode()

    def open(self, sealed: str, context: str) -> str:
        if not sealed.startswith("kms:"):
            raise ValueError("this secret was not sealed with KMS")
        resp = self._client.decrypt(KeyId=self.key_id, CiphertextBlob=base64.b64decode(sealed[4:]),
                                    EncryptionContext={CONTEXT_KEY: context})
        return resp["Plaintext"].decode()


class FileSecretBox:
    _lock = threading.Lock()

    def __init__(self, key_file: str):
        self.key_file = key_file
        self._key: bytes | None = None

    def _aead(self) -> Any:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self._key is None:
            with self._lock:
                self._key = _read_or_create_key(self.key_file)
        return AESGCM(self._key)

    def seal(self, plain: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead().encrypt(nonce, plain.encode(), context.encode())
        return "aesgcm:" + base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str, context: str) -> str:
        if not sealed.startswith("aesgcm:"):
            raise ValueError("this secret was not sealed with the local key file")
        raw = base64.b64decode(sealed[7:])
        return self._aead().decrypt(raw[:12], raw[12:], context.encode()).decode()


def _read_or_create_key(path: str) -> bytes:
    """The key in ``path``, made (32 random bytes, mode 0600) if there is none yet."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, "rb") as f:
            key = f.read()
        if len(key) != 32:
            raise ValueError(f"{path} does not hold a 32-byte key") from None
        return key
    key = os.urandom(32)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key
