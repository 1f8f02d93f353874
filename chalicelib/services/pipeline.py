"""The clip-generation tasks the state machine calls.

Each task takes the job state (small JSON: ids, options, S3 keys, media facts)
and returns it, extended. Large data (audio, transcripts, clips) stays in S3.
Retry and catch policy lives in the state machine, not here.
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from typing import Any

from chalicelib import clients
from chalicelib.adapters.s3 import clip_key, work_key
from chalicelib.config import settings
from chalicelib.domain.clock import now_iso
from chalicelib.domain.ids import new_id
from chalicelib.domain.media import MediaInfo
from chalicelib.domain.transcript import Transcript
from chalicelib.errors import PipelineError
from chalicelib.services import wiring
from chalicelib.services.sources import local_source

log = logging.getLogger(__name__)

State = dict[str, Any]


def _ffmpeg():
    from chalicelib.adapters.ffmpeg import Ffmpeg

    return Ffmpeg()


def _stage(state: State, stage: str) -> None:
    wiring.records().mark_stage(state["callId"], stage, now_iso())


def _store_json(key: str, doc: Any) -> None:
    wiring.blobs().put_bytes(key, json.dumps(doc, separators=(",", ":")).encode())


def _load_json(key: str) -> Any:
    return json.loads(wiring.blobs().get_bytes(key))


def prepare(state: State) -> State:
    _stage(state, "preparing")
    ffmpeg = _ffmpeg()
    acc, vid, call = state["accountId"], state["videoId"], state["callId"]
    audio_key = loudness_key = None
    with local_source(state["sourceKey"]) as source, tempfile.TemporaryDirectory() as tmp:
        info = ffmpeg.probe(source)
        if info.has_audio:
            wav = os.path.join(tmp, "audio.wav")
            # One decoding pass gives the speech audio and its per-second loudness.
            levels = ffmpeg.extract_audio(source, wav)
            audio_key = work_key(acc, vid, call, "audio.wav")
            loudness_key = work_key(acc, vid, call, "loudness.json")
            wiring.blobs().upload_file(wav, audio_key, "audio/wav")
            _store_json(loudness_key, levels)
    wiring.records().update_video(vid, status="processing", media=info.to_dict(), updatedAt=now_iso())
    return {**state, "media": info.to_dict(), "audioKey": audio_key, "loudnessKey": loudness_key}


def transcribe_start(state: State) -> State:
    _stage(state, "transcribing")
    cfg = settings()
    transcript_key = work_key(state["accountId"], state["videoId"], state["callId"], "transcript.json")
    duration = state["media"]["durationSeconds"]
    if not state.get("audioKey"):
        transcript = Transcript(language="", duration=duration, words=[], segments=[])
    elif cfg.transcriber == "aws":
        from chalicelib.adapters.transcribe import AwsTranscriber

        output_key = work_key(state["accountId"], state["videoId"], state["callId"], "transcribe-output.json")
        AwsTranscriber(clients.transcribe(), clients.s3(), cfg.bucket).start(
            state["callId"], state["audioKey"], output_key
        )
        return {
            **state,
            "transcription": {
                "status": "IN_PROGRESS",
                "jobName": state["callId"],
                "outputKey": output_key,
                "key": transcript_key,
                "pollSeconds": cfg.transcribe_poll_seconds,
            },
        }
    else:
        from chalicelib.adapters.whisper import WhisperTranscriber

        with tempfile.TemporaryDirectory() as tmp:
            wav = os.path.join(tmp, "audio.wav")
            wiring.blobs().download_file(state["audioKey"], wav)
            transcript = WhisperTranscriber(
                cfg.whisper_model, cfg.whisper_compute_type, cfg.whisper_threads
            ).transcribe(wav)
    _store_json(transcript_key, transcript.to_dict())
    return {**state, "transcription": {"status": "COMPLETED", "key": transcript_key, "words": len(transcript.words)}}


def transcribe_check(state: State) -> State:
    from chalicelib.adapters.transcribe import AwsTranscriber

    job = state["transcription"]
    transcriber = AwsTranscriber(clients.transcribe(), clients.s3(), settings().bucket)
    status, reason = transcriber.check(job["jobName"])
    if status == "FAILED":
        raise PipelineError("transcription_failed", f"transcription failed: {reason or 'unknown reason'}")
    if status != "COMPLETED":
        return state
    transcript = transcriber.fetch(job["outputKey"])
    _store_json(job["key"], transcript.to_dict())
    return {**state, "transcription": {"status": "COMPLETED", "key": job["key"], "words": len(transcript.words)}}


def select(state: State) -> State:
    from chalicelib.domain.selection import instruction_topic, rank_clips, sentence_units

    _stage(state, "selecting")
    opts = state["options"]
    cfg = settings()
    instructions = opts.get("customInstructions")
    transcript = Transcript.from_dict(_load_json(state["transcription"]["key"]))
    energy = _load_json(state["loudnessKey"]) if state.get("loudnessKey") else None
    relevance = cohesion = None
    if transcript.words:
        try:
            from chalicelib.adapters.embeddings import Embedder

            signals = Embedder().analyse([s.text for s in sentence_units(transcript)], instruction_topic(instructions))
            relevance, cohesion = signals.relevance, signals.cohesion
        except Exception as exc:  # noqa: BLE001 - e.g. wordllama not installed: keyword matching still works
            log.warning("sentence embeddings unavailable, matching instructions by keywords: %s", exc)
    ranking = rank_clips(
        transcript,
        duration=state["media"]["durationSeconds"],
        max_clips=opts["maxClips"],
        min_duration=opts["minDuration"],
        max_duration=opts["maxDuration"],
        instructions=instructions,
        energy=energy,
        relevance=relevance,
        cohesion=cohesion,
    )
    choices = ranking.choices
    if cfg.selector == "bedrock":
        from chalicelib.adapters.bedrock import BedrockSelector

        choices = BedrockSelector(clients.client("bedrock-runtime"), cfg.bedrock_model_id).choose(ranking, instructions)
    if not choices:
        raise PipelineError(
            "no_clips",
            f"no clip of {opts['minDuration']:g}-{opts['maxDuration']:g} s could be found in this video; "
            "try a shorter minDuration",
        )
    records = wiring.records()
    clips = []
    now = now_iso()
    for index, choice in enumerate(choices):
        clip_id = new_id("clip")
        records.put_clip(
            {
                "id": clip_id,
                "videoId": state["videoId"],
                "callId": state["callId"],
                "accountId": state["accountId"],
                "index": index,
                "start": round(choice.start, 3),
                "end": round(choice.end, 3),
                "title": choice.title,
                "description": choice.description,
                "score": round(choice.score, 1),
                "reason": choice.reason,
                "aspectRatio": opts["aspectRatio"],
                "status": "draft",
                "createdAt": now,
            }
        )
        clips.append({"index": index, "id": clip_id, "start": choice.start, "end": choice.end})
    records.update_call(state["callId"], clipsTotal=len(clips), clipsDone=0, updatedAt=now)
    return {**state, "clips": clips}


def render(item: State) -> State:
    from chalicelib.domain import captions
    from chalicelib.domain.media import output_size

    clip = item["clip"]
    _stage(item, "rendering")
    aspect = item["options"]["aspectRatio"]
    burn_captions = item["options"].get("captions", True)
    acc, vid, call, index = item["accountId"], item["videoId"], item["callId"], clip["index"]
    info = MediaInfo.from_dict(item["media"])
    words = []
    if item.get("transcriptKey"):
        transcript = Transcript.from_dict(_load_json(item["transcriptKey"]))
        words = captions.clip_words(transcript.words, clip["start"], clip["end"])
    ffmpeg = _ffmpeg()
    blobs = wiring.blobs()
    fields: dict[str, Any] = {}
    with local_source(item["sourceKey"]) as source, tempfile.TemporaryDirectory() as tmp:
        crop_commands = None
        if item["options"].get("reframe", "auto") == "auto":
            from chalicelib.services.reframe import plan_for_clip

            crop_commands = plan_for_clip(source, clip["start"], clip["end"], aspect, item["media"], tmp)
        ass = None
        if words and burn_captions and info.width and info.height:
            ass = os.path.join(tmp, "captions.ass")
            with open(ass, "w", encoding="utf-8") as f:
                f.write(captions.to_ass(words, *output_size(info.width, info.height, aspect)))
        out = os.path.join(tmp, "clip.mp4")
        rendered = ffmpeg.render_clip(
            source, out, start=clip["start"], end=clip["end"], aspect=aspect, info=info,
            captions=ass, crop_commands=crop_commands,
        )
        thumb = os.path.join(tmp, "thumbnail.jpg")
        ffmpeg.thumbnail(out, thumb, duration=rendered.duration_seconds)
        key = clip_key(acc, vid, call, index)
        blobs.upload_file(out, key, "video/mp4")
        fields["thumbnailKey"] = clip_key(acc, vid, call, index, ext="jpg")
        blobs.upload_file(thumb, fields["thumbnailKey"], "image/jpeg")
    # Sidecars whether or not captions are burned in: platforms and players take them as
    # closed captions, and they cost nothing.
    if words:
        fields["captionsSrtKey"] = clip_key(acc, vid, call, index, ext="srt")
        fields["captionsVttKey"] = clip_key(acc, vid, call, index, ext="vtt")
        blobs.put_bytes(fields["captionsSrtKey"], captions.to_srt(words).encode(), "application/x-subrip; charset=utf-8")
        blobs.put_bytes(fields["captionsVttKey"], captions.to_vtt(words).encode(), "text/vtt; charset=utf-8")
    records = wiring.records()
    records.update_clip(
        vid,
        call,
        index,
        status="ready",
        key=key,
        width=rendered.width,
        height=rendered.height,
        durationSeconds=round(rendered.duration_seconds, 3),
        sizeBytes=rendered.size_bytes,
        captionsBurned=ass is not None,
        renderedAt=now_iso(),
        **fields,
    )
    records.update_call(call, add={"clipsDone": 1})
    return {"index": index, "status": "ready"}


def clip_failed(item: State) -> State:
    clip = item["clip"]
    error = failure_from_catch(item.get("error"))
    log.warning("clip render failed: %s", error["message"],
                extra={"callId": item["callId"], "clipIndex": clip["index"], "errorCode": error["code"]})
    records = wiring.records()
    records.update_clip(item["videoId"], item["callId"], clip["index"], status="failed", error=error)
    records.update_call(item["callId"], add={"clipsDone": 1})
    return {"index": clip["index"], "status": "failed"}


def finalize(state: State) -> State:
    _stage(state, "finalizing")
    records = wiring.records()
    clips = records.list_clips(state["videoId"], state["callId"])
    ready = [c for c in clips if c["status"] == "ready"]
    if not ready:
        first = next((c.get("error") for c in clips if c.get("error")), None) or {}
        raise PipelineError(
            "render_failed",
            f"none of the {len(clips)} clips could be rendered: {first.get('message', 'unknown error')}",
        )
    now = now_iso()
    records.update_video(state["videoId"], status="ready", updatedAt=now)
    records.update_call(state["callId"], status="succeeded", stage="done", finishedAt=now, updatedAt=now,
                        clipsReady=len(ready))
    return {"callId": state["callId"], "status": "succeeded", "clipsReady": len(ready), "clipsTotal": len(clips)}


_CODED = re.compile(r"^\[([a-z_]+)\] (.+)$", re.S)


def failure_from_catch(error: dict[str, Any] | None) -> dict[str, str]:
    """Turn a Catch's {Error, Cause} into the {code, message} a user sees.

    Our own errors carry "[code] message"; anything else is an internal fault whose
    details go to the logs, not to the user.
    """
    error = error or {}
    name = error.get("Error", "")
    cause = error.get("Cause") or ""
    try:
        message = json.loads(cause).get("errorMessage", "")
    except (ValueError, AttributeError):
        message = cause
    coded = _CODED.match(message or "")
    if coded:
        return {"code": coded.group(1), "message": coded.group(2)}
    if name == "States.Timeout":
        return {"code": "timed_out", "message": "a processing step took too long; retry, or try a shorter video"}
    log.error("unexpected task failure", extra={"error": name, "cause": cause[:2000]})
    return {"code": "internal_error", "message": "processing failed unexpectedly; it is safe to resubmit"}


def failed(state: State) -> State:
    error = failure_from_catch(state.get("error"))
    now = now_iso()
    records = wiring.records()
    for clip in records.list_clips(state["videoId"], state["callId"]):
        if clip["status"] == "draft":
            records.update_clip(state["videoId"], state["callId"], clip["index"], status="failed",
                                error={"code": "job_failed", "message": error["message"]})
    # The source stays in S3 and the video keeps its media facts, so it can be resubmitted.
    records.update_video(state["videoId"], status="failed", error=error, updatedAt=now)
    records.update_call(state["callId"], status="failed", stage="failed", error=error, finishedAt=now, updatedAt=now)
    return {"callId": state["callId"], **error}
