"""The OpenAPI 3.1 description of the Klyph API, served at ``/api/openapi.json``.

Request and response bodies come from the pydantic models the routes validate
with and answer with (``chalicelib/models.py``), so the description cannot drift
from the API; the fuzz test checks real answers against it.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib import models
from chalicelib.domain.timeline import CONTENT_TYPES, FORMATS

REQUESTS = (models.CreateProject, models.CreateUpload, models.SubmitJob, models.DeleteVideo, models.DeleteProject,
            models.CaptionStyleOptions, models.UpdateClip, models.UpdateTranscript)
RESPONSES = (models.ErrorBody, models.ProjectView, models.VideoView, models.UploadTicket, models.Submitted,
             models.JobRunning, models.JobFinished, models.ClipList, models.VideoSummary, models.Health,
             models.ProjectList, models.VideoList, models.VideoDeleted, models.ProjectDeleted, models.AccountView,
             models.ClipUpdated, models.ClipTranscript)
# Webhooks: the routes' bodies, and each event's body (the document's ``webhooks`` section).
WEBHOOK_REQUESTS = (models.CreateWebhook, models.DeleteWebhook)
EVENTS: dict[str, type[models.View]] = {"job.succeeded": models.JobSucceededEvent, "job.failed": models.JobFailedEvent,
          "clip.ready": models.ClipReadyEvent}
WEBHOOK_RESPONSES: tuple[type[models.View], ...] = (
    models.WebhookCreated, models.WebhookList, models.WebhookDeleted, models.DeliveryList, *EVENTS.values())


def _schemas() -> dict[str, Any]:
    """Every model's JSON Schema under components/schemas: requests as validated, responses
    as serialised (fields dropped when unset are not required)."""
    from pydantic import BaseModel
    from pydantic.json_schema import JsonSchemaMode, models_json_schema

    pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *[(m, "validation") for m in REQUESTS], *[(m, "serialization") for m in RESPONSES],
        *[(m, "validation") for m in WEBHOOK_REQUESTS], *[(m, "serialization") for m in WEBHOOK_RESPONSES],
    ]
    _, top = models_json_schema(pairs, ref_template="#/components/schemas/{model}")
    return top["$defs"]


def _ref(model: type) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(ok: type, *codes: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    described = {"400": "missing or invalid fields", "401": "missing or invalid API key",
                 "404": "not found (or another workspace's)", "409": "an Idempotency-Key request still running"}
    out: dict[str, Any] = {"200": {"description": "OK", **_json(_ref(ok))}, **(extra or {})}
    for code in codes:
        out[str(code)] = {"description": described[str(code)], **_json(_ref(models.ErrorBody))}
    return out


def _body(model: type) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


def _query(name: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "required": True, "schema": {"type": "string", "minLength": 1}}]


def _page_query(owner: str) -> list[dict[str, Any]]:
    """A listing's parameters: its owner's id, and the page (``cursor`` from the previous page)."""
    return [*_query(owner),
            {"name": "cursor", "in": "query", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 1024}},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}]


EXPORT_FORMAT = {"name": "format", "in": "query", "required": True,
                 "schema": {"type": "string", "enum": list(FORMATS)}}
EXPORT_DESCRIPTION = (
    "The file itself (Content-Disposition names it): fcpxml (Final Cut Pro, DaVinci Resolve), otio "
    "(OpenTimelineIO JSON) or edl (CMX 3600) referencing the source by its original file name with the "
    "clip's in and out points on its timecode, or the captions as srt or vtt on the timeline's clock."
)


def _file_responses(conflict: str) -> dict[str, Any]:
    text = {"schema": {"type": "string"}}
    out: dict[str, Any] = {"200": {
        "description": "the file",
        "headers": {"Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename=..."}},
        "content": {content_type.split(";")[0]: text for content_type in CONTENT_TYPES.values()},
    }}
    for code, description in (("400", "missing or invalid parameters"), ("401", "missing or invalid API key"),
                              ("404", "not found (or another workspace's)"), ("409", conflict)):
        out[code] = {"description": description, **_json(_ref(models.ErrorBody))}
    return out


IDEMPOTENCY_HEADER = {"name": "Idempotency-Key", "in": "header", "required": False,
                      "schema": {"type": "string", "minLength": 1, "maxLength": 255}}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    upload_form = {
        "type": "object",
        "required": ["file", "account_id", "project_id"],
        "properties": {"file": {"type": "string", "format": "binary"}, "account_id": {"type": "string"},
                       "project_id": {"type": "string"}, "title": {"type": "string"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Klyph REST API", "version": "1.0.0",
                 "description": "Upload videos, generate short clips, list them. See README.md."},
        "servers": [{"url": "/api"}],
        "security": [{"bearer": []}, {"apiKey": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
            "schemas": _schemas(),
        },
        "paths": {
            "/dev/get-account": {"get": {"operationId": "getAccount",
                                         "description": "The workspace the API key belongs to: its accountId.",
                                         "responses": _responses(models.AccountView, 401)}},
            "/dev/create-project": {"post": {
                "operationId": "createProject", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": _body(models.CreateProject),
                "responses": _responses(models.ProjectView, 400, 401, 404, 409)}},
            "/dev/list-projects": {"get": {"operationId": "listProjects", "parameters": _page_query("accountId"),
                                           "responses": _responses(models.ProjectList, 400, 401, 404)}},
            "/dev/delete-project": {"post": {
                "operationId": "deleteProject", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": _body(models.DeleteProject),
                "responses": _responses(models.ProjectDeleted, 400, 401, 404, 409)}},
            "/dev/upload-video": {"post": {
                "operationId": "uploadVideo", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": upload_form}}},
                "responses": _responses(models.VideoView, 400, 401, 404, 409)}},
            "/dev/create-upload": {"post": {
                "operationId": "createUpload", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": _body(models.CreateUpload),
                "responses": _responses(models.UploadTicket, 400, 401, 404, 409)}},
            "/dev/list-videos": {"get": {"operationId": "listVideos", "parameters": _page_query("projectId"),
                                         "responses": _responses(models.VideoList, 400, 401, 404)}},
            "/dev/delete-video": {"post": {
                "operationId": "deleteVideo", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": _body(models.DeleteVideo),
                "responses": _responses(models.VideoDeleted, 400, 401, 404, 409)}},
            "/dev/process-video-submit": {"post": {
                "operationId": "submitJob", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": _body(models.SubmitJob), "responses": _responses(models.Submitted, 400, 401, 404, 409)}},
            "/dev/process-video-result": {"get": {
                "operationId": "jobResult", "parameters": _query("callId"),
                "responses": _responses(
                    models.JobFinished, 400, 401, 404,
                    extra={"202": {"description": "still running", **_json(_ref(models.JobRunning))}})}},
            "/dev/list-clips": {"get": {"operationId": "listClips", "parameters": _query("videoId"),
                                        "responses": _responses(models.ClipList, 400, 401, 404)}},
            "/dev/video-summary": {"get": {"operationId": "videoSummary", "parameters": _query("videoId"),
                                           "responses": _responses(models.VideoSummary, 400, 401, 404)}},
            "/dev/update-clip": {"post": {
                "operationId": "updateClip", "parameters": [IDEMPOTENCY_HEADER],
                "description": "Renders the clip again as a new version: boundaries snapped to words (either way, "
                               "anywhere in the source, 5-180 s), title, description, caption style. Poll "
                               "process-video-result with the answer's callId; list-clips shows the latest ready "
                               "version and pending_version meanwhile.",
                "requestBody": _body(models.UpdateClip),
                "responses": _responses(models.ClipUpdated, 400, 401, 404, 409)}},
            "/dev/clip-transcript": {"get": {
                "operationId": "clipTranscript", "parameters": _query("clipId"),
                "description": "The clip's words from the video's transcript (corrections included), with the "
                               "index update-transcript names them by and their times in the source.",
                "responses": _responses(models.ClipTranscript, 400, 401, 404)}},
            "/dev/update-transcript": {"post": {
                "operationId": "updateTranscript", "parameters": [IDEMPOTENCY_HEADER],
                "description": "Replaces misheard words inside the clip (timings kept) in the video's transcript, "
                               "so later clips of the video show them too, and renders the clip's captions and "
                               "sidecars again as a new version (poll its callId).",
                "requestBody": _body(models.UpdateTranscript),
                "responses": _responses(models.ClipUpdated, 400, 401, 404, 409)}},
            "/dev/export-clip": {"get": {
                "operationId": "exportClip", "parameters": [*_query("clipId"), EXPORT_FORMAT],
                "description": EXPORT_DESCRIPTION, "responses": _file_responses("the clip is not ready")}},
            "/dev/export-video": {"get": {
                "operationId": "exportVideo", "parameters": [*_query("videoId"), EXPORT_FORMAT],
                "description": "Every ready clip of the video's latest job on one timeline, in their order. "
                               + EXPORT_DESCRIPTION,
                "responses": _file_responses("the video's latest job has no ready clip")}},
            "/dev/create-webhook": {"post": {
                "operationId": "createWebhook", "parameters": [IDEMPOTENCY_HEADER],
                "description": "The answer is the only one that shows the signing secret.",
                "requestBody": _body(models.CreateWebhook),
                "responses": _responses(models.WebhookCreated, 400, 401, 404, 409)}},
            "/dev/list-webhooks": {"get": {"operationId": "listWebhooks", "parameters": _query("accountId"),
                                           "responses": _responses(models.WebhookList, 400, 401, 404)}},
            "/dev/delete-webhook": {"post": {
                "operationId": "deleteWebhook", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": _body(models.DeleteWebhook),
                "responses": _responses(models.WebhookDeleted, 400, 401, 404, 409)}},
            "/dev/list-webhook-deliveries": {"get": {
                "operationId": "listWebhookDeliveries", "parameters": _page_query("webhookId"),
                "responses": _responses(models.DeliveryList, 400, 401, 404)}},
            "/health": {"get": {"operationId": "health", "security": [],
                                "responses": {"200": {"description": "OK", **_json(_ref(models.Health))},
                                              "503": {"description": "a store does not answer",
                                                      **_json(_ref(models.ErrorBody))}}}},
        },
        "webhooks": {name: _event(name, model) for name, model in EVENTS.items()},
    }


WEBHOOK_HEADERS = {
    "webhook-id": "the delivery id (dlv_...): the same on every attempt, so receivers can drop repeats",
    "webhook-timestamp": "this attempt's time, Unix seconds",
    "webhook-signature": "v1,<base64 HMAC-SHA256 of '{webhook-id}.{webhook-timestamp}.{body}'> (Standard Webhooks)",
}


def _event(name: str, model: type) -> dict[str, Any]:
    """A webhook as OpenAPI 3.1 describes one: the POST Klyph sends to the receiver."""
    return {"post": {
        "operationId": "webhook" + "".join(part.capitalize() for part in name.split(".")),
        "summary": f"{name}, sent to each webhook subscribed to it",
        "parameters": [{"name": header, "in": "header", "required": True, "description": text,
                        "schema": {"type": "string"}} for header, text in WEBHOOK_HEADERS.items()],
        "requestBody": _body(model),
        "responses": {"2XX": {"description": "delivered (within 10 s); anything else is retried with backoff"}},
    }}
