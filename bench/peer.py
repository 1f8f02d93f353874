"""The peer in ``make bench``: one clip cut and cropped with MoviePy, the way popular open-source
shorts generators do it (subclip, crop to 9:16 centre, resize, ``write_videofile`` with libx264/AAC).

Run as a child process by ``bench.run`` (``peer_renders``) so its peak memory (Python holding frames,
plus MoviePy's reader and writer ffmpeg processes) is measured on its own. Writes a JSON report.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("report")
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--end", type=float, required=True)
    parser.add_argument("--crop", required=True, help="w:h:x:y of the crop box in source pixels")
    parser.add_argument("--size", required=True, help="w:h of the output")
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    cw, ch, cx, cy = (int(v) for v in args.crop.split(":"))
    ow, oh = (int(v) for v in args.size.split(":"))

    t0 = time.perf_counter()
    try:  # MoviePy 2.x
        from moviepy import VideoFileClip

        v2 = True
    except ImportError:  # MoviePy 1.x
        from moviepy.editor import VideoFileClip

        v2 = False
    import_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    source = VideoFileClip(args.src)
    if v2:
        clip = source.subclipped(args.start, args.end)
        clip = clip.cropped(x1=cx, y1=cy, width=cw, height=ch)
        clip = clip.resized(new_size=(ow, oh))
    else:
        clip = source.subclip(args.start, args.end)
        clip = clip.crop(x1=cx, y1=cy, width=cw, height=ch)
        clip = clip.resize(newsize=(ow, oh))
    clip.write_videofile(
        args.dst,
        codec="libx264",
        audio_codec="aac",
        audio_bitrate="128k",
        preset=args.preset,
        threads=args.threads,
        # MoviePy writes its temporary audio into the working directory unless told otherwise.
        temp_audiofile=str(Path(args.dst).with_suffix(".temp-audio.m4a")),
        logger=None,
    )
    source.close()
    work_seconds = time.perf_counter() - t1
    Path(args.report).write_text(
        json.dumps(
            {
                "import_seconds": import_seconds,
                "work_seconds": work_seconds,
                "moviepy_version": importlib.metadata.version("moviepy"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
