"""Helpers the tests import by name (a module, not conftest: several conftest.py files exist)."""
from __future__ import annotations

import json
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class Api:
    """Route calls as a user makes them: JSON in, status and JSON out."""

    def __init__(self, client, api_key: str):
        self.client = client
        self.key = api_key

    def headers(self, extra=None):
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json", **(extra or {})}

    def post(self, path, body, headers=None):
        raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
        resp = self.client.http.post(path, headers=self.headers(headers), body=raw)
        return resp.status_code, json.loads(resp.body or b"null")

    def get(self, path, headers=None):
        resp = self.client.http.get(path, headers=self.headers(headers))
        return resp.status_code, json.loads(resp.body or b"null")

    def upload(self, account_id, project_id, filename, data, content_type="video/mp4", extra_fields=None):
        boundary = "klyphtestboundary"
        fields = {"account_id": account_id, "project_id": project_id, **(extra_fields or {})}
        parts = []
        for k, v in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        resp = self.client.http.post(
            "/dev/upload-video",
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
            body=body,
        )
        return resp.status_code, json.loads(resp.body or b"null")

    def wait_for_result(self, call_id, timeout=240):
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, body = self.get(f"/dev/process-video-result?callId={call_id}")
            if status != 202:
                return status, body
            time.sleep(0.25)
        raise AssertionError(f"call {call_id} still running after {timeout}s: {body}")
