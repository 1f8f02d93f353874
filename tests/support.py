"""Helpers the tests import by name (a module, not conftest: several conftest.py files exist)."""
from __future__ import annotations

import json
import math
import operator
import sys
import time
import wave
from array import array
from pathlib import Path

from chalicelib.adapters.audio import SILENCE_DBFS

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
            headers={
                "Authorization": f"Bearer {self.key}", "Content-Type": f"multipart/form-data; boundary={boundary}"
            },
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


_SILENCE_POWER = 10 ** (SILENCE_DBFS / 10)
_WINDOWS_PER_READ = 60  # bounded memory: a 2-hour file is read a minute at a time


def loudness_profile(wav_path: str | Path, window_seconds: float = 1.0) -> list[float]:
    """RMS level in dBFS of each ``window_seconds`` of a 16-bit PCM WAV (the last may be shorter).

    The reference the pipeline's one-pass ffmpeg measurement is checked against, and a way
    for tests to make loudness profiles of their own audio.
    """
    with wave.open(str(wav_path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit PCM, got {8 * wav.getsampwidth()}-bit: {wav_path}")
        channels = wav.getnchannels()
        window = max(1, round(wav.getframerate() * window_seconds))
        levels: list[float] = []
        while frames := wav.readframes(window * _WINDOWS_PER_READ):
            samples = array("h", frames)
            if sys.byteorder == "big":
                samples.byteswap()  # WAV is little-endian
            step = window * channels
            for offset in range(0, len(samples), step):
                chunk = samples[offset: offset + step]
                if channels > 1:
                    # The mean of the channels, as a downmix to mono would have it.
                    mixed = [sum(chunk[i: i + channels]) / channels for i in range(0, len(chunk), channels)]
                else:
                    mixed = chunk
                power = sum(map(operator.mul, mixed, mixed)) / (len(mixed) * 32768.0**2)
                level = 10 * math.log10(max(power, _SILENCE_POWER))
                levels.append(round(level, 2) if level >= SILENCE_DBFS else SILENCE_DBFS)
    return levels


def select_clips(transcript, **kw):
    """The clips ``rank_clips`` would hand to the renderer: its choices, in timeline order."""
    from chalicelib.domain.selection import rank_clips

    return rank_clips(transcript, **kw).choices


def no_network(*args, **kwargs):
    """Patched over ``socket.socket.connect`` where a model must load with the network off."""
    raise AssertionError(f"network access attempted: {args}")
