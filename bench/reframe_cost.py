"""What the reframe analysis (the PlanReframe task) costs against the render's encode of the same clip.

The issue's figure: at most 30% of the clip's encode time, on a face video at the largest 9:16 size
the source allows and on footage without faces. Sources are 42 s of 1920x1080 (so 9:16 is
606x1080, not scaled up), generated with real face photos (``tools/synthetic_video.py``) and
recorded "like a camera": grain that changes every frame and a slight sway (about 14 Mbit/s, as
phones record 1080p; without them 97% of the bytes sat in the keyframes, and decoding cost
nothing like real footage's). The clip is 10-40 s, so the analysis seeks into the file as it does
for most clips:

- one speaker, a talking head 12% of the frame wide, compressed as cameras and editors write
  H.264 (x264 veryfast: CABAC, 3 B-frames, 2 s GOP);
- a two-shot (two people 7% of the width each, taking turns with the fixture's real speech),
  camera-like;
- the same two-shot with every frame a reference (x264 ultrafast, no B-frames): nothing can be
  skipped when decoding, the worst case for the analysis;
- faceless footage (a textured room with photos of cups and bricks drifting sideways), camera-like.

Each: ``plan_for_clip`` as the PlanReframe task runs it (faces, mouths and the thumbnail's
sharpness; wall and CPU seconds of this process, best of N), then the render's encode with that
plan (``media.render_args``: crop path, scale, x264 at the product's preset, the plain downmix
audio chain), wall and CPU of the ffmpeg child.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.ffargs import ffmpeg_exe

SIZE = (1920, 1080)
SOURCE_SECONDS = 42.0
START, END = 10.0, 40.0
SECONDS = END - START
FPS = 25
CAMERA = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-g", "50", "-bf", "3")
NO_B_FRAMES = ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-g", "50")
FIXTURES = ROOT / "tests" / "fixtures"


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def talking_head(path: Path, seconds: float) -> Path:
    """One person 12% of the 1080p frame wide saying ``speech_long`` (the first ``seconds`` of
    it), camera-like: made once, kept at ``path``."""
    if path.exists():
        return path
    from chalicelib.domain.transcript import Transcript
    from tools.synthetic_video import TwoShot, write_two_shot

    path.parent.mkdir(parents=True, exist_ok=True)
    transcript = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))
    one = TwoShot(size=SIZE, side=round(0.12 * SIZE[0]), x={"L": 840}, y=300, turns=["L"] * len(transcript.segments))
    partial = path.with_suffix(".partial.mp4")
    write_two_shot(
        partial,
        one,
        transcript,
        FIXTURES / "speech_long.ogg",
        seconds,
        ffmpeg=ffmpeg_exe(),
        fps=FPS,
        encoder=CAMERA,
        camera=True,
    )
    partial.rename(path)
    return path


def _sources(work: Path) -> list[tuple[str, Path]]:
    import numpy as np
    from skimage import data as skimage_data

    from chalicelib.domain.transcript import Transcript
    from tools.synthetic_video import TwoShot, background, write_frames, write_two_shot

    work.mkdir(parents=True, exist_ok=True)
    transcript = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))
    out = []
    talking = talking_head(work / "talking-head-camera.mp4", SOURCE_SECONDS)
    out.append(("one speaker (talking head), camera-like H.264 (B-frames)", talking))
    side = round(0.07 * SIZE[0])
    shot = TwoShot(size=SIZE, side=side, x={"L": 420, "R": 1366}, y=400,
                   turns=["L", "R", "L", "L", "R", "L", "R", "R", "L", "R", "L", "R"])
    for name, encoder in (("two-shot, camera-like H.264 (B-frames)", CAMERA),
                          ("two-shot, no B-frames (every frame decoded)", NO_B_FRAMES)):
        path = work / f"two-shot-{'camera' if encoder is CAMERA else 'noB'}-grain.mp4"
        if not path.exists():
            write_two_shot(path, shot, transcript, FIXTURES / "speech_long.ogg", SOURCE_SECONDS, ffmpeg=ffmpeg_exe(),
                           fps=FPS, encoder=encoder, camera=True)
        out.append((name, path))
    import cv2

    room = background((SIZE[0] + 600, SIZE[1]), seed=11)
    room[300:700, 900:1500] = cv2.resize(skimage_data.coffee(), (600, 400))
    room[500:1000, 1700:2200] = np.dstack([cv2.resize(skimage_data.brick(), (500, 500))] * 3)
    faceless = work / "faceless-camera-grain.mp4"
    if not faceless.exists():
        write_frames(faceless, SIZE, SOURCE_SECONDS, lambda t: room[:, int(12 * t):int(12 * t) + SIZE[0]],
                     ffmpeg=ffmpeg_exe(), fps=FPS, encoder=CAMERA, camera=True)
    out.append(("no faces (drifting room), camera-like H.264", faceless))
    return out


def run_reframe_cost(work: Path, repeat: int = 2) -> dict[str, Any]:
    """Analysis against encode for each source's clip (START to END) at 9:16."""
    from chalicelib.domain import media
    from chalicelib.domain.transcript import Transcript
    from chalicelib.services.reframe import plan_for_clip, speech_spans, write_sendcmd

    transcript = Transcript.from_dict(json.loads((FIXTURES / "speech_long.transcript.json").read_text()))
    speech = speech_spans(transcript.segments, START, END)
    rows = []
    for name, path in _sources(work):
        probe = subprocess.run([ffmpeg_exe(), *media.probe_args(str(path))], capture_output=True, text=True,
                               check=False)
        info = media.parse_probe(probe.stderr, path.stat().st_size)
        best: dict[str, Any] | None = None
        for _ in range(repeat):
            cpu, wall = _cpu(resource.RUSAGE_SELF), time.perf_counter()
            plan = plan_for_clip(str(path), START, END, "9:16", info, speech=speech, sharpness={})
            run = {"seconds": time.perf_counter() - wall, "cpu_seconds": _cpu(resource.RUSAGE_SELF) - cpu}
            if best is None or run["seconds"] < best["seconds"]:
                best = run
        assert plan is not None and best is not None
        commands = write_sendcmd(plan, info, str(work))
        assert info.width and info.height
        args = media.render_args(str(path), str(work / "clip.mp4"), start=START, end=END, aspect="9:16",
                                 width=info.width, height=info.height, crop_commands=commands)
        encode: dict[str, float] | None = None
        for _ in range(repeat):
            cpu, wall = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run([ffmpeg_exe(), *args], check=True)
            run = {"seconds": time.perf_counter() - wall, "cpu_seconds": _cpu(resource.RUSAGE_CHILDREN) - cpu}
            if encode is None or run["seconds"] < encode["seconds"]:
                encode = run
        assert encode is not None
        rows.append({
            "source": name,
            "size": f"{info.width}x{info.height}",
            "output": "x".join(map(str, media.output_size(info.width, info.height, "9:16"))),
            "analysis": best,
            "encode": encode,
            "samples": plan.samples,
            "with_faces": plan.withFaces,
            "layout": plan.layout,
            "keyframes": len(plan.keyframes),
            "load": round(os.getloadavg()[0], 2),  # other work on the machine inflates both columns
        })
        print(f"  {name}: analysis {best['seconds']:.2f} s, encode {encode['seconds']:.2f} s", flush=True)
    return {"seconds": SECONDS, "start": START, "rows": rows}
