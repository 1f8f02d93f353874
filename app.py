"""Klyph's Chalice app: HTTP routes, the S3 upload trigger and the pipeline's task functions.

Only wiring lives here; each handler parses, calls a service and maps the result.
"""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response
from chalice.app import Request

from chalicelib import models, observability
from chalicelib.domain.multipart import parse_multipart
from chalicelib.errors import RETRY_LATER, BadRequest, KlyphError, error_body
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.services import (
    auth,
    edits,
    exports,
    idempotency,
    jobs,
    pipeline,
    projects,
    videos,
    webapp,
    webhooks,
    wiring,
)

# On Lambda the Powertools logger (service "klyph", the same logger as app.log) writes JSON lines.
app = Chalice(app_name="klyph", configure_logs=not observability.IN_LAMBDA)
app.api.binary_types.append("multipart/form-data")
app.log.setLevel(logging.INFO)

JSON_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


def error_response(status: int, message: str) -> Response:
    return Response(status_code=status, body=error_body(status, message))


def current_request() -> Request:
    """The request a route is handling (Chalice sets it before calling the view)."""
    request = app.current_request
    assert request is not None, "called outside a route"
    return request


def raw_body(request: Request) -> bytes:
    """The body as bytes: Chalice has already decoded base64 and encoded text, though it types
    the property ``str | bytes``."""
    body = request.raw_body
    return body.encode() if isinstance(body, str) else body


@app.middleware("http")
def uniform_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every error leaves as {"error", "message"}: Chalice's own bodies and crashes included."""
    try:
        response = get_response(event)
    except Exception:
        app.log.exception("unhandled error")
        return error_response(500, RETRY_LATER)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        status = response.status_code
        if status >= 500:
            return error_response(500, RETRY_LATER)
        if status in (413, 415):
            # Our contract answers bad input with 400; the message says what was wrong.
            return error_response(400, f"Content-Type: {body.get('Message')}")
        return error_response(status, str(body.get("Message")))
    return response


@app.middleware("http")
def request_log_keys(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Each request's log lines carry its route (and, once authenticated, the caller's account)."""
    logger.clear_state()
    logger.append_keys(path=event.path, method=event.method, requestId=event.context.get("requestId"),
                       function_request_id=getattr(event.lambda_context, "aws_request_id", None))
    return get_response(event)


def api(authenticated: bool = True, idempotent: bool = False, sealed: tuple[Callable, Callable] | None = None):
    """Run a view with the caller's account id, turning KlyphErrors into their status and body.

    ``idempotent`` routes honour an ``Idempotency-Key`` header (see services/idempotency.py);
    ``sealed`` (conceal, reveal) keeps a secret in their stored answer sealed.
    """

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def handler(*args: Any) -> Response:
            request = current_request()
            try:
                if not authenticated:
                    return _as_response(view(*args))
                caller = auth.authenticate(request.headers)
                logger.append_keys(accountId=caller)
                key = idempotency.key_from_headers(request.headers) if idempotent else None
                if key is None:
                    return _as_response(view(caller, *args))

                def run_view() -> tuple[int, Any]:
                    response = _as_response(view(caller, *args))
                    return response.status_code, response.body

                status, body, replayed = idempotency.run_once(
                    caller, view.__name__, key, raw_body(request), run_view, sealed=sealed
                )
                return Response(status_code=status, body=body,
                                headers={"Idempotent-Replayed": "true"} if replayed else {})
            except KlyphError as err:
                return error_response(err.status, err.message)

        return handler

    return wrap


def _as_response(result: Any) -> Response:
    if isinstance(result, Response):
        return result
    return Response(status_code=200, body=result.body() if isinstance(result, models.View) else result)


def json_body() -> Any:
    raw = raw_body(current_request())
    if not raw:
        raise BadRequest("request body is empty: send a JSON object")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("request body is not valid JSON (or nested too deeply)") from None


def query_params() -> dict[str, str]:
    params = current_request().query_params
    return {name: params[name] for name in params} if params else {}


def query_param(name: str) -> str:
    params = current_request().query_params
    value = params.get(name) if params else None
    if not value:
        raise BadRequest(f"{name}: query parameter is required")
    return value


@app.route("/dev/get-account", methods=["GET"])
@api()
def get_account(caller: str) -> models.AccountView:
    return auth.describe_account(caller)


@app.route("/dev/create-project", methods=["POST"], content_types=JSON_TYPES)
@api(idempotent=True)
def create_project(caller: str) -> models.ProjectView:
    return projects.create_project(caller, models.parse(models.CreateProject, json_body()))


@app.route("/dev/list-projects", methods=["GET"])
@api()
def list_projects(caller: str) -> models.ProjectList:
    return projects.list_projects(caller, models.parse(models.ListProjects, query_params()))


@app.route("/dev/delete-project", methods=["POST"], content_types=JSON_TYPES)
@api(idempotent=True)
def delete_project(caller: str) -> models.ProjectDeleted:
    return projects.delete_project(caller, models.parse(models.DeleteProject, json_body()))


@app.route("/dev/upload-video", methods=["POST"], content_types=["multipart/form-data"])
@api(idempotent=True)
def upload_video(caller: str) -> models.VideoView:
    request = current_request()
    form = parse_multipart(request.headers.get("content-type", ""), raw_body(request))
    if "file" not in form.files:
        raise BadRequest("file: a file field is required (curl -F 'file=@video.mp4')")
    filename, data = form.files["file"]
    fields = models.parse(models.UploadForm, form.fields)
    return videos.upload_multipart(caller, fields, filename, data)


@app.route("/dev/create-upload", methods=["POST"], content_types=JSON_TYPES)
@api(idempotent=True)
def create_upload(caller: str) -> models.UploadTicket:
    return videos.create_upload(caller, models.parse(models.CreateUpload, json_body()))


@app.route("/dev/list-videos", methods=["GET"])
@api()
def list_videos(caller: str) -> models.VideoList:
    return videos.list_videos(caller, models.parse(models.ListVideos, query_params()))


@app.route("/dev/delete-video", methods=["POST"], content_types=JSON_TYPES)
@api(idempotent=True)
def delete_video(caller: str) -> models.VideoDeleted:
    return videos.delete_video(caller, models.parse(models.DeleteVideo, json_body()))


@app.route("/dev/process-video-submit", methods=["POST"], content_types=JSON_TYPES)
@api(idempotent=True)
def process_video_submit(caller: str) -> models.Submitted:
    return jobs.submit(caller, models.parse(models.SubmitJob, json_body()))


@app.route("/dev/process-video-result", methods=["GET"])
@api()
def process_video_result(caller: str) -> Response:
    status, body = jobs.result(caller, query_param("callId"))
    return Response(status_code=status, body=body.body())


@app.route("/dev/list-clips", methods=["GET"])
@api()
def list_clips(caller: str) -> models.ClipList:
    return jobs.list_clips(caller, query_param("videoId"))


@app.route("/dev/video-summary", methods=["GET"])
@api()
def video_summary(caller: str) -> models.VideoSummary:
    return jobs.summary(caller, query_param("videoId"))


@app.route("/dev/update-clip", methods=["POST"], content_types=JSON_TYPES)
@api(idempotent=True)
def update_clip(caller: str) -> models.ClipUpdated:
    return edits.update_clip(caller, models.parse(models.UpdateClip, json_body()))


@app.route("/dev/clip-transcript", methods=["GET"])
@api()
def clip_transcript(caller: str) -> models.ClipTranscript:
    return edits.clip_transcript(caller, models.parse(models.ClipTranscriptQuery, query_params()))


@app.route("/dev/update-transcript", methods=["POST"], content_types=JSON_TYPES)
@api(idempotent=True)
def update_transcript(caller: str) -> models.ClipUpdated:
    return edits.update_transcript(caller, models.parse(models.UpdateTranscript, json_body()))


@app.route("/dev/export-clip", methods=["GET"])
@api()
def export_clip(caller: str) -> Response:
    return _file(exports.export_clip(caller, models.parse(models.ExportClip, query_params())))


@app.route("/dev/export-video", methods=["GET"])
@api()
def export_video(caller: str) -> Response:
    return _file(exports.export_video(caller, models.parse(models.ExportVideo, query_params())))


def _file(file: exports.ExportFile) -> Response:
    """The file itself, named for a browser's or curl -OJ's download."""
    return Response(status_code=200, body=file.text, headers={
        "Content-Type": file.content_type, "Content-Disposition": f'attachment; filename="{file.filename}"'})


@app.route("/dev/create-webhook", methods=["POST"], content_types=JSON_TYPES)
@api(idempotent=True, sealed=(webhooks.conceal_secret, webhooks.reveal_secret))
def create_webhook(caller: str) -> models.WebhookCreated:
    return webhooks.create_webhook(caller, models.parse(models.CreateWebhook, json_body()))


@app.route("/dev/list-webhooks", methods=["GET"])
@api()
def list_webhooks(caller: str) -> models.WebhookList:
    return webhooks.list_webhooks(caller, models.parse(models.ListWebhooks, query_params()))


@app.route("/dev/delete-webhook", methods=["POST"], content_types=JSON_TYPES)
@api(idempotent=True)
def delete_webhook(caller: str) -> models.WebhookDeleted:
    return webhooks.delete_webhook(caller, models.parse(models.DeleteWebhook, json_body()))


@app.route("/dev/list-webhook-deliveries", methods=["GET"])
@api()
def list_webhook_deliveries(caller: str) -> models.DeliveryList:
    return webhooks.list_deliveries(caller, models.parse(models.ListWebhookDeliveries, query_params()))


@app.route("/health", methods=["GET"])
@api(authenticated=False)
def health() -> Response:
    try:
        wiring.records().ping()
        wiring.blobs().ping()
    except Exception:
        app.log.exception("health check failed")
        return error_response(503, "a backing store does not answer")
    return Response(status_code=200, body=models.Health(status="ok").body())


@app.route("/openapi.json", methods=["GET"])
@api(authenticated=False)
def openapi_document() -> dict:
    from chalicelib.openapi import document

    return document()


@app.route("/app", methods=["GET"])
def web_app_page() -> Response:
    return web_asset("index.html")


@app.route("/app/{name}", methods=["GET"])
def web_app_asset(name: str) -> Response:
    """The dashboard's scripts and styles (services/webapp.py); the page itself is /app."""
    return web_asset(name)


def web_asset(name: str) -> Response:
    found = webapp.asset_response(name, current_request().headers.get("if-none-match"))
    if found is None:
        return error_response(404, f"no asset {name!r} in the dashboard")
    status, body, headers = found
    return Response(status_code=status, body=body, headers=headers)


# S3 ObjectCreated on the media bucket (wired in infra/ and by the local stack).
@app.lambda_function(name="upload_trigger")
@observability.task
def upload_trigger(event: dict, context: Any) -> dict:
    """Probe each new source. Bad media marks its video failed and is not an error; anything
    else (a DynamoDB or S3 hiccup) raises so that Lambda retries the event twice and then
    hands it to the on-failure destination an operator can redrive (README runbook)."""
    results, errors = [], []
    for record in event.get("Records", []):
        s3 = record.get("s3", {})
        try:
            obj = s3["object"]
            results.append(videos.handle_uploaded_object(s3["bucket"]["name"], obj["key"], obj.get("versionId")))
        except Exception as exc:
            app.log.exception("upload trigger failed for %s", s3.get("object", {}).get("key"))
            errors.append(exc)
    if errors:
        raise errors[0]
    return {"results": results}


# Pipeline tasks: the state machine's Task states call these by name.
@app.lambda_function(name="pipeline_prepare")
@observability.task
def pipeline_prepare(event: dict, context: Any) -> dict:
    return pipeline.prepare(event)


@app.lambda_function(name="pipeline_transcribe_start")
@observability.task
def pipeline_transcribe_start(event: dict, context: Any) -> dict:
    return pipeline.transcribe_start(event)


@app.lambda_function(name="pipeline_transcribe_check")
@observability.task
@observability.publishes_metrics
def pipeline_transcribe_check(event: dict, context: Any) -> dict:
    result = pipeline.transcribe_check(event)
    waited = (result.get("transcription") or {}).get("waitSeconds")
    if waited is not None:  # Amazon Transcribe finished: how long the job waited for it
        metrics.add_metric(name="TranscribeWaitSeconds", unit=MetricUnit.Seconds, value=waited)
    return result


@app.lambda_function(name="pipeline_select")
@observability.task
def pipeline_select(event: dict, context: Any) -> dict:
    return pipeline.select(event)


@app.lambda_function(name="pipeline_reframe")
@observability.task
def pipeline_reframe(event: dict, context: Any) -> dict:
    return pipeline.reframe(event)


@app.lambda_function(name="pipeline_render")
@observability.task
@observability.publishes_metrics
def pipeline_render(event: dict, context: Any) -> dict:
    result = pipeline.render(event)
    metrics.add_metric(name="ClipsRendered", unit=MetricUnit.Count, value=1)
    return result


@app.lambda_function(name="pipeline_clip_failed")
@observability.task
@observability.publishes_metrics
def pipeline_clip_failed(event: dict, context: Any) -> dict:
    result = pipeline.clip_failed(event)
    metrics.add_metric(name="ClipsFailed", unit=MetricUnit.Count, value=1)
    return result


@app.lambda_function(name="pipeline_finalize")
@observability.task
@observability.publishes_metrics
def pipeline_finalize(event: dict, context: Any) -> dict:
    result = pipeline.finalize(event)
    seconds = (event.get("media") or {}).get("durationSeconds") or 0
    metrics.add_metric(name="SecondsProcessed", unit=MetricUnit.Seconds, value=seconds)
    return result


@app.lambda_function(name="pipeline_failed")
@observability.task
@observability.publishes_metrics
def pipeline_failed(event: dict, context: Any) -> dict:
    result = pipeline.failed(event)
    metrics.add_dimension(name="stage", value=result["stage"])
    metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=1)
    return result


@app.lambda_function(name="pipeline_deliver_webhook")
@observability.task
@observability.publishes_metrics
def pipeline_deliver_webhook(event: dict, context: Any) -> dict:
    result = webhooks.deliver(event)
    status = result["delivery"]["status"]  # "cancelled": nothing was sent (webhook deleted)
    if status in ("pending", "failed"):
        metrics.add_metric(name="WebhookAttemptsFailed", unit=MetricUnit.Count, value=1)
    if status == "failed":
        metrics.add_metric(name="WebhookDeliveriesGivenUp", unit=MetricUnit.Count, value=1)
    return result
