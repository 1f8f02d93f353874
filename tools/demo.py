"""``make demo``: a multi-minute speech video through the whole local pipeline, clips written to disk.

Starts the local stack if nothing answers on the port, uploads the video through
the large-file path (presigned PUT + S3 trigger), submits, shows progress, prints
the clips with the wall time of each stage and downloads the mp4 files.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import requests

from devstack.client import ROOT, KlyphClient, LocalStackProcess, healthy

SAMPLE_AUDIO = ROOT / "tests" / "fixtures" / "speech_long.ogg"


def make_sample_video(dst: Path, width: int = 1280, height: int = 720) -> Path:
    """Real speech (espeak-ng, five topics, ~4 min) over a moving test pattern."""
    import imageio_ffmpeg

    if dst.exists():
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".partial.mp4")
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error",
         "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25", "-i", str(SAMPLE_AUDIO),
         "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", str(tmp)],
        check=True,
    )
    tmp.rename(dst)
    return dst


def _seconds_between(a: str, b: str) -> float:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()  # 3.11 reads the "Z" suffix


def stage_durations(result: dict) -> list[tuple[str, float]]:
    """Wall time of each stage, from the stage start times the job records."""
    stages = sorted(result.get("stages", {}).items(), key=lambda kv: kv[1])
    ends = [t for _, t in stages[1:]] + [result.get("finishedAt") or stages[-1][1]]
    return [(name, _seconds_between(start, end)) for (name, start), end in zip(stages, ends)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", help="your own video (default: a generated ~4 min speech sample)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--out", default=str(ROOT / "demo-output"))
    parser.add_argument("--max-clips", type=int, default=3)
    parser.add_argument("--min-duration", type=float, default=30)
    parser.add_argument("--max-duration", type=float, default=60)
    parser.add_argument("--aspect-ratio", default="9:16")
    parser.add_argument("--instructions", default=None)
    args = parser.parse_args(argv)
    out = Path(args.out)
    base = f"http://127.0.0.1:{args.port}/api"

    stack = None
    if healthy(base):
        # A stack is already running (make run): mint a workspace key in it, as make api-key does.
        os.environ.setdefault("KLYPH_AWS_ENDPOINT_URL", f"http://127.0.0.1:{args.port + 1}")
        from chalicelib.services import auth

        account_id, api_key = auth.create_workspace(name="demo")
        print(f"Using the local stack already running at {base}")
    else:
        print(f"Starting the local stack at {base} ...", flush=True)
        out.mkdir(parents=True, exist_ok=True)
        stack = LocalStackProcess(args.port, log_path=out / "local-stack.log").start()
        account_id, api_key = stack.account_id, stack.api_key
    try:
        client = KlyphClient(base, api_key)
        video_path = Path(args.video) if args.video else make_sample_video(out / "sample-speech-720p.mp4")
        from chalicelib.adapters.ffmpeg import Ffmpeg

        source_seconds = Ffmpeg().probe(str(video_path)).duration_seconds
        print(f"Video: {video_path} ({video_path.stat().st_size / 1e6:.1f} MB, {source_seconds:.1f} s)")
        project = client.create_project("Demo", account_id)
        t0 = time.time()
        video = client.upload_large(video_path, account_id, project["id"])
        if video["status"] != "uploaded":
            print(f"Upload rejected: {video.get('error')}", file=sys.stderr)
            return 1
        print(f"Uploaded {video['id']} in {time.time() - t0:.1f} s")
        options = {"maxClips": args.max_clips, "minDuration": args.min_duration, "maxDuration": args.max_duration,
                   "aspectRatio": args.aspect_ratio}
        if args.instructions:
            options["customInstructions"] = args.instructions
        call_id = client.submit(video["id"], **options)
        print(f"Submitted {call_id} {options}")
        t_submit = time.time()
        last: list[str | None] = [None]

        def show(body: dict) -> None:
            progress = body.get("progress")
            line = f"  [{time.time() - t_submit:6.1f} s] {body['stage']}"
            if progress:
                line += f" {progress['clipsDone']}/{progress['clipsTotal']} clips"
            if line.split("] ")[1] != last[0]:
                print(line, flush=True)
                last[0] = line.split("] ")[1]

        result = client.wait(call_id, on_progress=show)
        total = time.time() - t_submit
        if result["status"] != "succeeded":
            print(f"Job failed: {result['error']}", file=sys.stderr)
            return 1
        dest = out / call_id
        dest.mkdir(parents=True, exist_ok=True)
        print(f"\nDone in {total:.1f} s. Clips:")
        for clip in result["clips"]:
            line = (f"  {clip['start_seconds']:7.2f}-{clip['end_seconds']:7.2f} s  score {clip['score']:5.1f}  "
                    f"{clip['status']:6}  {clip['title']}")
            if clip["preview_url"]:
                name = re.sub(r"[^A-Za-z0-9]+", "-", clip["title"]).strip("-")[:50] or clip["id"]
                path = dest / f"{clip['start_seconds']:07.2f}-{name}.mp4"
                path.write_bytes(requests.get(clip["preview_url"], timeout=120).content)
                line += f"\n      -> {path}"
            print(line)
        print("\nStage wall times:")
        for name, seconds in stage_durations(result):
            print(f"  {name:13} {seconds:7.2f} s")
        print(f"  {'total':13} {total:7.2f} s (submit to result, as the poller saw it)")
        print(f"  real-time factor {total / source_seconds:.3f} (wall time / source duration {source_seconds:.1f} s)")
        print(f"\nSummary: {client.video_summary(video['id'])}")
        return 0
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
