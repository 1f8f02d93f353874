"""``make bench``: every pipeline stage measured against the bare tools and a peer, in one run.

``python -m bench --help`` lists the options; the package docstring (``bench/__init__.py``) says what
is measured and how. ``python -m bench whisper-bare WAV JSON`` is the child process the run times
faster-whisper in."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.analysis import selected_clips
from bench.api import import_time
from bench.encoder import natural_sample, run_encoder_sweep
from bench.procs import loadavg
from bench.reframe_cost import run_reframe_cost
from bench.report import report, write_report
from bench.report_encoder import encoder_section
from bench.run import (
    bare_tools,
    machine,
    make_bench_video,
    ours_runs,
    peer_renders,
    run_face_job,
    run_stack_job,
    source_info,
    whisper_bare,
)
from bench.transcription import run_transcription_models


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["whisper-bare"]:
        return whisper_bare(argv[1], argv[2])
    if argv[:1] == ["persistence"]:
        from bench.persistence import main as persistence

        return persistence(argv[1:])
    if argv[:1] == ["ranged"]:
        from bench.ranged import main as ranged

        return ranged(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench-output"))
    parser.add_argument("--report", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--source-seconds", type=int, default=600)
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument(
        "--render-concurrency",
        type=int,
        default=1,
        help="Map concurrency in the stack (1: each render is timed alone, like one Lambda per clip)",
    )
    parser.add_argument("--api-seconds", type=float, default=10)
    parser.add_argument("--api-rate", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=2, help="bare ffmpeg runs: best of N, interleaved")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--skip-face-job", action="store_true", help="leave out the job on footage with a face")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="redraw the report's tables (between its markers) from bench-results.json",
    )
    parser.add_argument(
        "--encoder-sweep",
        action="store_true",
        help="only the encoder settings sweep (x264 presets and crf against a slow reference); stored in "
        "bench-results.json and the report redrawn when the file holds a full run",
    )
    parser.add_argument(
        "--sweep-source",
        help="with --encoder-sweep: sweep this video instead of the bench source, as a cross-check on other content",
    )
    parser.add_argument("--sweep-repeat", type=int, default=1, help="encoder sweep renders: best CPU time of N")
    parser.add_argument("--skip-encoder-sweep", action="store_true")
    parser.add_argument(
        "--reframe-cost",
        action="store_true",
        help="only the reframe analysis against the encode (1080p face and faceless clips), merged into "
        "bench-results.json",
    )
    parser.add_argument(
        "--transcription-only",
        action="store_true",
        help="only the transcription models (tiny.en and base on the English fixtures, base on six other "
        "languages: WER, recovered words, detection, speed); stored in bench-results.json and the report redrawn "
        "when the file holds a full run",
    )
    parser.add_argument("--skip-transcription", action="store_true", help="keep the last transcription models run")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "bench-results.json"
    if args.report_only:
        write_report(Path(args.report), report(json.loads(results_path.read_text())))
        print(f"Wrote {args.report}")
        return 0
    if args.encoder_sweep:
        return _encoder_sweep_only(args, out, results_path)
    if args.reframe_cost:
        from bench.report_reframe import reframe_section

        stored = json.loads(results_path.read_text()) if results_path.exists() else {}
        stored["reframe_cost"] = run_reframe_cost(out / "work" / "reframe", args.repeat)
        return _store_partial(stored, results_path, Path(args.report), reframe_section)
    if args.transcription_only:
        return _transcription_only(args, out, results_path)

    started = time.perf_counter()
    raw: dict[str, Any] = {"machine": machine(), "load": [loadavg()]}
    print(
        f"Machine: {raw['machine']['cpu']}, {raw['machine']['usable_cores']} cores, load {raw['load'][0]}", flush=True
    )
    video = make_bench_video(out, args.source_seconds)
    raw["source"] = source_info(video)

    print("1/7 The job on the local stack", flush=True)
    raw["job"] = run_stack_job(
        video,
        out,
        render_concurrency=args.render_concurrency,
        api_seconds=args.api_seconds,
        api_rate=args.api_rate,
        clips=args.clips,
    )
    raw["clips"] = selected_clips(raw["job"]["events"], raw["job"]["result"])
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    print("2/7 The bare tools on the same work", flush=True)
    raw["bare"] = bare_tools(
        video,
        work,
        raw["clips"],
        raw["source"]["width"],
        raw["source"]["height"],
        ours_encodes=ours_runs(raw["job"]["children"], raw["clips"], "encode"),
        ours_frames=ours_runs(raw["job"]["children"], raw["clips"], "frames"),
        captions=raw["job"]["captured_files"],
        repeat=args.repeat,
    )
    print("3/7 The peer (MoviePy)", flush=True)
    width, height = raw["source"]["width"], raw["source"]["height"]
    raw["peer"] = "skipped (--skip-peer)" if args.skip_peer else peer_renders(video, work, raw["clips"], width, height)
    if not args.skip_face_job:
        print("   The job on footage with a face (a 4-minute 1080p talking head)", flush=True)
        raw["face_job"] = run_face_job(
            out, work / "face", render_concurrency=args.render_concurrency, clips=args.clips, repeat=args.repeat
        )
    print("4/7 Import time of the API module", flush=True)
    raw["import"] = import_time()
    # The load at the end of the measured run; the sweep that follows keeps its own (its encodes
    # would otherwise read as other work on the machine).
    raw["load"].append(loadavg())
    print("5/7 Encoder settings sweep", flush=True)
    previous = json.loads(results_path.read_text()) if results_path.exists() else {}
    if not args.skip_encoder_sweep:
        raw["encoder_sweep"] = run_encoder_sweep(video, work / "sweep", args.sweep_repeat)
        sample = natural_sample()
        if sample:
            print(f"  natural-content check on {sample.name}", flush=True)
            raw["encoder_sweep_checks"] = {
                sample.name: run_encoder_sweep(sample, work / "sweep", max(2, args.sweep_repeat))
            }
    if "encoder_sweep" not in raw and previous.get("encoder_sweep"):  # keep the last sweep, not lose the section
        raw["encoder_sweep"] = previous["encoder_sweep"]
    if "encoder_sweep_checks" not in raw and previous.get("encoder_sweep_checks"):
        raw["encoder_sweep_checks"] = previous["encoder_sweep_checks"]
    print("   Reframe analysis against the encode (1080p, faces and none)", flush=True)
    raw["reframe_cost"] = run_reframe_cost(work / "reframe", args.repeat)
    print("6/7 Transcription models on the speech fixtures (English and six other languages)", flush=True)
    if not args.skip_transcription:
        raw["transcription_models"] = run_transcription_models(work / "transcription")
    elif previous.get("transcription_models"):
        raw["transcription_models"] = previous["transcription_models"]
    raw["run_seconds"] = time.perf_counter() - started
    results_path.write_text(json.dumps(raw, indent=1, default=str))
    print("7/7 Report", flush=True)
    write_report(Path(args.report), report(raw))
    print(f"Wrote {args.report} and {results_path} in {raw['run_seconds'] / 60:.1f} min", flush=True)
    return 0


def _encoder_sweep_only(args: argparse.Namespace, out: Path, results_path: Path) -> int:
    """``--encoder-sweep``: the sweep alone, merged into bench-results.json."""
    if args.sweep_source:
        video = Path(args.sweep_source)
    else:
        video = out / f"bench-speech-{args.source_seconds}s-1280x720.mp4"
        if not video.exists():  # a 30 s sample made the same way, rather than 10 minutes for one clip
            video = make_bench_video(out, 30)
    print(f"Encoder settings sweep on {video.name}", flush=True)
    sweep = run_encoder_sweep(video, out / "work" / "sweep", args.sweep_repeat)
    raw = json.loads(results_path.read_text()) if results_path.exists() else {}
    if args.sweep_source:
        raw.setdefault("encoder_sweep_checks", {})[video.name] = sweep
    else:
        raw["encoder_sweep"] = sweep
        sample = natural_sample()
        if sample:
            print(f"Natural-content check on {sample.name}", flush=True)
            raw["encoder_sweep_checks"] = {
                sample.name: run_encoder_sweep(sample, out / "work" / "sweep", max(2, args.sweep_repeat))
            }
    return _store_partial(raw, results_path, Path(args.report), encoder_section)


def _transcription_only(args: argparse.Namespace, out: Path, results_path: Path) -> int:
    """``--transcription-only``: the transcription models alone, merged into bench-results.json."""
    from bench.report_transcription import transcription_section

    print("Transcription models on the speech fixtures", flush=True)
    models = run_transcription_models(out / "work" / "transcription")
    raw = json.loads(results_path.read_text()) if results_path.exists() else {}
    raw["transcription_models"] = models
    return _store_partial(raw, results_path, Path(args.report), transcription_section)


def _store_partial(raw: dict[str, Any], results_path: Path, report_path: Path, section: Any) -> int:
    """After one part of the bench ran alone: store the figures, and redraw the report when the
    stored results hold a full run (else print that part's tables)."""
    results_path.write_text(json.dumps(raw, indent=1, default=str))
    if "job" in raw:
        write_report(report_path, report(raw))
        print(f"Wrote {results_path} and {report_path}", flush=True)
    else:
        print(section(raw))
        print(f"Wrote {results_path} (no full run in it, so {report_path} is left as it is)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
