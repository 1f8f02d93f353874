"""The run: the bench video, the machine, the job on the local stack, the bare tools on the same work
and the MoviePy peer (``bench.peer``), each measured."""

from __future__ import annotations

import inspect
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.api import steady_load
from bench.ffargs import call_render_args, classify_ffmpeg, ffmpeg_exe, filter_files, option, replay_args, seek_of
from bench.fmt import fmt_ms, fmt_seconds
from bench.history import first_render_done, to_epoch
from bench.procs import ProcessSampler, host_cpu, read_file, run_measured, stolen_since
from chalicelib.adapters.s3 import source_key
from chalicelib.config import settings

SPEECH = ROOT / "tests" / "fixtures" / "speech_long.ogg"
FACE_SECONDS = 240  # of speech_long (250 s): the face job's source
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:klyph-local-pipeline:{}"
# How often the bench asks for a job's result: as often as our web UI does (README). The stack
# answers each poll on the two cores the job runs on (27 ms of CPU each, measured): a poll every
# 0.25 s took about a tenth of a core from the job, which on AWS no poll does (the API is a Lambda
# of its own). The figures come from the server's records, not from when a poll saw them.
POLL_SECONDS = 1.0


def make_bench_video(out_dir: Path, seconds: int, width: int = 1280, height: int = 720) -> Path:
    """The fixed benchmark input: the speech fixture looped to ``seconds`` over testsrc2 (cached)."""
    dst = out_dir / f"bench-speech-{seconds}s-{width}x{height}.mp4"
    if dst.exists():
        return dst
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".partial.mp4")
    print(f"Generating the {seconds} s benchmark video (once; cached as {dst.name}) ...", flush=True)
    subprocess.run(
        [
            ffmpeg_exe(),
            "-y",
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate=25",
            "-stream_loop",
            "-1",
            "-i",
            str(SPEECH),
            "-t",
            str(seconds),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "30",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            "-movflags",
            "+faststart",
            str(tmp),
        ],
        check=True,
    )
    tmp.rename(dst)
    return dst


def machine() -> dict[str, Any]:
    cpuinfo = read_file("/proc/cpuinfo") or ""
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    mem = read_file("/proc/meminfo") or ""
    total_kb = next((int(line.split()[1]) for line in mem.splitlines() if line.startswith("MemTotal")), 0)
    version = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gib": round(total_kb / 2**20, 1),
        "python": platform.python_version(),
        "ffmpeg": version[0] if version else "?",
        "os": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def free_port_pair() -> int:
    """A port P with P and P+1 free (the API and the AWS stand-in)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free pair of ports")


def run_stack_job(
    video: Path,
    out_dir: Path,
    *,
    render_concurrency: int,
    api_seconds: float,
    api_rate: float,
    clips: int,
    repeat_submit: bool = True,
) -> dict[str, Any]:
    """Upload ``video`` to a fresh local stack, submit at once and wait; then (``repeat_submit``)
    the same video again with other options, and (``api_seconds`` > 0) each route under load."""
    import boto3

    from devstack.client import LocalStackProcess

    port = free_port_pair()
    stack = LocalStackProcess(
        port,
        env={"KLYPH_RENDER_CONCURRENCY": str(render_concurrency), "KLYPH_LOG_LEVEL": "WARNING"},
        log_path=out_dir / "local-stack.log",
    )
    t_start = time.perf_counter()
    stack.start()
    startup = time.perf_counter() - t_start
    assert stack.proc is not None  # start() launched it
    capture_dir = out_dir / "captured"
    shutil.rmtree(capture_dir, ignore_errors=True)
    capture_dir.mkdir()
    captured: dict[str, str] = {}

    def capture(argv: list[str]) -> None:
        # A render's captions (and crop moves) live in a temp dir only while it runs: keep copies
        # so the bare phase can replay the very same encode.
        for path in filter_files(argv):
            if path not in captured and os.path.exists(path):
                copy = capture_dir / f"{len(captured):02d}-{os.path.basename(path)}"
                shutil.copyfile(path, copy)
                captured[path] = str(copy)

    sampler = ProcessSampler(stack.proc.pid, on_exec=capture).start()
    try:
        client = stack.client()
        project = client.create_project("Bench", stack.account_id)
        t0 = time.time()
        uploaded = client.upload_large(video, stack.account_id, project["id"])
        upload_seconds = time.time() - t0
        if uploaded.get("status") != "uploaded":
            raise RuntimeError(f"upload rejected: {uploaded}")
        # Captions off: the figure against the bare tools, which burn none. Submitted the
        # moment the upload is accepted: the job waits for the preparation the upload started.
        options = {"maxClips": clips, "minDuration": 30, "maxDuration": 60, "aspectRatio": "9:16", "captions": False}
        print(f"  uploaded in {upload_seconds:.1f} s; submitting {options}", flush=True)
        submitted = time.time()
        call_id = client.submit(uploaded["id"], **options)
        result, first_seen = _wait_watching(client, call_id, submitted)
        seen_done = time.time()
        if result["status"] != "succeeded":
            raise RuntimeError(f"job failed: {result.get('error')}")
        aws = {
            "endpoint_url": f"http://127.0.0.1:{port + 1}",
            "region_name": "us-east-1",
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }
        # The same boto3 download_file Prepare does, from this process: what moving the source out
        # of the stand-in's S3 costs on its own.
        s3_copy = out_dir / "source-download.tmp"
        t_dl = time.perf_counter()
        boto3.client("s3", **aws).download_file(
            settings().bucket, source_key(stack.account_id, uploaded["id"]), str(s3_copy)
        )
        s3_download = time.perf_counter() - t_dl
        s3_copy.unlink(missing_ok=True)
        sfn = boto3.client("stepfunctions", **aws)
        events = _history(sfn, call_id)
        done_at, first_ready = _finished(result, events, submitted)
        print(f"  done in {done_at - submitted:.1f} s (first clip ready at {first_ready:.1f} s)", flush=True)
        # The preparation the upload started (its own execution): its tasks are the job's
        # Prepare and transcription, for as long as the job waited for them.
        preparation_events = _history(sfn, f"prp_{uploaded['id']}")
        clips_view = client.list_clips(uploaded["id"])
        sampler.stop()

        repeat = _repeat_submit(client, sfn, uploaded["id"], options) if repeat_submit else None
        api = _api_latency(stack, uploaded["id"], call_id, api_rate, api_seconds) if api_seconds > 0 else {}
    finally:
        if sampler._thread.is_alive():
            sampler.stop()
        stack.stop()
    return {
        "port": port,
        "startup_seconds": startup,
        "upload_seconds": upload_seconds,
        "s3_download_seconds": s3_download,
        "submitted": submitted,
        "done_at": done_at,
        "seen_done": seen_done,
        "first_ready_seconds": first_ready,
        "first_seen_seconds": first_seen,
        "poll_seconds": POLL_SECONDS,
        "preparation_events": preparation_events,
        "repeat": repeat,
        "result": result,
        "clips_view": clips_view,
        "events": events,
        "samples": sampler.samples,
        "host_cpu": sampler.host,
        "children": [{**asdict(c), "seconds": c.seconds} for c in sampler.children.values()],
        "render_concurrency": render_concurrency,
        "captured_files": captured,
        "api": api,
    }


def run_face_job(out_dir: Path, work: Path, *, render_concurrency: int, clips: int, repeat: int) -> dict[str, Any]:
    """The issue's second figure, the whole job on footage with a face: a 4-minute 1080p talking
    head (camera-like H.264, keyframes every 2 s) uploaded and submitted at once, then the bare
    tools on the same work (extraction, faster-whisper, centre-crop renders of the same clips).
    The job's reframe is ``auto``: PlanReframe finds and follows the face."""
    from bench.analysis import selected_clips
    from bench.reframe_cost import talking_head

    video = talking_head(out_dir / f"talking-head-{FACE_SECONDS}s-1920x1080.mp4", FACE_SECONDS)
    source = source_info(video)
    job_dir = out_dir / "face-job"
    job_dir.mkdir(parents=True, exist_ok=True)
    job = run_stack_job(
        video,
        job_dir,
        render_concurrency=render_concurrency,
        api_seconds=0,
        api_rate=0,
        clips=clips,
        repeat_submit=False,
    )
    chosen = selected_clips(job["events"], job["result"])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    bare = bare_tools(video, work, chosen, source["width"], source["height"], repeat=repeat)
    return {"source": source, "job": job, "clips": chosen, "bare": bare}


def source_info(video: Path) -> dict[str, Any]:
    """What the report says of a bench source (ffmpeg -i exits non-zero with no output named:
    the probe is its stderr)."""
    from chalicelib.domain import media

    probe = subprocess.run([ffmpeg_exe(), *media.probe_args(str(video))], capture_output=True, text=True, check=False)
    info = media.parse_probe(probe.stderr, video.stat().st_size)
    assert info.width and info.height, f"{video.name} has a picture"
    return {
        "name": video.name,
        "seconds": info.duration_seconds,
        "bytes": info.size_bytes,
        "width": info.width,
        "height": info.height,
    }


def _repeat_submit(client: Any, sfn: Any, video_id: str, options: dict) -> dict[str, Any]:
    """The same video again with other instructions and durations: no preparation, no
    transcription; what is left is selection and the renders."""
    repeat_options = {
        **options,
        "minDuration": 20,
        "maxDuration": 45,
        "customInstructions": "the most surprising moments",
    }
    print(f"  repeated submit {repeat_options}", flush=True)
    host_before = host_cpu()
    submitted = time.time()
    call = client.submit(video_id, **repeat_options)
    result, first_seen = _wait_watching(client, call, submitted)
    seen_seconds = time.time() - submitted
    events = _history(sfn, call)
    done_at, first_ready = _finished(result, events, submitted)
    repeat = {
        "stolen_cores": stolen_since(host_before),
        "options": repeat_options,
        "status": result["status"],
        "clips": len(result.get("clips") or []),
        "seconds": done_at - submitted,
        "seen_seconds": seen_seconds,
        "first_ready_seconds": first_ready,
        "first_seen_seconds": first_seen,
        "events": events,
    }
    print(f"  repeated: done in {repeat['seconds']:.1f} s (first clip ready at {first_ready:.1f} s)", flush=True)
    return repeat


def _api_latency(stack: Any, video_id: str, call_id: str, rate: float, seconds: float) -> dict[str, Any]:
    """Each route under a steady request rate on the idle stack, one route at a time."""
    import requests

    print(f"  API latency: {rate:g} req/s for {seconds:g} s per route ...", flush=True)
    base, key = stack.base_url, stack.api_key

    def session() -> Any:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {key}"
        return s

    routes = {
        "GET /health": lambda s: s.get(f"{base}/health", timeout=30).status_code,
        "GET /dev/list-clips": lambda s: (
            s.get(f"{base}/dev/list-clips", params={"videoId": video_id}, timeout=30).status_code
        ),
        "GET /dev/video-summary": lambda s: (
            s.get(f"{base}/dev/video-summary", params={"videoId": video_id}, timeout=30).status_code
        ),
        "GET /dev/process-video-result": lambda s: (
            s.get(f"{base}/dev/process-video-result", params={"callId": call_id}, timeout=30).status_code
        ),
        "POST /dev/create-project": lambda s: (
            s.post(
                f"{base}/dev/create-project", timeout=30, json={"name": "Bench load", "accountId": stack.account_id}
            ).status_code
        ),
    }
    api = {}
    for name, send in routes.items():
        host_before = host_cpu()
        api[name] = steady_load(send, session, rate, seconds)
        api[name]["stolen_cores"] = stolen_since(host_before)
        print(f"    {name:32} p50 {fmt_ms(api[name]['p50']):>9}  p99 {fmt_ms(api[name]['p99']):>9}", flush=True)
    return api


def _finished(result: dict, events: list[dict], submitted: float) -> tuple[float, float]:
    """(when the job was done, seconds from ``submitted`` to its first ready clip), from the
    server's own records: the result's finishedAt, written when the job's record says done, and
    the first RenderClip to succeed. A poll sees either up to POLL_SECONDS later."""
    done_at = to_epoch(result["finishedAt"])
    first = first_render_done(events)
    return done_at, (first if first is not None else done_at) - submitted


def _wait_watching(client: Any, call_id: str, submitted: float) -> tuple[dict, float]:
    """The call's result, polled every POLL_SECONDS with its stage printed, and when a poll first
    saw a clip ready (seconds after ``submitted``: the poll's clipsDone counts each clip as it is
    done)."""
    last: list[Any] = [None]
    first_ready: list[float | None] = [None]

    def progress(body: dict) -> None:
        line = body.get("stage")
        done = (body.get("progress") or {}).get("clipsDone") or 0
        if done and first_ready[0] is None:
            first_ready[0] = time.time() - submitted
        if body.get("progress"):
            line = f"{line} {body['progress']['clipsDone']}/{body['progress']['clipsTotal']}"
        if line != last[0]:
            print(f"  [{time.time() - submitted:6.1f} s] {line}", flush=True)
            last[0] = line

    result = client.wait(call_id, timeout=3600, interval=POLL_SECONDS, on_progress=progress)
    # A job done between two polls: its first clip was ready by then at the latest.
    return result, first_ready[0] if first_ready[0] is not None else time.time() - submitted


def _history(sfn: Any, name: str) -> list[dict]:
    """The execution ``name``'s whole history, each event's timestamp in seconds since the epoch
    (the form the analysis and the stored results use)."""
    events: list[dict] = []
    token = None
    while True:
        page = sfn.get_execution_history(executionArn=EXECUTION_ARN.format(name), maxResults=1000,
                                         **({"nextToken": token} if token else {}))
        events += [{**e, "timestamp": to_epoch(e["timestamp"])} for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            return events


def bare_tools(
    video: Path,
    work: Path,
    clips: list[dict],
    width: int,
    height: int,
    ours_encodes: dict[int, list[str]] | None = None,
    ours_frames: dict[int, list[str]] | None = None,
    captions: dict[str, str] | None = None,
    repeat: int = 2,
) -> dict[str, Any]:
    from chalicelib.domain import media

    exe = ffmpeg_exe()
    out: dict[str, Any] = {}
    probes = [run_measured([exe, *media.probe_args(str(video))]) for _ in range(max(3, repeat))]
    out["probe"] = min(probes, key=lambda r: r["seconds"])
    wav, levels = work / "audio.wav", work / "audio.levels.txt"
    out["extract_audio"] = min(
        (
            run_measured([exe, *media.extract_audio_args(str(video), str(wav), str(levels))])
            for _ in range(max(1, repeat))
        ),
        key=lambda r: r["seconds"],
    )
    if out["extract_audio"]["returncode"] != 0:
        raise RuntimeError(f"the bare audio extraction failed: {out['extract_audio']['output_tail'][-500:]}")
    print(
        f"  bare probe {fmt_seconds(out['probe']['seconds'])}, audio extraction "
        f"{fmt_seconds(out['extract_audio']['seconds'])}",
        flush=True,
    )
    whisper_json = work / "whisper.json"
    out["whisper"] = run_measured(
        [sys.executable, "-m", "bench", "whisper-bare", str(wav), str(whisper_json)], cwd=ROOT
    )
    if out["whisper"]["returncode"] != 0:
        raise RuntimeError(f"bare faster-whisper failed: {out['whisper']['output_tail'][-500:]}")
    out["whisper"].update(json.loads(whisper_json.read_text()))
    print(
        f"  bare faster-whisper: load {fmt_seconds(out['whisper']['load_seconds'])}, "
        f"transcribe {fmt_seconds(out['whisper']['transcribe_seconds'])}",
        flush=True,
    )
    renders = []
    for clip in clips:
        dst = work / f"bare-{clip['index']:02d}.mp4"
        known = {
            "src": str(video),
            "dst": str(dst),
            "start": clip["start"],
            "end": clip["end"],
            "aspect": clip["aspect"],
            "width": width,
            "height": height,
        }
        variants: dict[str, tuple[list[str], dict | None]] = {
            "bare": ([exe, *call_render_args(media.render_args, **known)], None)
        }
        frames = (ours_frames or {}).get(clip["index"])
        if frames:
            # The frames reframe reads, decoded alone into a file: what ffmpeg costs of the analysis
            # (the rest of its lifetime in the task is Python detecting faces while ffmpeg waits).
            dst_f = work / f"frames-{clip['index']:02d}.raw"
            variants["frames_decode_alone"] = (
                [exe, *replay_args(frames, src=str(video), dst=str(dst_f), captions={}, filter_path=media.filter_path)],
                None,
            )
        ours = (ours_encodes or {}).get(clip["index"])
        if ours:
            # Two steps from the bare command to ours, to put a price on each: our audio chain,
            # then our exact main encode replayed alone (audio chain, captions, reframe's crop moves).
            audio_filter = option(ours, "-af")
            if audio_filter and "audio_filter" in inspect.signature(media.render_args).parameters:
                dst_a = work / f"bare-audio-{clip['index']:02d}.mp4"
                variants["with_audio_chain"] = (
                    [
                        exe,
                        *call_render_args(media.render_args, **{**known, "dst": str(dst_a)}, audio_filter=audio_filter),
                    ],
                    None,
                )
            if all(path in (captions or {}) for path in filter_files(ours)):
                from chalicelib.adapters.ffmpeg import FONTCONFIG_FILE

                dst_o = work / f"ours-encode-{clip['index']:02d}.mp4"
                args = replay_args(
                    ours, src=str(video), dst=str(dst_o), captions=captions or {}, filter_path=media.filter_path
                )
                variants["ours_encode_alone"] = ([exe, *args], {**os.environ, "FONTCONFIG_FILE": FONTCONFIG_FILE})
        # Interleaved and best of ``repeat``: on a shared machine the load drifts between runs.
        best: dict[str, dict] = {}
        for _ in range(max(1, repeat)):
            for name, (cmd, env) in list(variants.items()):
                run = run_measured(cmd, env=env)
                if run["returncode"] != 0:
                    if name == "bare":
                        raise RuntimeError(f"the bare render failed: {run['output_tail'][-500:]}")
                    print(f"  ({name} failed, left out: {run['output_tail'][-200:].strip()})", flush=True)
                    variants.pop(name)
                    best.pop(name, None)
                    continue
                if name not in best or run["seconds"] < best[name]["seconds"]:
                    best[name] = run
        r = best.pop("bare")
        r["bytes"] = dst.stat().st_size if dst.exists() else 0
        r.update(best)
        renders.append(r)
        print(
            f"  render {clip['index']}: "
            + ", ".join(f"{k} {fmt_seconds(v['seconds'])}" for k, v in [("bare", r), *best.items()]),
            flush=True,
        )
    out["renders"] = renders
    out["repeat"] = repeat
    return out


def ours_runs(children: list[dict], clips: list[dict], kind: str) -> dict[int, list[str]]:
    """The ffmpeg run of ``kind`` the stack made for each clip (matched by its seek), argv without the binary."""
    found = {}
    for child in children:
        argv = child["argv"]
        if not argv or classify_ffmpeg(argv) != kind:
            continue
        ss = seek_of(argv)
        for clip in clips:
            if ss is not None and abs(clip["start"] - ss) < 0.02:
                found[clip["index"]] = argv[1:]
    return found


def peer_renders(video: Path, work: Path, clips: list[dict], width: int, height: int) -> list[dict] | str:
    try:
        import moviepy  # noqa: F401 - only whether it is installed
    except ImportError:
        return "moviepy is not installed (pip install -r tests/requirements.txt)"
    from chalicelib.domain.media import crop_box, output_size

    runs = []
    for clip in clips:
        cw, ch, cx, cy = crop_box(width, height, clip["aspect"])
        ow, oh = output_size(width, height, clip["aspect"])
        dst, report = work / f"peer-{clip['index']:02d}.mp4", work / f"peer-{clip['index']:02d}.json"
        r = run_measured(
            [
                sys.executable,
                "-m",
                "bench.peer",
                str(video),
                str(dst),
                str(report),
                "--start",
                f"{clip['start']:.3f}",
                "--end",
                f"{clip['end']:.3f}",
                "--crop",
                f"{cw}:{ch}:{cx}:{cy}",
                "--size",
                f"{ow}:{oh}",
                "--preset",
                "veryfast",
                "--threads",
                "2",
            ],
            cwd=ROOT,
        )
        if r["returncode"] != 0:
            return f"MoviePy failed: {r['output_tail'][-400:]}"
        r.update(json.loads(report.read_text()))
        r["bytes"] = dst.stat().st_size
        runs.append(r)
        print(f"  MoviePy clip {clip['index']}: {fmt_seconds(r['work_seconds'])}", flush=True)
    return runs


def whisper_bare(wav: str, out_json: str) -> int:
    """faster-whisper alone, with chalicelib/adapters/whisper.py's settings (run in a child process)."""
    t0 = time.perf_counter()
    from faster_whisper import WhisperModel

    from chalicelib.config import settings

    t_import = time.perf_counter() - t0
    from chalicelib.adapters.whisper_models import resolve

    cfg = settings()
    model = resolve(cfg.whisper_model)  # a model name to its local files, as the adapter does: no hub
    t1 = time.perf_counter()
    whisper = WhisperModel(model, device="cpu", compute_type=cfg.whisper_compute_type, cpu_threads=cfg.whisper_threads)
    t_load = time.perf_counter() - t1
    t2 = time.perf_counter()
    segments, info = whisper.transcribe(
        wav, language="en", beam_size=1, word_timestamps=True, vad_filter=True, condition_on_previous_text=False
    )
    words = sum(len(seg.words or ()) for seg in segments)  # decoding happens while iterating
    t_tx = time.perf_counter() - t2
    Path(out_json).write_text(
        json.dumps(
            {
                "import_seconds": t_import,
                "load_seconds": t_load,
                "transcribe_seconds": t_tx,
                "words": words,
                "audio_seconds": float(info.duration),
                "compute_type": cfg.whisper_compute_type,
                "threads": cfg.whisper_threads,
            }
        )
    )
    return 0
