"""Amazon Transcribe batch jobs: start, poll, and read the result (the transcriber on AWS).

The state machine starts a job, then loops Wait -> check until it is done; the JSON output
lands in our bucket and is parsed into the normalised Transcript. A job asked for a language
runs in that language's locale (``chalicelib/domain/languages.py`` says which); one asked for
``auto`` lets Transcribe identify the language among a few (IdentifyLanguage + LanguageOptions),
and the identified locale comes back on the job.
"""
from __future__ import annotations

import contextlib
import json
from typing import Any

from chalicelib.adapters.aws_errors import transient_failures
from chalicelib.config import DEFAULT_IDENTIFY_OPTIONS
from chalicelib.domain.languages import AUTO, identify_options, transcribe_locale
from chalicelib.domain.transcript import Transcript, parse_aws_transcribe

# Transcribe's job states reduced to what the poll loop branches on.
_STATUS = {"QUEUED": "IN_PROGRESS", "IN_PROGRESS": "IN_PROGRESS", "COMPLETED": "COMPLETED", "FAILED": "FAILED"}


@transient_failures("Amazon Transcribe")
class AwsTranscriber:
    def __init__(self, client: Any, s3_client: Any, bucket: str,
                 identify_among: tuple[str, ...] | list[str] = DEFAULT_IDENTIFY_OPTIONS):
        self._client, self._s3, self._bucket = client, s3_client, bucket
        # Checked here, once: a bad KLYPH_TRANSCRIBE_LANGUAGE_OPTIONS fails the first job loudly.
        self._options = identify_options(identify_among) if identify_among else []

    def language_request(self, language: str) -> dict[str, Any]:
        """StartTranscriptionJob's language parameters for a job's ``language`` (a code or auto)."""
        if language != AUTO:
            return {"LanguageCode": transcribe_locale(language)}
        if not self._options:  # no list configured: Transcribe considers all of its languages
            return {"IdentifyLanguage": True}
        return {"IdentifyLanguage": True, "LanguageOptions": self._options}

    def start(self, job_name: str, media_key: str, output_key: str, language: str = AUTO) -> None:
        # Without the extension Transcribe treats OutputKey as a folder and appends the job name.
        if not output_key.endswith(".json"):
            raise ValueError(f"output_key must end in .json: {output_key!r}")
        # Job names are per call: a retried start finds its own job already running.
        with contextlib.suppress(self._client.exceptions.ConflictException):
            self._client.start_transcription_job(
                TranscriptionJobName=job_name,
                Media={"MediaFileUri": f"s3://{self._bucket}/{media_key}"},
                MediaFormat="wav",
                OutputBucketName=self._bucket,
                OutputKey=output_key,
                **self.language_request(language),
            )

    def check(self, job_name: str) -> tuple[str, str | None, str | None]:
        """("IN_PROGRESS" | "COMPLETED" | "FAILED", failure reason or None, the job's locale or None).

        The locale is the one asked for, or once identified the one Transcribe identified."""
        job = self._client.get_transcription_job(TranscriptionJobName=job_name)["TranscriptionJob"]
        status = _STATUS[job["TranscriptionJobStatus"]]
        return status, job.get("FailureReason") if status == "FAILED" else None, job.get("LanguageCode")

    def fetch(self, output_key: str, locale: str | None = None) -> Transcript:
        body = self._s3.get_object(Bucket=self._bucket, Key=output_key)["Body"].read()
        return parse_aws_transcribe(json.loads(body), locale or "")
