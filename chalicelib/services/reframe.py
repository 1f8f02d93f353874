"""AI reframe for one clip: find the faces in its range and plan the crop's path (the
PlanReframe task, in a function of its own that carries OpenCV), then, in the render, write
that plan as the ffmpeg ``sendcmd`` file applied as ``sendcmd=f=<file>,crop@reframe=...``.

Reframing only improves a clip: when face detection cannot run (OpenCV not in this function)
or the range cannot be decoded, the plan is the centred crop, and when the PlanReframe task
fails altogether the render uses the centred crop too.
"""
from __future__ import annotations

import logging
import os

from chalicelib.domain import media as media_rules
from chalicelib.domain.media import MediaInfo
from chalicelib.domain.reframe import plan_crop_path, sendcmd_script
from chalicelib.errors import MediaError
from chalicelib.job import ReframePlan
from chalicelib.services import wiring

log = logging.getLogger(__name__)

_DEFAULT_FPS = 25.0  # only sets how finely x is interpolated when the probe had no rate


def plan_for_clip(source_path: str, start: float, end: float, aspect: str, media: MediaInfo) -> ReframePlan | None:
    """The crop's path for [start, end) of ``source_path`` cropped to ``aspect``, or None when
    there is nothing to steer: 16:9 output, or a source no wider than the target."""
    width, height = media.width, media.height
    if aspect == "16:9" or not width or not height:
        return None
    crop_w, _, centre_x, _ = media_rules.crop_box(width, height, aspect)
    if crop_w >= width:
        return None
    try:
        detections = wiring.face_detector().detect_faces(source_path, start, end, size=(width, height))
    except ImportError as exc:
        log.warning("reframe: face detection unavailable (%s); using the centre crop", exc)
        detections = []
    except MediaError as exc:
        log.warning("reframe: sampling %.2f-%.2f s failed (%s); using the centre crop", start, end, exc)
        detections = []
    keyframes = plan_crop_path(detections, src_w=width, src_h=height, aspect=aspect, duration=end - start)
    with_faces = sum(1 for _, boxes in detections if boxes)
    log.info(
        "reframe: %d sampled frames, %d with faces, %d keyframes, x %d..%d (centre %d)",
        len(detections), with_faces, len(keyframes),
        min(x for _, x in keyframes), max(x for _, x in keyframes), centre_x,
    )
    return ReframePlan(keyframes=keyframes, samples=len(detections), withFaces=with_faces)


def write_sendcmd(plan: ReframePlan, media: MediaInfo, workdir: str) -> str:
    """The plan as an ffmpeg sendcmd file in ``workdir``; returns its path."""
    path = os.path.join(workdir, "reframe.cmd")
    with open(path, "w", encoding="ascii") as out:
        out.write(sendcmd_script(plan.keyframes, media.fps or _DEFAULT_FPS))
    return path
