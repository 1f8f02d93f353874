"""Amazon Transcribe batch jobs: start, poll, and read the result (the transcriber on AWS).

The state machine starts a job, then loops Wait -> check until it is done; the JSON output
lands in our bucket and is parsed into the normalised Transcript.
"""
from __future__ import annotations

import contextlib
import json
from typing import Any

from chalicelib.adapters.aws_errors import transient_failures
from chalicelib.domain.transcript import Transcript, parse_aws_transcribe

# Transcribe's job states reduced to what the poll loop branches on.
_STATUS = {"QUEUED": "IN_PROGRESS", "IN_PROGRESS": "IN_PROGRESS", "COMPLETED": "COMPLETED", "FAILED": "FAILED"}


@transient_failures("Amazon Transcribe")
class AwsTranscriber:
    def __init__(self, client: Any, s3_client: Any, bucket: str):
        self._client, self._s3, self._bucket = client, s3_client, bucket

    def start(self, job_name: str, media_key: str, output_key: str) -> None:
        # Without the extension Transcribe treats OutputKey as a folder and appends the job name.
        if not output_key.endswith(".json"):
            raise ValueError(f"output_key must end in .json: {output_key!r}")
        # Job names are per call: a retried start finds its own job already running.
        with contextlib.suppress(self._client.exceptions.ConflictException):
            self._client.start_transcription_job(
                TranscriptionJobName=job_name,
                Media={"MediaFileUri": f"s3://{self._bucket}/{media_key}"},
                MediaFormat="wav",
                # Fixed en-US rather than IdentifyLanguage: the local transcriber (tiny.en) and the
                # selector's stopwords and hook cues are English-only, so both backends agree.
                LanguageCode="en-US",
                OutputBucketName=self._bucket,
                OutputKey=output_key,
            )

    def check(self, job_name: str) -> tuple[str, str | None]:
        """("IN_PROGRESS" | "COMPLETED" | "FAILED", failure reason or None)."""
        job = self._client.get_transcription_job(TranscriptionJobName=job_name)["TranscriptionJob"]
        status = _STATUS[job["TranscriptionJobStatus"]]
        return status, job.get("FailureReason") if status == "FAILED" else None

    def fetch(self, output_key: str) -> Transcript:
        body = self._s3.get_object(Bucket=self._bucket, Key=output_key)["Body"].read()
        return parse_aws_transcribe(json.loads(body))
