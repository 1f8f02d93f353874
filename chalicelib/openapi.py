"""The OpenAPI 3.1 description of the Klyph API, served at ``/api/openapi.json``.

Request bodies come from the same pydantic models the routes validate with, so
the description cannot drift from what the API accepts; responses are written
out here and checked against real answers by the fuzz test.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib import models

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "enum": ["bad_request", "unauthorized", "not_found", "conflict", "server_error"]},
        "message": {"type": "string"},
    },
}
NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_STRING = {"type": ["string", "null"]}
PROJECT = {
    "type": "object",
    "required": ["id", "name", "slug", "accountId", "createdAt"],
    "properties": {k: {"type": "string"} for k in ("id", "name", "slug", "accountId", "createdAt")},
}
VIDEO = {
    "type": "object",
    "required": ["id", "title", "status", "accountId", "projectId", "createdAt"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "string", "enum": ["uploading", "uploaded", "processing", "ready", "failed"]},
        "accountId": {"type": "string"},
        "projectId": {"type": "string"},
        "createdAt": {"type": "string"},
        "durationSeconds": NULLABLE_NUMBER,
        "width": {"type": ["integer", "null"]},
        "height": {"type": ["integer", "null"]},
        "fps": NULLABLE_NUMBER,
        "hasAudio": {"type": ["boolean", "null"]},
        "container": NULLABLE_STRING,
        "sizeBytes": {"type": ["integer", "null"]},
    },
}
CLIP = {
    "type": "object",
    "required": ["id", "title", "start_seconds", "end_seconds", "aspect_ratio", "status", "preview_url"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "start_seconds": {"type": "number"},
        "end_seconds": {"type": "number"},
        "aspect_ratio": {"type": "string", "enum": ["9:16", "1:1", "16:9"]},
        "status": {"type": "string", "enum": ["draft", "ready", "failed"]},
        "preview_url": NULLABLE_STRING,
        "score": NULLABLE_NUMBER,
        "reason": NULLABLE_STRING,
        "description": NULLABLE_STRING,
        "thumbnail_url": NULLABLE_STRING,
        "captions_srt_url": NULLABLE_STRING,
        "captions_vtt_url": NULLABLE_STRING,
    },
}
CLIPS = {"type": "object", "required": ["clips"], "properties": {"clips": {"type": "array", "items": CLIP}}}
SUMMARY = {
    "type": "object",
    "required": ["video", "counts"],
    "properties": {
        "video": {"type": "object", "required": ["id", "title", "status"],
                  "properties": {k: {"type": "string"} for k in ("id", "title", "status")}},
        "counts": {"type": "object", "required": ["total", "ready", "draft", "failed"],
                   "properties": {k: {"type": "integer", "minimum": 0} for k in ("total", "ready", "draft", "failed")}},
    },
}
UPLOAD_TICKET = {
    "type": "object",
    "required": ["videoId", "uploadUrl", "method", "headers", "expiresAt"],
    "properties": {"videoId": {"type": "string"}, "uploadUrl": {"type": "string"}, "method": {"const": "PUT"},
                   "headers": {"type": "object"}, "expiresAt": {"type": "string"}},
}
SUBMITTED = {
    "type": "object",
    "required": ["callId", "status"],
    "properties": {"callId": {"type": "string"}, "status": {"const": "running"}, "alreadyRunning": {"type": "boolean"}},
}
RUNNING = {
    "type": "object",
    "required": ["callId", "status", "stage"],
    "properties": {"callId": {"type": "string"}, "status": {"const": "running"}, "stage": {"type": "string"}},
}
FINISHED = {
    "type": "object",
    "required": ["callId", "status"],
    "properties": {
        "callId": {"type": "string"},
        "status": {"type": "string", "enum": ["succeeded", "failed"]},
        "clips": {"type": "array", "items": CLIP},
        "error": {"type": "object", "required": ["code", "message"]},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(ok: dict[str, Any], *codes: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    described = {"400": "missing or invalid fields", "401": "missing or invalid API key",
                 "404": "not found (or another workspace's)", "409": "an Idempotency-Key request still running"}
    out: dict[str, Any] = {"200": {"description": "OK", **_json(ok)}, **(extra or {})}
    for code in codes:
        out[str(code)] = {"description": described[str(code)], **_json(ERROR)}
    return out


def _body(model: type) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _query(name: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "required": True, "schema": {"type": "string", "minLength": 1}}]


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
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        }},
        "paths": {
            "/dev/create-project": {"post": {
                "operationId": "createProject", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": _body(models.CreateProject), "responses": _responses(PROJECT, 400, 401, 404, 409)}},
            "/dev/upload-video": {"post": {
                "operationId": "uploadVideo", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": upload_form}}},
                "responses": _responses(VIDEO, 400, 401, 404, 409)}},
            "/dev/create-upload": {"post": {
                "operationId": "createUpload", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": _body(models.CreateUpload), "responses": _responses(UPLOAD_TICKET, 400, 401, 404, 409)}},
            "/dev/process-video-submit": {"post": {
                "operationId": "submitJob", "parameters": [IDEMPOTENCY_HEADER],
                "requestBody": _body(models.SubmitJob), "responses": _responses(SUBMITTED, 400, 401, 404, 409)}},
            "/dev/process-video-result": {"get": {
                "operationId": "jobResult", "parameters": _query("callId"),
                "responses": _responses(FINISHED, 400, 401, 404,
                                        extra={"202": {"description": "still running", **_json(RUNNING)}})}},
            "/dev/list-clips": {"get": {"operationId": "listClips", "parameters": _query("videoId"),
                                        "responses": _responses(CLIPS, 400, 401, 404)}},
            "/dev/video-summary": {"get": {"operationId": "videoSummary", "parameters": _query("videoId"),
                                           "responses": _responses(SUMMARY, 400, 401, 404)}},
            "/health": {"get": {"operationId": "health", "security": [],
                                "responses": {"200": {"description": "OK", **_json({"type": "object"})},
                                              "503": {"description": "a store does not answer", **_json(ERROR)}}}},
        },
    }
