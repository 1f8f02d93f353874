"""AI reframe for one clip: find the faces in its range and plan the crop's path, following
whoever speaks, or the two stacked panels of the split layout (the PlanReframe task, in a
function of its own that carries OpenCV), then, in the render, write that plan as the ffmpeg
``sendcmd`` file applied as ``sendcmd=f=<file>,crop@reframe=...``.

Reframing only improves a clip: when face detection cannot run (OpenCV not in this function)
or the range cannot be decoded, the plan is the centred crop, and when the PlanReframe task
fails altogether the render uses the centred crop too.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from chalicelib.domain import media as media_rules
from chalicelib.domain.media import MediaInfo, Source
from chalicelib.domain.reframe import Span, max_frame_step, plan_crop_path, plan_split, sendcmd_script
from chalicelib.domain.transcript import Segment
from chalicelib.errors import MediaError
from chalicelib.job import ReframePlan
from chalicelib.services import wiring

log = logging.getLogger(__name__)

_DEFAULT_FPS = 25.0  # only sets how finely x is interpolated when the probe had no rate


def plan_for_clip(
    source_path: Source,
    start: float,
    end: float,
    aspect: str,
    media: MediaInfo,
    *,
    layout: str = "auto",
    speech: Sequence[Span] = (),
    seen: list | None = None,
    sharpness: dict[float, float] | None = None,
) -> ReframePlan | None:
    """How to frame [start, end) of ``source_path`` cropped to ``aspect``, or None when there is
    nothing to steer: 16:9 output, or a source no wider than the target. ``layout`` is what
    the job asked for (``auto`` or ``split``); ``speech`` is when someone speaks, in clip time
    (the transcript's sentences), which lets the crop follow the active speaker. ``seen``, when
    given, receives the sampled detections and ``sharpness`` how sharp their faces are (the
    thumbnail is chosen from them)."""
    width, height = media.width, media.height
    if aspect == "16:9" or not width or not height:
        return None
    crop_w, _, centre_x, _ = media_rules.crop_box(width, height, aspect)
    if crop_w >= width:
        return None
    try:
        detections = wiring.face_detector().detect_faces(source_path, start, end, size=(width, height),
                                                             sharpness=sharpness)
    except ImportError as exc:
        log.warning("reframe: face detection unavailable (%s); using the centre crop", exc)
        detections = []
    except MediaError as exc:
        log.warning("reframe: sampling %.2f-%.2f s failed (%s); using the centre crop", start, end, exc)
        detections = []
    if seen is not None:
        seen.extend(detections)
    duration = end - start
    with_faces = sum(1 for d in detections if d.faces)
    if layout == "split" and aspect == "9:16":
        out_w, out_h = media_rules.output_size(width, height, aspect)
        panels = plan_split(detections, src_w=width, src_h=height, panel_w=out_w, panel_h=out_h // 4 * 2,
                            duration=duration, speech=speech)
        if panels is not None:
            log.info("reframe: split, %d sampled frames, %d with faces, panels %s", len(detections), with_faces, panels)
            return ReframePlan(layout="split", keyframes=[(0.0, centre_x)], panels=panels,
                               samples=len(detections), withFaces=with_faces)
        log.info("reframe: split asked for but there are not two people in view; following the speaker")
    keyframes = plan_crop_path(detections, src_w=width, src_h=height, aspect=aspect, duration=duration, speech=speech)
    log.info(
        "reframe: %d sampled frames, %d with faces, %d keyframes, x %d..%d (centre %d)",
        len(detections), with_faces, len(keyframes),
        min(x for _, x in keyframes), max(x for _, x in keyframes), centre_x,
    )
    followed = bool(with_faces) and keyframes != [(0.0, centre_x)]
    return ReframePlan(layout="auto" if followed else "center", keyframes=keyframes, samples=len(detections),
                       withFaces=with_faces)


def thumbnail_time(source_path: Source, start: float, end: float, media: MediaInfo,
                   detections: Sequence | None = None, sharpness: dict[float, float] | None = None) -> float | None:
    """When (clip seconds) the clip shows a face best, visible and sharp, for its thumbnail; None
    without a face or without OpenCV. ``detections`` and ``sharpness``: the reframe's samples and
    how sharp their faces were, else a sparse pass (one frame a second) is made for the
    thumbnail alone."""
    from chalicelib.domain.thumbnails import best_face_time

    try:
        if detections is None:
            sharpness = {}
            detections = wiring.face_detector().detect_faces(source_path, start, end, 1.0,
                                                             size=(media.width, media.height), sharpness=sharpness)
        return best_face_time([(d.t, d.faces) for d in detections], sharpness or {}, end - start)
    except Exception as exc:  # noqa: BLE001 - a thumbnail never costs the clip its reframe
        log.warning("thumbnail: no face search (%s); the render picks a representative frame", exc)
        return None


def speech_spans(segments: Sequence[Segment], start: float, end: float) -> list[Span]:
    """The transcript's sentences that overlap [start, end), in clip time."""
    return [(max(0.0, s.start - start), min(end, s.end) - start) for s in segments if s.end > start and s.start < end]


def write_sendcmd(plan: ReframePlan, media: MediaInfo, workdir: str) -> str:
    """The plan as an ffmpeg sendcmd file in ``workdir``; returns its path."""
    path = os.path.join(workdir, "reframe.cmd")
    with open(path, "w", encoding="ascii") as out:
        out.write(sendcmd_script(plan.keyframes, media.fps or _DEFAULT_FPS, max_frame_step(media.width or 0)))
    return path
