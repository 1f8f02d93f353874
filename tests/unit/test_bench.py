"""The pure parts of `make bench`: percentiles, stage times from an execution history, formatting,
the arithmetic of the scale section, and the report's tables and the hand-written text kept around
them. Nothing here starts a process."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bench import api, encoder, ffargs, fmt, history, procs, report, report_encoder, scale

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class History:
    """Builds a Step Functions history the way the interpreter writes it: each event names the
    previous event of its own thread, so concurrent Map iterations form separate chains."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def add(self, kind: str, t: float, prev: int, **details: object) -> int:
        event = {"id": len(self.events) + 1, "previousEventId": prev, "type": kind, "timestamp": at(t)}
        if details:
            event[kind[0].lower() + kind[1:] + "EventDetails"] = dict(details)
        self.events.append(event)
        return event["id"]

    def task(self, name: str, start: float, end: float, prev: int, output: str | None = None) -> int:
        entered = self.add("TaskStateEntered", start, prev, name=name)
        scheduled = self.add("LambdaFunctionScheduled", start + 0.001, entered)
        started = self.add("LambdaFunctionStarted", start + 0.002, scheduled)
        done = self.add("LambdaFunctionSucceeded", end, started, **({"output": output} if output else {}))
        return self.add("TaskStateExited", end + 0.001, done, name=name)


def pipeline_history(render_times: list[tuple[float, float]]) -> list[dict]:
    """Prepare 0-2 s, transcribe 2-10 s, select 10-11 s, renders (may overlap), finalize."""
    h = History()
    last = h.add("ExecutionStarted", 0.0, 0)
    last = h.task("Prepare", 0.0, 2.0, last)
    last = h.task("StartTranscription", 2.01, 10.0, last)
    last = h.task(
        "SelectClips",
        10.01,
        11.0,
        last,
        output='{"clips":[{"index":0,"start":1.5,"end":40.0},{"index":1,"start":100.0,"end":150.0}],'
        '"options":{"aspectRatio":"9:16"}}',
    )
    map_entered = h.add("MapStateEntered", 11.01, last, name="RenderClips")
    map_started = h.add("MapStateStarted", 11.01, map_entered)
    ends = []
    # Interleave the iterations' events in time order, as concurrent iterations do.
    chains = {}
    for index, (start, _) in enumerate(render_times):
        chains[index] = h.add("MapIterationStarted", start - 0.005, map_started, name="RenderClips", index=index)
    for index, (start, end) in enumerate(render_times):
        exited = h.task("RenderClip", start, end, chains[index])
        ends.append(h.add("MapIterationSucceeded", end + 0.002, exited, name="RenderClips", index=index))
    last_end = max(e for _, e in render_times)
    map_done = h.add("MapStateSucceeded", last_end + 0.01, ends[-1])
    last = h.add("MapStateExited", last_end + 0.011, map_done, name="RenderClips")
    last = h.task("Finalize", last_end + 0.02, last_end + 0.1, last)
    h.add("ExecutionSucceeded", last_end + 0.12, last)
    return h.events


def test_percentile_interpolates_like_numpy():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert api.percentile(values, 0) == 1.0
    assert api.percentile(values, 50) == 3.0
    assert api.percentile(values, 100) == 5.0
    assert api.percentile(values, 25) == 2.0
    assert api.percentile([1.0, 2.0], 99) == pytest.approx(1.99)
    assert api.percentile([7.0], 99) == 7.0


def test_percentile_rejects_nothing_and_bad_ranks():
    with pytest.raises(ValueError):
        api.percentile([], 50)
    with pytest.raises(ValueError):
        api.percentile([1.0], 101)


def test_p99_of_a_hundred_samples_sits_near_the_worst():
    values = [float(i) for i in range(1, 101)]  # 1..100
    assert api.percentile(values, 99) == pytest.approx(99.01)
    assert api.percentile(values, 50) == pytest.approx(50.5)


def test_task_spans_pair_each_task_with_its_own_end_even_when_iterations_overlap():
    events = pipeline_history([(11.1, 20.0), (11.2, 15.0)])  # iteration 1 finishes first
    spans = history.task_spans(events)
    names = [(s.name, s.index) for s in spans]
    assert names == [
        ("Prepare", None),
        ("StartTranscription", None),
        ("SelectClips", None),
        ("RenderClip", 0),
        ("RenderClip", 1),
        ("Finalize", None),
    ]
    by = {(s.name, s.index): s for s in spans}
    assert by[("Prepare", None)].seconds == pytest.approx(2.0 - 0.001)
    assert by[("RenderClip", 0)].seconds == pytest.approx(20.0 - 11.101)
    assert by[("RenderClip", 1)].seconds == pytest.approx(15.0 - 11.201)
    assert all(s.status == "succeeded" for s in spans)


def test_state_spans_include_the_map_as_a_whole():
    events = pipeline_history([(11.1, 20.0), (11.2, 15.0)])
    spans = {(s.name, s.index): s for s in history.state_spans(events)}
    t0 = T0.timestamp()
    assert spans[("RenderClips", None)].start - t0 == pytest.approx(11.01)
    assert spans[("RenderClips", None)].end - t0 == pytest.approx(20.011)
    assert spans[("RenderClip", 1)].seconds == pytest.approx(15.001 - 11.2)


def test_failed_task_attempts_are_spans_too():
    h = History()
    start = h.add("ExecutionStarted", 0, 0)
    entered = h.add("TaskStateEntered", 0, start, name="Prepare")
    scheduled = h.add("LambdaFunctionScheduled", 0.1, entered)
    started = h.add("LambdaFunctionStarted", 0.1, scheduled)
    h.add("LambdaFunctionFailed", 0.6, started)
    spans = history.task_spans(h.events)
    assert [(s.name, s.status) for s in spans] == [("Prepare", "failed")]
    assert spans[0].seconds == pytest.approx(0.5)


def test_orchestration_is_the_wall_time_no_task_covered():
    events = pipeline_history([(11.1, 20.0), (11.2, 15.0)])
    spans = history.task_spans(events)
    execution = history.execution_span(events)
    submitted = T0.timestamp() - 0.3
    seen = execution.end + 0.2
    o = history.orchestration(spans, execution, submitted, seen)
    assert o["before_execution"] == pytest.approx(0.3)
    assert o["after_execution"] == pytest.approx(0.2)
    # Overlapping renders count once: covered = 1.999 + 7.99 + 0.99 + (20 - 11.101) + 0.08
    covered = (2.0 - 0.001) + (10.0 - 2.011) + (11.0 - 10.011) + (20.0 - 11.101) + (20.1 - 20.021)
    assert o["covered_by_tasks"] == pytest.approx(covered)
    assert o["overhead"] == pytest.approx(o["wall"] - covered)
    assert o["overhead"] == pytest.approx(o["before_execution"] + o["inside_execution"] + o["after_execution"])
    assert o["inside_execution"] > 0


def test_event_counts_split_fixed_and_per_clip():
    events = pipeline_history([(11.1, 20.0), (11.2, 15.0), (11.3, 12.0)])
    counts = history.event_counts(events)
    # Each iteration: MapIterationStarted, 5 task events, MapIterationSucceeded.
    assert counts["iterations"] == 3
    assert counts["per_iteration"] == 7
    assert counts["transitions_per_iteration"] == 1
    assert counts["fixed"] == counts["total"] - 21
    assert counts["fixed_transitions"] == 5  # Prepare, StartTranscription, SelectClips, RenderClips, Finalize


def test_task_output_and_stage_spans():
    events = pipeline_history([(11.1, 20.0)])
    assert '"index":1' in history.task_output(events, "SelectClips")
    assert history.task_output(events, "Nothing") is None
    spans = history.stage_spans(
        {
            "queued": "2026-01-01T12:00:00.000Z",
            "preparing": "2026-01-01T12:00:00.500Z",
            "transcribing": "2026-01-01T12:00:02.000Z",
        },
        "2026-01-01T12:00:10.000Z",
    )
    assert [(s.name, round(s.seconds, 3)) for s in spans] == [
        ("queued", 0.5),
        ("preparing", 1.5),
        ("transcribing", 8.0),
    ]


def test_merge_intervals():
    assert history.merge_intervals([(5, 6), (1, 3), (2, 4), (6, 7)]) == [(1, 4), (5, 7)]
    assert history.covered_seconds([(0, 1), (0.5, 2), (3, 4)]) == 3


def test_formatting():
    assert fmt.fmt_ratio(3.0, 2.0) == "1.50×"
    assert fmt.fmt_ratio(25.0, 2.0) == "12.5×"
    assert fmt.fmt_ratio(1.0, 0) == "—"
    assert fmt.fmt_ratio(None, 2.0) == "—"
    assert fmt.fmt_seconds(0.0421) == "42 ms"
    assert fmt.fmt_seconds(1.234) == "1.23 s"
    assert fmt.fmt_seconds(12.34) == "12.3 s"
    assert fmt.fmt_seconds(123.4) == "123 s"
    assert fmt.fmt_seconds(None) == "—"
    assert fmt.fmt_ms(0.0123) == "12.3 ms"
    assert fmt.fmt_ms(0.456) == "456 ms"
    assert fmt.fmt_mib(3 * 2**20) == "3 MiB"
    assert fmt.fmt_usd(1.4412) == "$1.44"
    assert fmt.fmt_usd(0.0123) == "$0.012"
    assert fmt.fmt_usd(0.000231) == "$0.00023"


def test_md_table_escapes_pipes_and_aligns():
    table = fmt.md_table(["a", "b"], [["x|y", 1]])
    assert table.splitlines() == ["| a | b |", "| :--- | ---: |", "| x\\|y | 1 |"]


def test_parse_importtime_reads_the_module_and_its_heaviest_direct_imports():
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        100 |       botocore.x",
            "import time:       200 |     200000 |     boto3",
            "import time:      1000 |     250000 |   chalicelib.services.auth",
            "import time:       500 |      60000 |   chalicelib.models",
            "import time:      3000 |     320000 | app",
        ]
    )
    total, top = api.parse_importtime(stderr, "app")
    assert total == pytest.approx(0.32)
    assert top == [("chalicelib.services.auth", 0.25), ("chalicelib.models", 0.06)]
    assert api.package_import_times(stderr, ("boto3",)) == {"boto3": 0.2}
    assert api.parse_importtime(stderr, "nothing") == (None, [])


def test_classify_ffmpeg_runs_and_replay():
    from chalicelib.domain import media

    render = media.render_args(
        "/s/src",
        "/t/clip.mp4",
        start=12.5,
        end=40,
        aspect="9:16",
        width=1280,
        height=720,
        captions="/t/captions.ass",
        fonts_dir="/f",
    )
    assert ffargs.classify_ffmpeg(["ffmpeg", *render]) == "encode"
    assert ffargs.seek_of(render) == 12.5
    assert ffargs.filter_files(render) == ["/t/captions.ass"]
    assert (
        ffargs.classify_ffmpeg(["ffmpeg", *media.extract_audio_args("/s/src", "/t/a.wav", "/t/l.txt")])
        == "extract_audio"
    )
    assert ffargs.classify_ffmpeg(["ffmpeg", *media.probe_args("/s/src")]) == "probe"
    assert ffargs.classify_ffmpeg(["ffmpeg", *media.probe_args("/t/clip.mp4")]) == "probe_clip"
    assert ffargs.classify_ffmpeg(["ffmpeg", *media.loudness_args("/s/src", start=1, end=2)]) == "loudness"
    assert ffargs.classify_ffmpeg(["ffmpeg", *media.thumbnail_args("/t/clip.mp4", "/t/t.jpg", at=3)]) == "thumbnail"
    sampling = ["-ss", "21.000", "-t", "30.000", "-i", "file:/s/src", "-vf", "fps=4,format=gray", "-f", "rawvideo", "-"]
    assert ffargs.classify_ffmpeg(["ffmpeg", *sampling]) == "frames"
    assert ffargs.replay_args(sampling, src="/b/v.mp4", dst="/b/f.raw", captions={}, filter_path=media.filter_path)[
        -1
    ] == ("file:/b/f.raw")
    replay = ffargs.replay_args(
        render,
        src="/b/video.mp4",
        dst="/b/out.mp4",
        captions={"/t/captions.ass": "/b/c.ass"},
        filter_path=media.filter_path,
    )
    assert "file:/b/video.mp4" in replay and replay[-1] == "file:/b/out.mp4"
    assert ffargs.filter_files(replay) == ["/b/c.ass"]
    moving = media.render_args(
        "/s/src",
        "/t/clip.mp4",
        start=1,
        end=2,
        aspect="9:16",
        width=1280,
        height=720,
        crop_commands="/t/crop:moves.txt",
    )
    assert ffargs.filter_files(moving) == ["/t/crop:moves.txt"]  # escaped in the graph, read back unescaped
    assert len(replay) == len(render)


def test_call_render_args_passes_what_is_required_and_refuses_unknown_requirements():
    def fn(src, dst, *, start, end, aspect, width, height, preset="veryfast"):
        return [src, dst, str(start), str(end), aspect, str(width), str(height), preset]

    known = {"src": "s", "dst": "d", "start": 1, "end": 2, "aspect": "9:16", "width": 10, "height": 20}
    assert ffargs.call_render_args(fn, **known) == ["s", "d", "1", "2", "9:16", "10", "20", "veryfast"]

    def grown(src, dst, *, start, end, aspect, width, height, fps):
        return []

    with pytest.raises(TypeError, match="fps"):
        ffargs.call_render_args(grown, **known)


def scale_inputs(**overrides: object) -> scale.ScaleInputs:
    values = {
        "source_seconds": 600,
        "source_bytes": 300_000_000,
        "prepare_media_seconds": 1.0,
        "select_seconds": 1.0,
        "finalize_seconds": 0.05,
        "render_seconds_per_clip_second": 0.2,
        "clip_mean_seconds": 45.0,
        "clip_bytes_per_second": 100_000.0,
        "whisper_rtf": 0.05,
        "whisper_load_seconds": 2.0,
        "events_fixed": 28,
        "events_per_clip": 7,
        "transitions_fixed": 6,
        "transitions_per_clip": 1,
        "select_output_bytes": 1000,
        "select_bytes_per_clip": 80,
        "map_result_bytes_per_clip": 30,
    }
    values.update(overrides)
    return scale.ScaleInputs(**values)


def test_scale_on_paper_arithmetic():
    s = scale.scale_on_paper(scale_inputs(), hours=1.0, clips=10)
    wav_upload = 3600 * 32000 / 100e6
    # cold start + 1.8 GB at 100 MB/s + 1 s of ffmpeg per 600 s -> x6 + the WAV upload
    assert s["stages"]["prepare"] == pytest.approx(1.5 + 18.0 + 6.0 + wav_upload)
    assert s["stages"]["render_download"] == pytest.approx(1.8e9 / 100e6)
    assert s["stages"]["render (slowest clip, all in parallel)"] == pytest.approx(1.5 + 18.0 + 9.0)
    assert s["cost"]["transcribe"] == pytest.approx(60 * 0.024)
    assert s["stages"]["whisper_on_lambda"] == pytest.approx(2.0 + 0.05 * 3600 + wav_upload)
    polls = 120  # 0.5 x 3600 s / 15 s
    assert s["transitions"] == pytest.approx(6 + 10 + 3 * polls)
    assert s["cost"]["step_functions"] == pytest.approx(s["transitions"] / 1000 * 0.025)
    assert s["events"] == pytest.approx(28 + 70 + 9 * polls)
    gb = scale.MEDIA_LAMBDA_MB / 1024
    assert s["lambda_gb_s"]["renders"] == pytest.approx(10 * 28.5 * gb)
    assert s["cost"]["total"] == pytest.approx(
        s["cost"]["transcribe"] + s["cost"]["lambda"] + s["cost"]["step_functions"] + s["cost"]["s3_requests"]
    )


def test_scale_limits():
    lim = scale.scale_on_paper(scale_inputs(), hours=1.0, clips=10)["limits"]
    # History: 25,000 - 28 fixed - 9 events x 480 polls (4 h transcribed in 0.5x = 2 h, every 15 s), 7 per clip.
    assert lim["clips_by_events"] == int((25000 - 28 - 9 * 480) / 7)
    # Payload: 256 KiB minus the state without its clips, 80 + 30 bytes per clip.
    assert lim["clips_by_payload"] == int((256 * 1024 - (1000 - 240)) / 110)
    # 1 s of ffmpeg + 3 s of download per 600 s of source
    assert lim["max_source_for_prepare_in_one_lambda_s"] == pytest.approx(900 / (4.0 / 600))
    assert lim["max_audio_for_whisper_in_one_lambda_s"] == pytest.approx((900 - 2) / 0.05)
    assert lim["concurrent_jobs_by_lambda"] == 100


# --- the encoder settings sweep ------------------------------------------------------------

QUALITY_STDERR = """\
  Stream #0:0 (h264) -> ssim
[Parsed_libvmaf_4 @ 0x7f8a84003e80] VMAF score: 99.025330
[Parsed_psnr_3 @ 0x7f8a840038c0] PSNR y:44.509453 u:43.240053 v:43.461612 average:44.087399 min:42.608971 max:48.915813
[Parsed_ssim_2 @ 0x7f8a84003340] SSIM Y:0.996991 (25.215558) U:0.995471 (23.440012) V:0.993324 (21.754850) \
All:0.996126 (24.118861)
[out#0/null @ 0x55e741dbb600] video:5440KiB audio:0KiB subtitle:0KiB other streams:0KiB global headers:0KiB \
muxing overhead: unknown
"""


def test_parse_quality_reads_the_ssim_psnr_and_vmaf_summaries():
    q = encoder.parse_quality(QUALITY_STDERR)
    assert q == {"ssim": 0.996126, "ssim_y": 0.996991, "psnr": 44.087399, "psnr_y": 44.509453, "vmaf": 99.02533}
    identical = encoder.parse_quality(
        "[Parsed_psnr_1 @ 0x1] PSNR y:inf u:inf v:inf average:inf min:inf max:inf\n"
        "[Parsed_ssim_0 @ 0x2] SSIM Y:1.000000 (inf) U:1.000000 (inf) V:1.000000 (inf) All:1.000000 (inf)\n"
    )
    assert identical["ssim"] == 1.0 and identical["psnr"] == float("inf") and identical["vmaf"] is None
    nothing = dict.fromkeys(["ssim", "ssim_y", "psnr", "psnr_y", "vmaf"])
    assert encoder.parse_quality("Error opening input file") == nothing


def test_parse_stream_bytes_reads_the_closing_size_line():
    assert encoder.parse_stream_bytes(QUALITY_STDERR) == {"video": 5440 * 1024, "audio": 0}
    old = "video:2048kB audio:160kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: 0.5%"
    assert encoder.parse_stream_bytes(old) == {"video": 2048 * 1024, "audio": 160 * 1024}
    assert encoder.parse_stream_bytes("frame=  750 fps=0.0") is None


def test_quality_args_compare_in_one_pass_and_can_cut_the_source_into_a_reference():
    args = encoder.quality_args("/w/d.mp4", "/w/r.mp4", vmaf=True)
    graph = args[args.index("-lavfi") + 1]
    assert args[args.index("-i") + 1] == "file:/w/d.mp4"  # the distorted file is the first input
    assert graph.startswith("[0:v]split=3[d0][d1][d2];[1:v]split=3[r0][r1][r2];")
    assert graph.endswith(f"[d0][r0]ssim;[d1][r1]psnr;[d2][r2]libvmaf=n_threads=2:n_subsample={encoder.VMAF_SUBSAMPLE}")
    assert args[-3:] == ["-f", "null", "-"]

    plain = encoder.quality_args(
        "/w/d.mp4", "/s/src.mp4", vmaf=False, reference_seek=(60, 30), reference_filter="crop=1:2"
    )
    graph = plain[plain.index("-lavfi") + 1]
    assert "libvmaf" not in graph and graph.startswith("[0:v]split=2[d0][d1];[1:v]crop=1:2,split=2[r0][r1];")
    second = [i for i, a in enumerate(plain) if a == "-i"][1]
    assert plain[second - 4: second] == ["-ss", "60.000", "-t", "30.000"]  # the seek applies to the reference only
    assert plain[second + 1] == "file:/s/src.mp4"


def test_has_filter_reads_the_filter_listing():
    listing = (
        "Filters:\n  T.. = Timeline support\n ------\n"
        " .. libvmaf           VV->V      Calculate the VMAF between two video streams.\n"
        " .. vmafmotion        V->V       Calculate the VMAF Motion score.\n"
    )
    assert encoder.has_filter(listing, "libvmaf")
    assert encoder.has_filter(listing, "vmafmotion")
    assert not encoder.has_filter(listing, "vmaf")


def sweep_row(preset: str, crf: int, cpu: float, kbps: float, ssim: float) -> dict:
    return {"preset": preset, "crf": crf, "cpu_seconds": cpu, "video_kbps": kbps, "ssim": ssim}


# Shaped like the measured sweep of the synthetic bench source: everything clears the floor.
SYNTHETIC = [
    sweep_row("ultrafast", 23, 2.5, 1485, 0.997),
    sweep_row("superfast", 23, 3.3, 1026, 0.998),
    sweep_row("veryfast", 23, 4.0, 550, 0.996),
    sweep_row("faster", 23, 5.5, 615, 0.9966),
    sweep_row("medium", 23, 6.7, 599, 0.9971),
    sweep_row("veryfast", 20, 4.05, 724, 0.9974),
    sweep_row("veryfast", 22, 3.95, 606, 0.9966),
    sweep_row("veryfast", 26, 3.9, 400, 0.994),
]


def test_encoder_verdicts_hold_the_floor_and_cap_the_bitrate_against_medium():
    verdicts = encoder.encoder_verdicts(SYNTHETIC)
    assert verdicts["ultrafast/23"] == "bitrate > 1.25× medium"  # 1485 > 1.25 × 599
    assert verdicts["superfast/23"] == "bitrate > 1.25× medium"
    assert verdicts["veryfast/23"] == verdicts["medium/23"] == "passes"
    assert verdicts["veryfast/20"] == "passes"  # no medium at crf 20: no cap
    assert encoder.encoder_verdicts(SYNTHETIC, ssim_floor=0.995)["veryfast/26"] == "SSIM below 0.995"
    assert encoder.encoder_verdicts(SYNTHETIC, bitrate_slack=3)["ultrafast/23"] == "passes"


def test_choose_encoder_keeps_a_passing_default_when_nothing_is_clearly_faster():
    choice = encoder.choose_encoder(SYNTHETIC, current=("veryfast", 23))
    assert choice["chosen"] == {"preset": "veryfast", "crf": 23} and not choice["change"]
    assert choice["why"] == "nothing clearly faster"


def test_choose_encoder_takes_a_clearly_faster_setting_that_passes():
    roomy = encoder.choose_encoder(SYNTHETIC, current=("veryfast", 23), bitrate_slack=2.0)
    # superfast now passes the cap and saves 18%; ultrafast (2.5× medium) still does not.
    assert roomy["chosen"] == {"preset": "superfast", "crf": 23} and roomy["change"]
    assert roomy["why"] == "clearly faster"


def test_choose_encoder_replaces_a_failing_default_with_the_fewest_bits_among_the_fastest():
    natural = [
        sweep_row("ultrafast", 23, 0.66, 2002, 0.9723),
        sweep_row("superfast", 23, 0.85, 811, 0.9817),
        sweep_row("veryfast", 23, 1.06, 503, 0.9784),
        sweep_row("faster", 23, 1.53, 606, 0.9827),
        sweep_row("medium", 23, 2.17, 657, 0.9848),
        sweep_row("veryfast", 20, 1.13, 791, 0.9849),
        sweep_row("veryfast", 22, 1.10, 583, 0.9809),
        sweep_row("veryfast", 26, 0.99, 326, 0.9686),
    ]
    alone = encoder.choose_encoder(natural, current=("veryfast", 23))
    # superfast/23 (811 <= 1.25 × 657) is the fastest that passes here.
    assert alone["chosen"] == {"preset": "superfast", "crf": 23}
    assert alone["verdicts"]["veryfast/23"] == "SSIM below 0.98"
    assert alone["why"] == "default fails"

    # Across both sources superfast/23 fails the synthetic one's cap; of veryfast/22 and /20 (within 10%
    # of each other) the one with fewer bits wins.
    both = encoder.choose_encoder(SYNTHETIC, current=("veryfast", 23), checks=[("bbb.mp4", natural)])
    assert both["chosen"] == {"preset": "veryfast", "crf": 22} and both["change"]
    assert both["verdicts"]["veryfast/23"] == "SSIM below 0.98 on bbb.mp4"
    assert both["verdicts"]["superfast/23"] == "bitrate > 1.25× medium"
    assert both["verdicts"]["veryfast/20"] == "passes"

    partial = encoder.choose_encoder(SYNTHETIC, current=("veryfast", 23), checks=[("bbb.mp4", natural[:5])])
    assert partial["verdicts"]["veryfast/22"] == "not measured on bbb.mp4"
    assert partial["chosen"] == {"preset": "faster", "crf": 23}


def test_choose_encoder_without_a_passing_setting_keeps_the_default():
    choice = encoder.choose_encoder(SYNTHETIC, current=("veryfast", 23), ssim_floor=0.999)
    assert choice["chosen"] is None and not choice["change"]
    assert set(choice["verdicts"].values()) == {"SSIM below 0.999"}  # the floor is judged first
    assert choice["why"] == "none passes"


def test_encoder_section_draws_the_table_and_the_decision_from_the_stored_sweep():
    def stored(rows: list[dict], name: str) -> dict:
        full = [{**r, "seconds": r["cpu_seconds"], "file_kbps": r["video_kbps"] + 160, "psnr": 44.0, "vmaf": 99.0}
                for r in rows]
        return {
            "source": name, "source_size": [1280, 720], "start": 60.0, "seconds": 30.0, "aspect": "9:16",
            "output_size": [404, 720], "default": ["veryfast", 23], "repeat": 2, "vmaf": True, "vmaf_subsample": 3,
            "reference": {**full[0], "preset": "slow", "crf": 16, "ssim": 1.0, "psnr": float("inf"),
                          "fidelity_to_source": {"ssim": 0.9989, "psnr": 52.1, "vmaf": 99.9}},
            "rows": full, "floors": {"ssim": 0.98}, "bitrate_slack": 1.25, "min_cpu_gain": 0.1,
            "load": [[1.0], [2.0]], "run_seconds": 80.0,
        }

    below = {("veryfast", 23): 0.9784, ("veryfast", 26): 0.9686}
    natural = [{**r, "ssim": below.get((r["preset"], r["crf"]), r["ssim"])} for r in SYNTHETIC]
    raw = {"encoder_sweep": stored(SYNTHETIC, "bench.mp4"), "encoder_sweep_checks": {"bbb.mp4": stored(natural, "bbb")}}
    text = report_encoder.encoder_section(raw)
    assert text.startswith("## Encoder settings")
    assert "| **veryfast / crf 22** | 3.95 |" in text
    assert "| veryfast / crf 23 (default) | 4.00 | 1.00× |" in text and "SSIM below 0.98 on bbb.mp4" in text
    assert "| slow / crf 16 (reference) |" in text and "| ∞ |" in text
    assert "| **the rule changes the default to** (the default fails) | veryfast / crf 22 | 3.95 | 606 |" in text
    assert "| `bench.mp4` | -1% | +10% | 0.9960 → 0.9966 | 99.0 → 99.0 |" in text  # what the change does
    assert "### Natural content: `bbb.mp4`" in text and "| VMAF measured on | one frame in 3 | one frame in 3 |" in text
    assert "| presets swept at crf 23 | ultrafast, superfast, veryfast, faster, medium |" in text

    only = report_encoder.encoder_section({"encoder_sweep": stored(SYNTHETIC, "bench.mp4")})
    kept = "| **the rule keeps the default** (nothing passing is clearly faster) | veryfast / crf 23 | 4.00 | 550 |"
    assert kept in only
    assert "rests on testsrc2 alone" in only and "what the change does" not in only
    assert "Not measured in this run" in report_encoder.encoder_section({})


# --- the report file: generated tables between markers, hand-written text around them ---------

MIB = 2**20


def bench_raw(plan_seconds: float = 0.0) -> dict:
    """A whole run's raw figures, shaped like bench-results.json: Prepare, transcription, selection,
    two renders (each after a PlanReframe of ``plan_seconds``, when given) and Finalize, the ffmpeg
    children the stack started, the bare tools, the peer and the API; no encoder sweep."""
    from chalicelib.domain import media

    t0 = T0.timestamp()
    clips = [{"index": 0, "start": 60.0, "end": 90.0, "aspect": "9:16"},
             {"index": 1, "start": 200.0, "end": 232.0, "aspect": "9:16"}]
    h = History()
    last = h.add("ExecutionStarted", 0.0, 0)
    last = h.task("Prepare", 0.0, 2.0, last)
    last = h.task("StartTranscription", 2.01, 30.0, last)
    options = {"maxClips": 2, "aspectRatio": "9:16"}
    last = h.task("SelectClips", 30.01, 30.3, last, output=json.dumps({"clips": clips, "options": options}))
    started = h.add("MapStateStarted", 30.35, h.add("MapStateEntered", 30.35, last, name="RenderClips"))
    windows = [(30.4, 37.0), (37.1, 43.8)]
    ends = []
    for i, (a, b) in enumerate(windows):
        iteration = h.add("MapIterationStarted", a - 0.005, started, name="RenderClips", index=i)
        if plan_seconds:
            iteration = h.task("PlanReframe", a, a + plan_seconds, iteration)
        render = h.task("RenderClip", a + plan_seconds + 0.01 if plan_seconds else a, b, iteration)
        ends.append(h.add("MapIterationSucceeded", b + 0.002, render, index=i))
    last = h.add("MapStateExited", 43.811, h.add("MapStateSucceeded", 43.81, ends[-1]), name="RenderClips")
    h.add("ExecutionSucceeded", 43.95, h.task("Finalize", 43.82, 43.9, last))

    children = []

    def child(argv: list[str], start: float, seconds: float, peak_mib: int) -> None:
        children.append({"pid": 1000 + len(children), "argv": ["/usr/bin/ffmpeg", *argv], "started": t0 + start,
                         "last_seen": t0 + start + seconds - 0.01, "peak_rss": peak_mib * MIB,
                         "gone_seen": t0 + start + seconds + 0.01, "seconds": seconds})

    child(media.probe_args("/w/src"), 0.5, 0.02, 16)
    child(media.extract_audio_args("/w/src", "/t/a.wav", "/t/l.txt"), 0.6, 1.2, 39)
    for c, (a, _) in zip(clips, windows):
        child(media.loudness_args("/w/src", start=c["start"], end=c["end"]), a + 0.1, 0.2, 30)
        child(media.render_args("/w/src", "/t/clip.mp4", start=c["start"], end=c["end"], aspect="9:16", width=1280,
                                height=720), a + 1.0, 3.0, 108)
    iso = "2026-01-01T12:00:{:06.3f}+00:00".format
    stages = {"queued": iso(0.0), "preparing": iso(0.45), "transcribing": iso(2.02), "selecting": iso(30.06),
              "rendering": iso(30.35), "finalizing": iso(43.83)}
    route = {"n": 200, "rate": 20.0, "p50": 0.02, "p99": 0.03, "max": 0.06, "errors": 0, "error_sample": []}

    def run(seconds: float, rss_mib: int = 90, **extra: object) -> dict:
        return {"seconds": seconds, "returncode": 0, "max_rss": rss_mib * MIB, "cpu_seconds": seconds, **extra}

    return {
        "machine": {"cpu": "Test CPU", "cores": 2, "usable_cores": 2, "ram_gib": 8.0, "python": "3.11.7",
                    "ffmpeg": "ffmpeg version 7", "os": "Linux", "date": "2026-01-01 12:00 UTC"},
        "load": [[0.5], [0.6]],
        "source": {"name": "bench.mp4", "seconds": 600.0, "bytes": 300_000_000, "width": 1280, "height": 720},
        "job": {
            "startup_seconds": 3.0, "upload_seconds": 10.0, "s3_download_seconds": 8.0, "submitted": t0 - 0.07,
            "seen_done": t0 + 44.0, "clips_view": [{"width": 404, "height": 720}], "render_concurrency": 1,
            "result": {"status": "succeeded", "stages": stages, "finishedAt": iso(43.9)},
            "events": [{**e, "timestamp": e["timestamp"].timestamp()} for e in h.events],
            "samples": [[t0 + t / 4, 900 * MIB, 0] for t in range(-1, 177)],
            "children": children, "api": {"GET /health": route},
        },
        "clips": clips,
        "bare": {"probe": run(0.03), "extract_audio": run(1.3), "repeat": 2,
                 "whisper": run(35.0, 800, load_seconds=0.4, transcribe_seconds=34.0, audio_seconds=600.0,
                                compute_type="int8", threads=2),
                 "renders": [run(2.6, bytes=6_000_000), run(2.8, bytes=6_400_000)]},
        "peer": "skipped (--skip-peer)",
        "import": {"importtime_cumulative": 0.41, "top": [["chalicelib.models", 0.15]], "packages": {"boto3": 0.15},
                   "import_app": 0.4, "heavy_modules_loaded": []},
        "run_seconds": 300.0,
    }


def test_report_draws_every_table_from_a_whole_run():
    text = report.report(bench_raw())
    for heading in ("## Machine", "## Input and job", "## The job, stage by stage", "### Inside each render",
                    "### Orchestration", "## The peer", "## Encoder settings", "## API latency", "## Scale on paper",
                    "### Where the limits are"):
        assert heading in text
    assert "| **render clip 1** (32.0 s, RenderClip) | 6.70 s | 2.80 s | 2.39× |" in text
    assert "| **all clips** | 13.3 s |" in text  # inside each render: the two tasks summed
    assert "| CPU shared with other work (load above 0.75 per usable core) | no |" in text
    assert "| this job (2 clips) |" in text and "Not measured: skipped (--skip-peer)." in text
    assert report.BEGIN not in text and report.END not in text  # the markers are the file's, not the tables'


def test_the_face_job_gets_its_own_section_with_the_analysis_against_each_encode():
    raw = bench_raw()
    assert "## The job on footage with a face" not in report.report(raw)
    # The same job on a talking head: a PlanReframe of 0.6 s before each render's 3.0 s encode.
    face = {k: v for k, v in bench_raw(plan_seconds=0.6).items() if k in ("job", "clips", "bare")}
    face["source"] = {"name": "talking-head-240s-1920x1080.mp4", "seconds": 240.0, "bytes": 120_000_000,
                      "width": 1920, "height": 1080}
    text = report.report({**raw, "face_job": face})
    section = text[text.index("## The job on footage with a face"):]
    assert "`talking-head-240s-1920x1080.mp4`: 240 s" in section and "1920x1080" in section
    assert "Face analysis against each clip's main encode: 0.20-0.20x." in section
    assert "| **total** (submit → done) | 44.1 s |" in section  # against the bare tools
    assert "| clip 0 | 5.99 s | 599 ms | 0.20× |" in section  # task, analysis, analysis / encode


def test_done_and_the_first_clip_come_from_the_servers_records_not_from_the_poll():
    from bench.analysis import analyse
    from bench.run import _finished

    raw = bench_raw()
    job = raw["job"]
    submitted = job["submitted"]
    # The result says finishedAt 43.9 s after T0; the first RenderClip succeeded at 37.0 s.
    done_at, first_ready = _finished(job["result"], job["events"], submitted)
    assert done_at == pytest.approx(T0.timestamp() + 43.9)
    assert first_ready == pytest.approx(37.0 - (submitted - T0.timestamp()))
    # A poll every second saw each later: those times are shown, not counted.
    job.update(done_at=done_at, first_ready_seconds=first_ready, seen_done=done_at + 0.8,
               first_seen_seconds=first_ready + 0.6, poll_seconds=1.0)
    job["repeat"] = {"options": {"customInstructions": "x", "minDuration": 20, "maxDuration": 45}, "clips": 2,
                     "seconds": 11.0, "seen_seconds": 11.5, "first_ready_seconds": 4.0, "first_seen_seconds": 4.9,
                     "stolen_cores": 0.0}
    assert analyse(raw)["orchestration"]["wall"] == pytest.approx(43.97)
    text = report.report(raw)
    assert "| **total** (submit → done) | 44.0 s |" in text
    assert "| submit → done | 44.0 s | 11.0 s |" in text
    assert "| submit → a poll every 1 s saw it done | 44.8 s | 11.5 s |" in text
    assert "| submit → a poll every 1 s saw the first clip | 37.7 s | 4.90 s |" in text
    assert "| against the first submit | — | 25% |" in text
    assert "the record said done → a poll every 1 s saw it (not in the wall time) | 800 ms |" in text


def test_an_encode_started_just_after_planreframe_belongs_to_the_render():
    from bench.analysis import analyse, task_row

    # PlanReframe ends at 0.97 s, RenderClip starts at 0.98 s and its encode at 1.0 s: inside
    # PlanReframe's 50 ms of slack too.
    a = analyse(bench_raw(plan_seconds=0.97))
    assert "encode" in task_row(a, "RenderClip", 0)["ffmpeg"]
    assert "encode" not in task_row(a, "PlanReframe", 0)["ffmpeg"]


def test_stolen_cores_reads_the_hosts_share_between_two_samples():
    # (time, all jiffies, stolen jiffies): a quarter of the time stolen, then none.
    samples = [(0.0, 0, 0), (1.0, 200, 50), (2.0, 400, 50)]
    assert procs.stolen_cores(samples, 0.0, 1.0, cores=2) == 0.5
    assert procs.stolen_cores(samples, 1.0, 2.0, cores=2) == 0.0
    assert procs.stolen_cores(samples, 0.5, 1.9, cores=2) == 0.5  # the samples at or before each end
    assert procs.stolen_cores(samples[:1], 0.0, 2.0, cores=2) is None


def test_the_report_shows_what_the_host_stole_and_the_totals_without_it():
    raw = bench_raw()
    t0 = T0.timestamp()
    # The host took one of the two cores all through the job, none during the bare runs.
    raw["job"]["host_cpu"] = [[t0 + k / 4, 1000 * k, 500 * k] for k in range(-1, 180)]
    bare = raw["bare"]
    for run in [bare["probe"], bare["extract_audio"], bare["whisper"], *bare["renders"]]:
        run["stolen_cores"] = 0.0
    raw["job"]["repeat"] = {"options": {"minDuration": 20, "maxDuration": 45, "customInstructions": "x"},
                            "status": "succeeded", "clips": 2, "seconds": 11.0, "first_ready_seconds": 4.0,
                            "events": [], "stolen_cores": 0.0}
    raw["job"]["first_ready_seconds"] = 37.0
    raw["job"]["api"]["GET /health"] = {**raw["job"]["api"]["GET /health"], "stolen_cores": 0.5}
    text = report.report(raw)
    assert "| GET /health | 200 | 20.0/s | 20.0 ms | 30.0 ms | 60.0 ms | 0 | 0.50 |" in text
    assert "| host stole (cores) ours / bare |" in text
    assert "| **transcription** (StartTranscription: faster-whisper tiny.en) | 28.0 s |" in text
    assert text.split("| **transcription**")[1].split("\n")[0].endswith("| 1.00 / 0.00 |")
    # 44.1 s with half the machine against the bare tools' 41.1 s with all of it.
    assert "| total in the CPU time the host left (wall × (cores − stolen) / cores) | 22.0 s | 41.1 s | 0.54× |" in text
    assert "| the host stole meanwhile (cores of 2) | 1.00 | 0.00 |" in text
    assert "| against the first submit, in the CPU time the host left | — | 50% |" in text  # 11.0 s / 22.0 s


HAND_BEFORE = "# Benchmarks\n\nWritten by hand, above the tables.\n\n"
HAND_AFTER = "\n\n## Reading the figures\n\nWritten by hand: the job took 44 s.\n"


def test_splice_replaces_only_the_text_between_the_markers():
    existing = f"{HAND_BEFORE}{report.BEGIN}\nold tables\n{report.END}{HAND_AFTER}"
    text = report.splice(existing, "## Machine\n\nnew tables\n")
    assert text == f"{HAND_BEFORE}{report.BEGIN}\n\n## Machine\n\nnew tables\n\n{report.END}{HAND_AFTER}"
    assert report.splice(text, "## Machine\n\nnew tables\n") == text  # redrawing the same figures changes nothing


def test_splice_without_a_file_or_its_markers_starts_the_layout():
    for existing in (None, "# Benchmarks\n\nA report from before the markers.\n"):
        text = report.splice(existing, "tables\n")
        assert text.startswith(f"# Benchmarks\n\n{report.BEGIN}\n\ntables\n\n{report.END}\n\n")
        assert text.endswith(report.PLACEHOLDER) and "## Reading the figures" in text
        assert "A report from before" not in text


def test_splice_refuses_markers_it_cannot_pair():
    for broken in (
        f"{report.BEGIN}\nno end\n",
        f"{report.END}\nend first\n{report.BEGIN}\n",
        f"{report.BEGIN}\n{report.END}\n{report.BEGIN}\n{report.END}\n",
    ):
        with pytest.raises(ValueError, match="fix them by hand"):
            report.splice(broken, "tables\n")


def test_report_only_redraws_the_tables_and_keeps_the_hand_written_text(tmp_path):
    from bench.__main__ import main

    (tmp_path / "bench-results.json").write_text(json.dumps(bench_raw()))
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(f"{HAND_BEFORE}{report.BEGIN}\nstale tables\n{report.END}{HAND_AFTER}")
    assert main(["--report-only", "--out", str(tmp_path), "--report", str(path)]) == 0
    text = path.read_text()
    assert text.startswith(f"{HAND_BEFORE}{report.BEGIN}\n\nGenerated by `make bench`")
    assert text.endswith(f"{report.END}{HAND_AFTER}")
    assert "stale tables" not in text and "## Scale on paper" in text

    path.unlink()
    assert main(["--report-only", "--out", str(tmp_path), "--report", str(path)]) == 0
    assert path.read_text().endswith(f"{report.END}\n\n{report.PLACEHOLDER}")
