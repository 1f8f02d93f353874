"""A small HTTP client for the Klyph API, and a way to start the local stack as a subprocess.

Used by ``make demo``, the end-to-end tests and the benchmark; it speaks to the
service over HTTP exactly as a user's code would.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]


class ApiError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class KlyphClient:
    def __init__(self, base_url: str, api_key: str):
        self.base = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"

    def _call(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs: Any) -> tuple[int, Any]:
        resp = self.session.request(method, f"{self.base}{path}", timeout=120, **kwargs)
        body = resp.json() if resp.content else None
        if resp.status_code not in expect:
            raise ApiError(resp.status_code, body)
        return resp.status_code, body

    def create_project(self, name: str, account_id: str) -> dict:
        return self._call("POST", "/dev/create-project", json={"name": name, "accountId": account_id})[1]

    def upload_video(self, path: str | Path, account_id: str, project_id: str) -> dict:
        with open(path, "rb") as fh:
            files = {"file": (Path(path).name, fh, "application/octet-stream")}
            data = {"account_id": account_id, "project_id": project_id}
            return self._call("POST", "/dev/upload-video", files=files, data=data)[1]

    def upload_large(self, path: str | Path, account_id: str, project_id: str, timeout: float = 600) -> dict:
        """create-upload, PUT the bytes to the presigned URL, wait for the S3 trigger's verdict."""
        path = Path(path)
        ticket = self._call(
            "POST",
            "/dev/create-upload",
            json={
                "accountId": account_id, "projectId": project_id, "filename": path.name,
                "sizeBytes": path.stat().st_size,
            },
        )[1]
        with open(path, "rb") as fh:
            put = requests.request(
                ticket["method"], ticket["uploadUrl"], data=fh, headers=ticket["headers"], timeout=600
            )
        put.raise_for_status()
        deadline = time.time() + timeout
        while time.time() < deadline:
            summary = self.video_summary(ticket["videoId"])
            if summary["video"]["status"] != "uploading":
                return {"id": ticket["videoId"], **summary["video"]}
            time.sleep(0.5)
        raise TimeoutError(f"video {ticket['videoId']} still uploading after {timeout}s")

    def submit(self, video_id: str, **options: Any) -> str:
        return self._call("POST", "/dev/process-video-submit", json={"videoId": video_id, **options})[1]["callId"]

    def result(self, call_id: str) -> tuple[int, dict]:
        return self._call("GET", "/dev/process-video-result", expect=(200, 202), params={"callId": call_id})

    def wait(self, call_id: str, timeout: float = 3600, interval: float = 0.5, on_progress: Any = None) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            status, body = self.result(call_id)
            if status == 200:
                return body
            if on_progress:
                on_progress(body)
            time.sleep(interval)
        raise TimeoutError(f"call {call_id} still running after {timeout}s")

    def list_clips(self, video_id: str) -> list[dict]:
        return self._call("GET", "/dev/list-clips", params={"videoId": video_id})[1]["clips"]

    def video_summary(self, video_id: str) -> dict:
        return self._call("GET", "/dev/video-summary", params={"videoId": video_id})[1]


def healthy(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url.rstrip('/')}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


class LocalStackProcess:
    """``python -m devstack`` as a child process with a known account and key.

    Its data lives in ``data_dir``; by default a fresh temporary directory, deleted at ``stop``,
    so tests, the demo and the benchmark never touch the user's ``.klyph-data``. Give the same
    ``data_dir`` to a second instance to restart a stack on the first one's data. With
    ``pin_workspace=False`` the stack seeds (or reloads) its own workspace, read back from the
    data directory once it answers. ``new_session`` puts the stack in its own process group,
    which ``kill`` then ends at once, ffmpeg children included (a crash, a ``kill -9``).
    """

    def __init__(self, port: int, env: dict[str, str] | None = None, log_path: str | Path | None = None,
                 data_dir: str | Path | None = None, pin_workspace: bool = True, new_session: bool = False):
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}/api"
        self.account_id = f"acc_local{secrets.token_hex(6)}"
        self.api_key = "klyph_sk_" + secrets.token_urlsafe(24)
        self.data_dir = Path(data_dir) if data_dir else None
        self._own_data = data_dir is None
        self.pin_workspace = pin_workspace
        self.new_session = new_session
        self.env = dict(os.environ)
        if pin_workspace:
            self.env.update(KLYPH_DEV_ACCOUNT_ID=self.account_id, KLYPH_DEV_API_KEY=self.api_key)
        else:
            self.env.pop("KLYPH_DEV_ACCOUNT_ID", None)
            self.env.pop("KLYPH_DEV_API_KEY", None)
        self.env.update(env or {})
        self.log_path = Path(log_path) if log_path else None
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> LocalStackProcess:
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="klyph-data-"))
        self.env["KLYPH_DATA_DIR"] = str(self.data_dir)
        # The child writes the log through its own descriptor; the parent's is closed once it has started.
        with open(self.log_path, "a") if self.log_path else contextlib.nullcontext(subprocess.DEVNULL) as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "devstack", "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=self.new_session,
            )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"local stack exited with {self.proc.returncode}; see {self.log_path}")
            if healthy(self.base_url):
                if not self.pin_workspace:
                    from devstack.datadir import read_workspace

                    saved = read_workspace(self.data_dir)
                    assert saved is not None, f"the stack saved no workspace in {self.data_dir}"
                    self.account_id, self.api_key = saved
                return self
            time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"local stack did not answer on {self.base_url} within {timeout}s")

    def client(self) -> KlyphClient:
        return KlyphClient(self.base_url, self.api_key)

    def stop(self, timeout: float = 15) -> int | None:
        """Ctrl-C, as a user would; returns the exit code."""
        try:
            if not self.proc or self.proc.poll() is not None:
                return self.proc.returncode if self.proc else None
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        finally:
            self._remove_own_data()

    def kill(self) -> None:
        """``kill -9`` the stack (its whole process group with ``new_session``); its data stays."""
        if not self.proc or self.proc.poll() is not None:
            return
        if self.new_session:
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            self.proc.kill()
        self.proc.wait()

    def _remove_own_data(self) -> None:
        if self._own_data and self.data_dir is not None and (not self.proc or self.proc.poll() is not None):
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> LocalStackProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
