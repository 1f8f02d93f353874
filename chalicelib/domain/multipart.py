"""Parsing multipart/form-data bodies (the stdlib ``cgi`` module is gone from newer Pythons)."""
from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP

from chalicelib.errors import BadRequest


@dataclass
class FormData:
    fields: dict[str, str]
    files: dict[str, tuple[str, bytes]]  # field -> (client filename, content)


def parse_multipart(content_type: str, body: bytes) -> FormData:
    if "boundary=" not in content_type:
        raise BadRequest("Content-Type: multipart/form-data with a boundary is required")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BadRequest("body: not a valid multipart/form-data body")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        # The HTTP policy decodes RFC 2231 parameters, so the name is a str (or missing).
        name = part.get_param("name", header="content-disposition")
        if not name or not isinstance(name, str):
            continue
        # decode=True gives the part's bytes, or None for a nested multipart part.
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, payload)
        else:
            try:
                fields[name] = payload.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest(f"{name}: form field is not valid UTF-8") from None
    return FormData(fields, files)
