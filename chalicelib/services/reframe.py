"""AI reframe for one clip: find the faces in its range, plan the crop's path, and write the
ffmpeg ``sendcmd`` file the renderer applies as ``sendcmd=f=<file>,crop@reframe=...``.

Reframing only improves a clip: when face detection cannot run (OpenCV not installed in this
function) or ffmpeg cannot sample the range, the clip keeps the centred crop.
"""
from __future__ import annotations

import logging
import os

from chalicelib.domain import media as media_rules
from chalicelib.domain.media import MediaInfo
from chalicelib.domain.reframe import plan_crop_path, sendcmd_script
from chalicelib.errors import MediaError
from chalicelib.services import wiring

log = logging.getLogger(__name__)

_DEFAULT_FPS = 25.0  # only sets how finely x is interpolated when the probe had no rate


def plan_for_clip(
    source_path: str, start: float, end: float, aspect: str, media: MediaInfo, workdir: str
) -> str | None:
    """Path of the sendcmd file for [start, end) of ``source_path`` cropped to ``aspect``, or
    None when there is nothing to steer: 16:9 output, or a source no wider than the target."""
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
    path = os.path.join(workdir, f"reframe-{round(start * 1000)}-{round(end * 1000)}-{aspect.replace(':', 'x')}.cmd")
    with open(path, "w", encoding="ascii") as out:
        out.write(sendcmd_script(keyframes, media.fps or _DEFAULT_FPS))
    log.info(
        "reframe: %d sampled frames, %d with faces, %d keyframes, x %d..%d (centre %d)",
        len(detections), sum(1 for _, boxes in detections if boxes), len(keyframes),
        min(x for _, x in keyframes), max(x for _, x in keyframes), centre_x,
    )
    return path
