"""One job scaled up on paper: wall time and AWS cost of an hour of video fanned out across Lambdas,
from the measured per-stage costs, and where the AWS limits bind."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypedDict

from bench.analysis import task_row
from chalicelib.config import DEFAULT_MAX_VIDEO_SECONDS
from chalicelib.models import MAX_CLIPS

# AWS list prices (us-east-1, on-demand, as published when this was written). Change them here.
PRICES = {
    "transcribe_per_min": 0.024,  # Amazon Transcribe batch, tier 1
    "lambda_gb_s": 0.0000166667,  # Lambda x86 compute
    "lambda_per_million_requests": 0.20,
    "sfn_per_1k_transitions": 0.025,  # Step Functions Standard
    "s3_put_per_1k": 0.005,  # PUT, COPY, POST, LIST
    "s3_get_per_1k": 0.0004,
    "s3_gb_month": 0.023,  # S3 Standard, first 50 TB
}
# AWS limits the scale section is written against (defaults; most can be raised).
LIMITS = {
    "lambda_timeout_s": 900,
    "lambda_concurrency": 1000,
    "lambda_tmp_max_mb": 10240,
    "lambda_tmp_default_mb": 512,
    "sfn_history_events": 25000,
    "sfn_payload_bytes": 256 * 1024,
    "inline_map_concurrency": 40,
    "transcribe_concurrent_jobs": 100,
    "transcribe_queue": 10000,
    "max_clips_per_job": MAX_CLIPS,  # the API's maxClips bound
    "max_video_seconds": DEFAULT_MAX_VIDEO_SECONDS,
}
# Memory the scale section assumes per function: 3538 MB is 2 vCPU on Lambda, like the 2 cores the
# local media figures are usually measured on; the light tasks get 1 GB.
MEDIA_LAMBDA_MB = 3538
WAV_BYTES_PER_SECOND = 16000 * 2  # the speech WAV: mono, 16 kHz, 16-bit
LIGHT_LAMBDA_MB = 1024


@dataclass
class ScaleInputs:
    """What the scale section needs, all measured by the run except where named."""

    source_seconds: float
    source_bytes: int
    prepare_media_seconds: float  # the probe and extraction ffmpeg runs inside our Prepare task
    select_seconds: float
    finalize_seconds: float
    render_seconds_per_clip_second: float  # our render task / clip duration
    clip_mean_seconds: float
    clip_bytes_per_second: float
    whisper_rtf: float  # bare faster-whisper transcribe seconds / audio seconds
    whisper_load_seconds: float
    events_fixed: int
    events_per_clip: float
    transitions_fixed: int
    transitions_per_clip: float
    select_output_bytes: int  # the state after SelectClips, with its clips list
    select_bytes_per_clip: float
    map_result_bytes_per_clip: float


class Assumptions(TypedDict):
    transcribe_turnaround: tuple[float, float]
    poll_seconds: int
    s3_mb_per_s: int
    cold_start_s: float
    events_per_poll: int
    transitions_per_poll: int


# Not measured here; the scale section names them as assumptions.
ASSUMED: Assumptions = {
    "transcribe_turnaround": (0.25, 0.5),  # Amazon Transcribe batch time / audio duration
    "poll_seconds": 15,  # KLYPH_TRANSCRIBE_POLL_SECONDS
    "s3_mb_per_s": 100,  # one S3 GET stream into a Lambda
    "cold_start_s": 1.5,  # a media Lambda with the ffmpeg layer
    "events_per_poll": 9,  # Wait (2) + Check task (5) + Choice (2)
    "transitions_per_poll": 3,  # Wait, CheckTranscription, TranscriptionDone?
}


def scale_on_paper(m: ScaleInputs, hours: float = 1.0, clips: int = 10) -> dict[str, Any]:
    """Wall time and AWS cost of one job on ``hours`` of video with ``clips`` clips, the Map fanned
    out across Lambdas, from the measured per-stage costs; and where the limits are."""
    src = hours * 3600
    scale = src / m.source_seconds
    gb_media, gb_light = MEDIA_LAMBDA_MB / 1024, LIGHT_LAMBDA_MB / 1024
    source_bytes = m.source_bytes * scale
    download = source_bytes / (ASSUMED["s3_mb_per_s"] * 1e6)
    wav_upload = src * WAV_BYTES_PER_SECOND / (ASSUMED["s3_mb_per_s"] * 1e6)
    prepare = ASSUMED["cold_start_s"] + download + m.prepare_media_seconds * scale + wav_upload
    select = m.select_seconds * scale  # the ranking is linear in the transcript
    render_one = m.render_seconds_per_clip_second * m.clip_mean_seconds
    render = ASSUMED["cold_start_s"] + download + render_one
    lo, hi = ASSUMED["transcribe_turnaround"]
    transcribe = (lo * src, hi * src)
    polls = (math.ceil(transcribe[0] / ASSUMED["poll_seconds"]), math.ceil(transcribe[1] / ASSUMED["poll_seconds"]))
    whisper = m.whisper_load_seconds + m.whisper_rtf * src + wav_upload
    fixed = prepare + select + m.finalize_seconds + render + ASSUMED["cold_start_s"]
    wall = (fixed + transcribe[0] + ASSUMED["poll_seconds"] / 2, fixed + transcribe[1] + ASSUMED["poll_seconds"] / 2)
    wall_whisper = fixed + whisper

    p = PRICES
    lambda_s = {
        "prepare": prepare * gb_media,
        "renders": clips * render * gb_media,
        "select": select * gb_light,
        "polls + finalize": (polls[1] * 0.2 + m.finalize_seconds) * gb_light,
    }
    lambda_cost = sum(lambda_s.values()) * p["lambda_gb_s"]
    requests = 3 + clips + polls[1]
    lambda_cost += requests * p["lambda_per_million_requests"] / 1e6
    transcribe_cost = src / 60 * p["transcribe_per_min"]
    whisper_cost = whisper * gb_media * p["lambda_gb_s"]
    transitions = m.transitions_fixed + m.transitions_per_clip * clips + ASSUMED["transitions_per_poll"] * polls[1]
    sfn_cost = transitions / 1000 * p["sfn_per_1k_transitions"]
    puts = 1 + 3 + 4 * clips  # source, audio/loudness/transcript, per clip mp4/jpg/srt/vtt
    gets = 1 + clips + 2 + clips  # prepare and each render read the source; transcript reads
    clip_bytes = clips * m.clip_mean_seconds * m.clip_bytes_per_second
    s3_cost = puts / 1000 * p["s3_put_per_1k"] + gets / 1000 * p["s3_get_per_1k"]
    storage_month = (source_bytes + clip_bytes) / 1e9 * p["s3_gb_month"]
    total = transcribe_cost + lambda_cost + sfn_cost + s3_cost

    # Limits.
    events = m.events_fixed + m.events_per_clip * clips + ASSUMED["events_per_poll"] * polls[1]
    max_polls_4h = math.ceil(hi * LIMITS["max_video_seconds"] / ASSUMED["poll_seconds"])
    room = LIMITS["sfn_history_events"] - m.events_fixed - ASSUMED["events_per_poll"] * max_polls_4h
    clips_by_events = int(room / m.events_per_clip) if m.events_per_clip else None
    base_payload = m.select_output_bytes - m.select_bytes_per_clip * 3
    clips_by_payload = int(
        (LIMITS["sfn_payload_bytes"] - base_payload) / (m.select_bytes_per_clip + m.map_result_bytes_per_clip)
    )
    per_src_prepare = (m.prepare_media_seconds + m.source_bytes / (ASSUMED["s3_mb_per_s"] * 1e6)) / m.source_seconds
    return {
        "hours": hours,
        "clips": clips,
        "stages": {
            "prepare": prepare,
            "transcribe": transcribe,
            "whisper_on_lambda": whisper,
            "select": select,
            "render (slowest clip, all in parallel)": render,
            "render_download": download,
            "finalize": m.finalize_seconds,
        },
        "wall_transcribe": wall,
        "wall_whisper": wall_whisper,
        "cost": {
            "transcribe": transcribe_cost,
            "lambda": lambda_cost,
            "step_functions": sfn_cost,
            "s3_requests": s3_cost,
            "total": total,
            "s3_storage_per_month": storage_month,
            "whisper_instead_of_transcribe": whisper_cost,
            "total_with_whisper": total - transcribe_cost + whisper_cost,
            "per_extra_clip": render * gb_media * p["lambda_gb_s"]
            + m.transitions_per_clip / 1000 * p["sfn_per_1k_transitions"]
            + 4 / 1000 * p["s3_put_per_1k"],
        },
        "lambda_gb_s": lambda_s,
        "transitions": transitions,
        "events": events,
        "limits": {
            "clips_by_events": clips_by_events,
            "clips_by_payload": clips_by_payload,
            "clips_by_inline_concurrency": LIMITS["inline_map_concurrency"],
            "max_source_for_prepare_in_one_lambda_s": (
                LIMITS["lambda_timeout_s"] / per_src_prepare if per_src_prepare else None
            ),
            "max_audio_for_whisper_in_one_lambda_s": (
                (LIMITS["lambda_timeout_s"] - m.whisper_load_seconds) / m.whisper_rtf if m.whisper_rtf else None
            ),
            "longest_clip_render_s": m.render_seconds_per_clip_second * 180,
            "concurrent_jobs_by_lambda": LIMITS["lambda_concurrency"] // max(1, clips),
            "clips_per_hour_by_lambda": LIMITS["lambda_concurrency"] * 3600 / render if render else None,
            "source_gb_for_4h": m.source_bytes / m.source_seconds * LIMITS["max_video_seconds"] / 1e9,
            "events_4h_10_clips": m.events_fixed + m.events_per_clip * 10 + ASSUMED["events_per_poll"] * max_polls_4h,
        },
    }


def measured_inputs(raw: dict, a: dict) -> ScaleInputs:
    clips, bare = raw["clips"], raw["bare"]
    renders = [(t, c) for c in clips if (t := task_row(a, "RenderClip", c["index"]))]
    clip_seconds = [c["end"] - c["start"] for _, c in renders] or [45.0]
    per_clip_second = (sum(t["seconds"] for t, _ in renders) / sum(clip_seconds)) if renders else 0.5
    bare_bytes = sum(r.get("bytes", 0) for r in bare["renders"])
    wb = bare["whisper"]
    ev = a["events"]
    return ScaleInputs(
        source_seconds=raw["source"]["seconds"],
        source_bytes=raw["source"]["bytes"],
        prepare_media_seconds=sum(
            k["seconds"]
            for kind, k in ((task_row(a, "Prepare") or {}).get("ffmpeg") or {}).items()
            if kind in ("probe", "extract_audio")
        ),
        select_seconds=(task_row(a, "SelectClips") or {"seconds": 0})["seconds"],
        finalize_seconds=(task_row(a, "Finalize") or {"seconds": 0})["seconds"],
        render_seconds_per_clip_second=per_clip_second,
        clip_mean_seconds=sum(clip_seconds) / len(clip_seconds),
        clip_bytes_per_second=bare_bytes / sum(c["end"] - c["start"] for c in clips) if clips else 0,
        whisper_rtf=wb["transcribe_seconds"] / wb["audio_seconds"],
        whisper_load_seconds=wb["load_seconds"],
        events_fixed=ev["fixed"],
        events_per_clip=ev["per_iteration"],
        transitions_fixed=ev["fixed_transitions"],
        transitions_per_clip=ev["transitions_per_iteration"],
        select_output_bytes=a["select_output_bytes"],
        select_bytes_per_clip=a["select_bytes_per_clip"],
        map_result_bytes_per_clip=a["map_result_bytes_per_clip"],
    )
