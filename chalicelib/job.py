"""The job's contract with the state machine: the state that flows between its tasks.

Every task validates what it receives (``JobState.model_validate`` / ``RenderItem``) and
returns a model dumped with ``wire()``, so a field renamed in one task and not in another
fails at once, loudly, instead of being read back by guesswork. Field names are what
``pipeline.asl.json`` reads (``$.transcription.status``, ``$.clips``, the Map's
ItemSelector), so they stay camelCase JSON.

The state is small: ids, options, S3 keys and media facts. Audio, transcripts and clips
stay in S3.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib.domain.media import MediaInfo
from chalicelib.models import Failure, JobOptions


class _Wire(BaseModel):
    # Unknown fields are a contract break between the ASL and the tasks: reject them.
    model_config = ConfigDict(extra="forbid")

    def wire(self) -> dict[str, Any]:
        """The JSON the next state receives: unset fields are left out, not sent as null."""
        return self.model_dump(mode="json", exclude_none=True)


class Media(_Wire):
    """``MediaInfo`` as it travels (``MediaInfo.to_dict``'s keys)."""

    container: str
    durationSeconds: float
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    hasAudio: bool
    hasVideo: bool
    videoCodec: str | None = None
    audioCodec: str | None = None
    sizeBytes: int

    @classmethod
    def of(cls, info: MediaInfo) -> Media:
        return cls.model_validate(info.to_dict())

    def info(self) -> MediaInfo:
        return MediaInfo.from_dict(self.model_dump())


class SourceRef(_Wire):
    """The exact object a job reads: the source's key, and the version the upload probe
    accepted (None only for a video recorded before versions were pinned)."""

    key: str
    versionId: str | None = None


class Transcription(_Wire):
    """Where the transcript is (``key``) and, while Amazon Transcribe works, how to poll it."""

    status: Literal["IN_PROGRESS", "COMPLETED"]
    key: str
    words: int | None = None
    language: str | None = None  # once COMPLETED: the transcript's language ("" without speech)
    jobName: str | None = None
    outputKey: str | None = None
    pollSeconds: int | None = None
    # Amazon Transcribe only: when the job was started, and once COMPLETED how long it took
    # (the TranscribeWaitSeconds metric on the operators' dashboard).
    startedAt: str | None = None
    waitSeconds: float | None = None


class ClipRef(_Wire):
    """One selected clip, as the render Map iterates over them."""

    index: int
    id: str
    start: float
    end: float


class ReframePlan(_Wire):
    """How the clip is framed. ``auto``: one crop following the active speaker, keyframes
    (seconds from the clip start, left edge in source pixels) linear between them, two at one
    time being a cut; ``center``: the centred crop (nobody found); ``split``: two still crops
    (x, y, w, h in source pixels) stacked top and bottom."""

    layout: Literal["auto", "center", "split"] = "auto"
    keyframes: list[tuple[float, int]]
    panels: list[tuple[int, int, int, int]] | None = None
    samples: int
    withFaces: int


class RenderOutcome(_Wire):
    index: int
    status: Literal["ready", "failed"]


class CaughtError(_Wire):
    """What a Catch puts at ``$.error``: Step Functions' own field names."""

    Error: str
    Cause: str | None = None


class JobState(_Wire):
    """The execution's input (from submit) and what each task adds to it."""

    callId: str
    videoId: str
    accountId: str
    source: SourceRef
    options: JobOptions
    # Submit (the probe's facts about the pinned source), else Prepare
    media: Media | None = None
    audioKey: str | None = None
    loudnessKey: str | None = None
    # Prepare: an earlier job's transcript of this very source version (in the language asked
    # for) was reused, so the state machine goes straight to SelectClips.
    transcriptReused: bool | None = None
    # Prepare: the source's preparation (started at upload) is still running; the job waits
    # for it (WaitForPreparation) and asks again.
    preparationPending: bool | None = None
    preparationPollSeconds: int | None = None
    # A preparation (execution prp_<videoId>, started at upload): no call, no clips; it stops
    # once the transcript is kept with the video.
    prepareOnly: bool | None = None
    # StartTranscription / CheckTranscription
    transcription: Transcription | None = None
    # SelectClips
    clips: list[ClipRef] | None = None
    # RenderClips (the Map's ResultPath)
    rendered: list[RenderOutcome] | None = None
    # Any Catch on the way to MarkJobFailed
    error: CaughtError | None = None

    def require_media(self) -> Media:
        if self.media is None:
            raise ValueError("the job state has no media facts: Prepare did not run")
        return self.media

    def require_transcription(self) -> Transcription:
        if self.transcription is None:
            raise ValueError("the job state has no transcription: StartTranscription did not run")
        return self.transcription


class EditRef(_Wire):
    """A re-render of one clip (update-clip, update-transcript): its own execution ``callId``
    (edt_<ULID>), the version it makes, and the clip's new title and description if changed."""

    callId: str
    version: int
    title: str | None = None
    description: str | None = None


class RenderItem(_Wire):
    """One iteration of the render Map (its ItemSelector in pipeline.asl.json), or the input of
    a render-only execution (``edit``), which renders one clip of the job ``callId`` again."""

    clip: ClipRef
    callId: str
    videoId: str
    accountId: str
    source: SourceRef
    media: Media
    transcriptKey: str
    options: JobOptions
    reframe: ReframePlan | None = None  # PlanReframe's answer
    reframeError: CaughtError | None = None  # PlanReframe failed: the render keeps the centre crop
    thumbnailAt: float | None = None  # PlanReframe: clip seconds where a face shows best, for the thumbnail
    error: CaughtError | None = None  # set on the way to MarkClipFailed
    edit: EditRef | None = None  # a render-only execution's


class JobOutcome(_Wire):
    """What Finalize and MarkJobFailed return: the execution's output."""

    callId: str
    status: Literal["succeeded", "failed"]
    clipsReady: int | None = None
    clipsTotal: int | None = None
    error: Failure | None = None
    stage: str | None = None  # the stage a failed job had reached, from its call record
