"""Pydantic models at the API edge: the requests validated here, once, and the response bodies.

Unknown fields are rejected (a typo such as ``maxclips`` must not be silently
ignored), numbers must be numbers (``"3"`` is a client bug worth reporting) and
NaN/inf never get through. The OpenAPI document's schemas are generated from these
models (``chalicelib/openapi.py``), so the description cannot drift from the answers.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from chalicelib.domain import languages
from chalicelib.errors import BadRequest

AspectRatio = Literal["9:16", "1:1", "16:9"]
Id = Annotated[str, Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9_\-]+$")]
# minDuration and maxDuration alike: 5 to 180 seconds.
Seconds = Annotated[float, Field(strict=True, ge=5, le=180, allow_inf_nan=False)]

MAX_INSTRUCTIONS_CHARS = 4000
MAX_CLIPS = 10


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreateProject(_Request):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    accountId: Id


class UploadForm(_Request):
    account_id: Id
    project_id: Id
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class CreateUpload(_Request):
    accountId: Id
    projectId: Id
    filename: Annotated[str, Field(min_length=1, max_length=1024)]
    sizeBytes: Annotated[int, Field(strict=True, gt=0)]
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class _Query(_Request):
    """Query-string parameters: they arrive as strings, so numbers are parsed from text here
    (a body's numbers must be JSON numbers; a query string has no other kind)."""


PageLimit = Annotated[int, Field(ge=1, le=200)]
Cursor = Annotated[str, Field(min_length=1, max_length=1024)]


class ListProjects(_Query):
    accountId: Id
    cursor: Cursor | None = None
    limit: PageLimit = 50


class ListVideos(_Query):
    projectId: Id
    cursor: Cursor | None = None
    limit: PageLimit = 50


ExportFormat = Literal["fcpxml", "otio", "edl", "srt", "vtt"]


class ExportClip(_Query):
    clipId: Id
    format: ExportFormat


class ExportVideo(_Query):
    videoId: Id
    format: ExportFormat


class UpdateClip(_Request):
    """New boundaries (snapped to words), title, description or caption style for a clip: it is
    rendered again as a new version."""

    clipId: Id
    startSeconds: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)] | None = None
    endSeconds: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    captionStyle: Annotated[CaptionStyleOptions | None, WithJsonSchema({
        "anyOf": [{"$ref": "#/components/schemas/CaptionStyleOptions"},
                  {"type": "string", "enum": list(CAPTION_PRESETS)}, {"type": "null"}],
        "default": None,
    })] = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateClip:
        if all(v is None for v in (self.startSeconds, self.endSeconds, self.title, self.description,
                                   self.captionStyle)):
            raise ValueError("body: give at least one of startSeconds, endSeconds, title, description, captionStyle")
        return self


class ClipTranscriptQuery(_Query):
    clipId: Id


class WordCorrection(_Request):
    index: Annotated[int, Field(strict=True, ge=0)]
    text: Annotated[str, Field(strict=True, min_length=1, max_length=100, pattern=r"^[^\r\n\t]+$")]


class UpdateTranscript(_Request):
    """Misheard words of a clip replaced (timings kept); the clip renders again as a new version."""

    clipId: Id
    words: Annotated[list[WordCorrection], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _each_word_once(self) -> UpdateTranscript:
        seen: set[int] = set()
        for n, word in enumerate(self.words):
            if word.index in seen:
                raise ValueError(f"words.{n}.index: word {word.index} is corrected twice")
            seen.add(word.index)
        return self


class DeleteVideo(_Request):
    videoId: Id


class DeleteProject(_Request):
    projectId: Id


CaptionPreset = Literal["highlight", "karaoke", "boxed", "minimal"]
CAPTION_PRESETS = get_args(CaptionPreset)
HexColour = Annotated[str, Field(strict=True, pattern=r"^#[0-9A-Fa-f]{6}$", description="#RRGGBB")]


class CaptionStyleOptions(_Request):
    """How burned captions look: a preset and overrides of it (unset: the preset's value).
    Given as a preset name alone (``"karaoke"``) or as this object."""

    preset: CaptionPreset = "highlight"
    # Unset: the preset's (highlight, karaoke, minimal: groups of 3-7 words on up to two lines).
    wordsPerLine: Annotated[int, Field(strict=True, ge=1, le=4)] | None = None
    position: Literal["bottom", "middle", "top"] | None = None
    uppercase: Annotated[bool, Field(strict=True)] | None = None
    fontScale: Annotated[float, Field(strict=True, ge=0.5, le=2.0, allow_inf_nan=False)] | None = None
    primaryColor: HexColour | None = None
    highlightColor: HexColour | None = None
    # The clip's title burned in as a headline over its first seconds.
    hook: Annotated[bool, Field(strict=True)] = False

    @model_validator(mode="before")
    @classmethod
    def _preset_name(cls, value: Any) -> Any:
        return {"preset": value} if isinstance(value, str) else value

    def style(self) -> Any:
        """The domain's ``CaptionStyle`` for these options."""
        from chalicelib.domain.captions import caption_style

        return caption_style(
            self.preset, words_per_line=self.wordsPerLine, position=self.position, uppercase=self.uppercase,
            font_scale=self.fontScale, primary_rgb=self.primaryColor and self.primaryColor[1:].upper(),
            highlight_rgb=self.highlightColor and self.highlightColor[1:].upper(),
        )


class JobOptions(_Request):
    """What a job was asked for: the submit body without its videoId. It travels in the job's
    state through the state machine and is validated again there (``chalicelib/job.py``)."""

    maxClips: Annotated[int, Field(strict=True, ge=1, le=MAX_CLIPS)] = 3
    minDuration: Seconds = 30
    maxDuration: Seconds = 60
    aspectRatio: AspectRatio = "9:16"
    customInstructions: Annotated[str, Field(max_length=MAX_INSTRUCTIONS_CHARS)] | None = None
    captions: Annotated[bool, Field(strict=True)] = True
    # auto: follow the active speaker (centre without anyone); center: never move; split: the
    # two main speakers stacked top and bottom (9:16 only; auto when there are not two).
    reframe: Literal["auto", "center", "split"] = "auto"
    # "auto" (detect it) or a language code: ISO 639-1, or Whisper's code where ISO 639-1 has
    # none (chalicelib/domain/languages.py). Whether the configured transcriber can do it is
    # checked at submit (services/jobs.py), since that depends on the deployment.
    language: Annotated[str, Field(strict=True, min_length=2, max_length=16)] = languages.AUTO

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        try:
            return languages.normalise(value)
        except languages.UnsupportedLanguage as err:
            raise ValueError(str(err)) from None
    # Render below-720 px sources at the platform size (1080 px wide for 9:16) with lanczos.
    allowUpscale: Annotated[bool, Field(strict=True)] = False
    # Draw the clip's title on its thumbnail.
    thumbnailTitle: Annotated[bool, Field(strict=True)] = False
    # Unset: the highlight preset, as before styles existed (and left out of the options as
    # stored, so a job's options read the same as before). A preset's name alone is accepted
    # (CaptionStyleOptions turns it into {"preset": name}); the schema says both forms.
    captionStyle: Annotated[CaptionStyleOptions | None, WithJsonSchema({
        "anyOf": [{"$ref": "#/components/schemas/CaptionStyleOptions"},
                  {"type": "string", "enum": list(CAPTION_PRESETS)}, {"type": "null"}],
        "default": None,
    })] = Field(default=None, exclude_if=lambda value: value is None)

    @model_validator(mode="after")
    def _durations_ordered(self) -> JobOptions:
        if self.minDuration > self.maxDuration:
            raise ValueError(
                f"minDuration ({self.minDuration:g}) must not exceed maxDuration ({self.maxDuration:g})"
            )
        return self

    @model_validator(mode="after")
    def _split_is_portrait(self) -> JobOptions:
        if self.reframe == "split" and self.aspectRatio != "9:16":
            raise ValueError(
                f"reframe: 'split' stacks two speakers in a 9:16 frame; with aspectRatio {self.aspectRatio} "
                "use 'auto' or 'center'"
            )
        return self


class SubmitJob(JobOptions):
    videoId: Id

    def options(self) -> JobOptions:
        return JobOptions.model_validate(self.model_dump(exclude={"videoId"}))


def checked_id(field: str, value: str) -> str:
    """``value`` if it is an id the API would accept in ``field``, else BadRequest naming it.
    Ids made outside a request (the operator CLI, the local stack's seeded workspace) go
    through the same rule, so no key is ever bound to an account the API then rejects."""
    try:
        return TypeAdapter(Id).validate_python(value)
    except ValidationError as err:
        raise BadRequest(f"{field}: {err.errors()[0]['msg']}") from None


def describe_validation_error(err: ValidationError) -> str:
    """One readable sentence per problem, each naming the field."""
    parts = []
    for item in err.errors()[:5]:
        field = ".".join(str(p) for p in item["loc"]) or "body"
        if item["type"] == "extra_forbidden":
            parts.append(f"{field}: unknown field")
        elif item["type"] == "missing":
            parts.append(f"{field}: is required")
        elif not item["loc"]:
            parts.append(item["msg"].removeprefix("Value error, "))
        else:
            parts.append(f"{field}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def parse(model: type[BaseModel], data: object):
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise BadRequest(describe_validation_error(err)) from None


# Response bodies ---------------------------------------------------------------------------------
# Optional parts that are absent rather than null (an error only on what failed, progress only
# once clips are known) are dropped from the JSON when unset.

def _absent_when_none(default: Any = None) -> Any:
    return Field(default=default, exclude_if=lambda value: value is None)


class View(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Failure(View):
    code: str
    message: str


class ErrorBody(View):
    error: Literal["bad_request", "unauthorized", "not_found", "conflict", "server_error"]
    message: str


class ProjectView(View):
    id: str
    name: str
    slug: str
    accountId: str
    createdAt: str


VideoStatus = Literal["uploading", "uploaded", "processing", "ready", "failed"]
ClipStatus = Literal["draft", "ready", "failed"]


class VideoView(View):
    id: str
    title: str
    status: VideoStatus
    accountId: str
    projectId: str
    filename: str | None = None
    createdAt: str
    updatedAt: str | None = None
    durationSeconds: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    hasAudio: bool | None = None
    container: str | None = None
    sizeBytes: int | None = None
    currentCallId: str | None = None
    # The source's preparation (audio, loudness, transcript), started when its upload was
    # accepted: a submit while it is pending waits for it, one after it is ready reuses it, and
    # a failed one is redone by the job. Null when none was started (KLYPH_PREPARE_ON_UPLOAD off,
    # or a video uploaded before). The video stays submittable whatever it says.
    preparation: Literal["pending", "ready", "failed"] | None = None
    error: Failure | None = _absent_when_none()


class ProjectList(View):
    """A page of list-projects, newest first; ``cursor`` fetches the next page, null on the last."""

    projects: list[ProjectView]
    cursor: str | None


class VideoList(View):
    """A page of list-videos, newest first; ``cursor`` fetches the next page, null on the last."""

    videos: list[VideoView]
    cursor: str | None


class VideoDeleted(View):
    videoId: str
    deleted: Literal[True]


class ProjectDeleted(View):
    projectId: str
    deleted: Literal[True]


class UploadTicket(View):
    videoId: str
    uploadUrl: str
    method: Literal["PUT"]
    headers: dict[str, str]
    expiresAt: str
    video: VideoView


class Submitted(View):
    callId: str
    status: Literal["running"]
    alreadyRunning: bool | None = _absent_when_none()


class ClipView(View):
    """The seed's clip fields (snake_case, as the seed writes them) and what Klyph adds."""

    id: str
    title: str
    start_seconds: float
    end_seconds: float
    aspect_ratio: Literal["9:16", "1:1", "16:9"]
    status: ClipStatus
    preview_url: str | None  # signed for an hour; only on a ready clip
    score: float | None = None
    reason: str | None = None
    description: str | None = None
    hashtags: list[str] = Field(default_factory=list)  # 3-5 from the clip's distinctive words, or none
    thumbnail_url: str | None = None
    captions_srt_url: str | None = None
    captions_vtt_url: str | None = None
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    # Below the 720 px platforms expect on its short side (the call's notes say why and what to do);
    # known from the source's size before the clip is rendered, from the clip's own size after.
    low_resolution: bool | None = Field(
        default=None, description="True when the clip is below 720 px on its short side (the call's notes say "
        "why; submit with allowUpscale: true to render at 1080 px); null when the source's size is unknown.")
    # How the clip was framed: auto (following the speaker), center, or split (two stacked).
    layout: Literal["auto", "center", "split"] | None = None
    call_id: str
    language: str | None = None  # the language of the clip's speech (given or detected); null without speech
    error: Failure | None = _absent_when_none()
    version: int = 1  # the version shown: 1 as first rendered, +1 for each update-clip or update-transcript
    pending_version: int | None = _absent_when_none()  # a newer version while it renders


class ClipUpdated(View):
    """update-clip and update-transcript: the version being rendered; poll process-video-result
    with ``callId``."""

    clipId: str
    version: int
    callId: str


class TranscriptWord(View):
    index: int  # the word's place in the video's transcript: what update-transcript names
    text: str
    start: float  # seconds in the source, like the clip's start_seconds
    end: float
    confidence: float


class ClipTranscript(View):
    clipId: str
    version: int
    language: str | None
    words: list[TranscriptWord]


class ClipList(View):
    clips: list[ClipView]


class Progress(View):
    clipsDone: int
    clipsTotal: int


class JobRunning(View):
    """202 from process-video-result."""

    callId: str
    videoId: str
    status: Literal["running"]
    stage: str
    progress: Progress | None = _absent_when_none()
    language: str | None = _absent_when_none()  # once given or detected


class JobFinished(View):
    """200 from process-video-result: clips when it succeeded, the error when it failed."""

    callId: str
    videoId: str
    status: Literal["succeeded", "failed"]
    clips: list[ClipView] | None = _absent_when_none()
    error: Failure | None = _absent_when_none()
    # Short sentences about the result: why fewer clips than maxClips (or none), what was not found.
    notes: list[str] = Field(default_factory=list)
    createdAt: str
    finishedAt: str | None = None
    stages: dict[str, str]
    # The language used: the one the job asked for, or the one detected ("auto"); null when the
    # video has no speech or the job failed before transcription.
    language: str | None = None


class SummaryVideo(View):
    id: str
    title: str
    status: VideoStatus
    language: str | None = _absent_when_none()  # the latest job's language, once known (as its result has it)
    error: Failure | None = _absent_when_none()


class ClipCounts(View):
    total: int
    ready: int
    draft: int
    failed: int


class VideoSummary(View):
    video: SummaryVideo
    counts: ClipCounts


class AccountView(View):
    """get-account: the workspace an API key belongs to."""
    accountId: str
    name: str


class Health(View):
    status: Literal["ok"]


# Webhooks (services/webhooks.py) ---------------------------------------------------------------
WebhookEvent = Literal["job.succeeded", "job.failed", "clip.ready"]
WEBHOOK_EVENTS: tuple[str, ...] = ("job.succeeded", "job.failed", "clip.ready")


class CreateWebhook(_Request):
    accountId: Id
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    # All events when left out.
    events: Annotated[list[Annotated[str, Field(json_schema_extra={"enum": list(WEBHOOK_EVENTS)})]],
                      Field(min_length=1, max_length=len(WEBHOOK_EVENTS))] | None = None

    @model_validator(mode="after")
    def _known_events(self) -> CreateWebhook:
        unknown = [e for e in self.events or () if e not in WEBHOOK_EVENTS]
        if unknown:
            raise ValueError(f"events: unknown event {unknown[0]!r}; known: {', '.join(WEBHOOK_EVENTS)}")
        return self


class ListWebhooks(_Query):
    accountId: Id


class DeleteWebhook(_Request):
    id: Id


class ListWebhookDeliveries(_Query):
    webhookId: Id
    cursor: Cursor | None = None
    limit: PageLimit = 50


class WebhookView(View):
    id: str
    url: str
    events: list[WebhookEvent]
    accountId: str
    createdAt: str


class WebhookCreated(WebhookView):
    """create-webhook's answer: the only one that shows the signing secret."""

    secret: str


class WebhookList(View):
    webhooks: list[WebhookView]


class WebhookDeleted(View):
    id: str
    deleted: Literal[True]


class DeliveryAttempt(View):
    at: str
    statusCode: int | None = _absent_when_none()  # the receiver's answer; absent when none came
    error: str | None = _absent_when_none()  # why the attempt failed without (or despite) an answer
    seconds: float


class DeliveryView(View):
    """One event sent (or being sent) to one webhook, with every attempt so far."""

    id: str  # also the webhook-id header: the same on every attempt
    webhookId: str
    type: WebhookEvent
    status: Literal["pending", "delivered", "failed"]
    createdAt: str
    attempts: list[DeliveryAttempt]
    nextAttemptAt: str | None = _absent_when_none()
    event: dict[str, Any]  # the body every attempt sends


class DeliveryList(View):
    deliveries: list[DeliveryView]
    cursor: str | None


class WebhookClip(View):
    id: str
    title: str
    start_seconds: float
    end_seconds: float
    status: ClipStatus
    score: float | None = None
    reason: str | None = None


class JobSucceededData(View):
    callId: str
    videoId: str
    status: Literal["succeeded"]
    clips: list[WebhookClip]  # no links: signed ones would expire while retries go on; call list-clips
    finishedAt: str


class JobFailedData(View):
    callId: str
    videoId: str
    status: Literal["failed"]
    error: Failure
    stage: str


class ClipReadyData(View):
    callId: str
    videoId: str
    clip: WebhookClip


class JobSucceededEvent(View):
    type: Literal["job.succeeded"]
    timestamp: str
    data: JobSucceededData


class JobFailedEvent(View):
    type: Literal["job.failed"]
    timestamp: str
    data: JobFailedData


class ClipReadyEvent(View):
    type: Literal["clip.ready"]
    timestamp: str
    data: ClipReadyData
