"""The report's "Scale on paper" section."""

from __future__ import annotations

from bench.fmt import fmt_seconds, fmt_usd, md_table
from bench.scale import ASSUMED, LIGHT_LAMBDA_MB, LIMITS, MEDIA_LAMBDA_MB, PRICES, measured_inputs, scale_on_paper


def scale_section(raw: dict, a: dict) -> str:
    m = measured_inputs(raw, a)
    s = scale_on_paper(m, hours=1.0, clips=LIMITS["max_clips_per_job"])
    lo, hi = ASSUMED["transcribe_turnaround"]
    st, c, lim = s["stages"], s["cost"], s["limits"]
    p = PRICES
    out = []
    w = out.append
    w(
        f"One job on **1 hour** of the same video with **{s['clips']} clips** (the API's maxClips bound) of "
        f"{m.clip_mean_seconds:.0f} s, on AWS with the Map fanned out (one render Lambda per clip, all at once), "
        "scaled from this run's measured per-stage costs. Prices (us-east-1 list, on demand): Transcribe "
        f"${p['transcribe_per_min']}/min; Lambda ${p['lambda_gb_s']} per GB-s and ${p['lambda_per_million_requests']} "
        f"per million requests; Step Functions Standard ${p['sfn_per_1k_transitions']} per 1,000 transitions; S3 PUT "
        f"${p['s3_put_per_1k']}/1,000, GET ${p['s3_get_per_1k']}/1,000, storage ${p['s3_gb_month']}/GB-month. Media "
        f"Lambdas at {MEDIA_LAMBDA_MB} MB (2 vCPU, like the 2 cores measured here), the rest at {LIGHT_LAMBDA_MB} MB. "
        f"Assumed, not measured: Amazon Transcribe finishes in {lo}-{hi}× the audio length, polled every "
        f"{ASSUMED['poll_seconds']} s; S3 → Lambda at {ASSUMED['s3_mb_per_s']} MB/s; {ASSUMED['cold_start_s']} s cold "
        "start per media Lambda.\n"
    )
    w(
        md_table(
            ["stage (1 h source)", "wall time", "from"],
            [
                [
                    "prepare (download, probe, extract audio, upload WAV)",
                    fmt_seconds(st["prepare"]),
                    f"probe + extraction in our Prepare × {3600 / m.source_seconds:.0f}, download "
                    f"{fmt_seconds(st['render_download'])}, cold start",
                ],
                [
                    "transcribe (Amazon Transcribe)",
                    f"{fmt_seconds(st['transcribe'][0])} – {fmt_seconds(st['transcribe'][1])}",
                    "assumed turnaround",
                ],
                [
                    "  or faster-whisper tiny.en in a Lambda",
                    fmt_seconds(st["whisper_on_lambda"]),
                    f"measured RTF {m.whisper_rtf:.3f} + load",
                ],
                ["select", fmt_seconds(st["select"]), "SelectClips task, linear in transcript length"],
                [
                    f"render ({s['clips']} in parallel: the slowest one)",
                    fmt_seconds(st["render (slowest clip, all in parallel)"]),
                    f"{m.render_seconds_per_clip_second:.2f} s per clip second + source download "
                    f"{fmt_seconds(st['render_download'])} + cold start",
                ],
                ["finalize", fmt_seconds(st["finalize"]), "Finalize task"],
                [
                    "**total**",
                    f"**{fmt_seconds(s['wall_transcribe'][0])} – {fmt_seconds(s['wall_transcribe'][1])}** with "
                    f"Transcribe; {fmt_seconds(s['wall_whisper'])} with Whisper",
                    "",
                ],
            ],
            "lrl",
        )
    )
    w("")
    w(
        md_table(
            ["cost per hour of video", "USD"],
            [
                ["Amazon Transcribe (60 min)", fmt_usd(c["transcribe"])],
                [
                    f"Lambda ({sum(s['lambda_gb_s'].values()):,.0f} GB-s: "
                    + ", ".join(f"{k} {v:,.0f}" for k, v in s["lambda_gb_s"].items())
                    + ")",
                    fmt_usd(c["lambda"]),
                ],
                [f"Step Functions ({s['transitions']:.0f} transitions)", fmt_usd(c["step_functions"])],
                ["S3 requests", fmt_usd(c["s3_requests"])],
                ["**total per job**", f"**{fmt_usd(c['total'])}**"],
                ["S3 storage of the source and clips, per month kept", fmt_usd(c["s3_storage_per_month"])],
                ["each extra clip (render Lambda, transitions, 4 PUTs)", fmt_usd(c["per_extra_clip"])],
                [
                    "faster-whisper in a Lambda instead of Transcribe",
                    f"{fmt_usd(c['whisper_instead_of_transcribe'])} " f"(total {fmt_usd(c['total_with_whisper'])})",
                ],
            ],
            "lr",
        )
    )
    w(
        f"\nTranscription is {c['transcribe'] / c['total']:.0%} of the cost; everything we run ourselves is cents. "
        "Data transfer out (users downloading clips) is not included.\n"
    )
    w("**Where the limits are**\n")
    ev = a["events"]
    w(
        md_table(
            ["limit (default)", "what it means here"],
            [
                [
                    f"Lambda timeout {LIMITS['lambda_timeout_s']} s",
                    f"Prepare handles up to {lim['max_source_for_prepare_in_one_lambda_s'] / 3600:.1f} h of source in "
                    f"one invocation (the API allows {LIMITS['max_video_seconds'] / 3600:.0f} h); Whisper in a Lambda "
                    f"only {lim['max_audio_for_whisper_in_one_lambda_s'] / 60:.0f} min of audio, so it would need "
                    "chunking (another Map); the longest clip (180 s) renders in about "
                    f"{fmt_seconds(lim['longest_clip_render_s'])}.",
                ],
                [
                    f"Lambda /tmp {LIMITS['lambda_tmp_default_mb']} MB default, {LIMITS['lambda_tmp_max_mb'] // 1024} "
                    "GB max",
                    f"every render Lambda downloads the whole source: {lim['source_gb_for_4h']:.1f} GB for 4 h of "
                    "this video. Prepare and RenderClip need ephemeral storage sized to the upload limit (5 GB), and "
                    "a download per clip is the first thing to remove at scale (ffmpeg reading a presigned URL with "
                    "byte ranges).",
                ],
                [
                    f"Lambda concurrency {LIMITS['lambda_concurrency']} per region",
                    f"{lim['concurrent_jobs_by_lambda']} jobs rendering {s['clips']} clips at once; about "
                    f"{lim['clips_per_hour_by_lambda']:,.0f} clips/hour if renders were the only functions.",
                ],
                [
                    f"Transcribe concurrent jobs ({LIMITS['transcribe_concurrent_jobs']} in many regions; job "
                    f"queueing holds {LIMITS['transcribe_queue']:,} more)",
                    f"at {hi}× turnaround, {LIMITS['transcribe_concurrent_jobs']} concurrent hour-long jobs finish "
                    f"{LIMITS['transcribe_concurrent_jobs'] / hi:.0f} hours of video per hour: the first ceiling for "
                    "a busy service; raise the quota or queue (the Wait/Choice loop already tolerates a slow start).",
                ],
                [
                    f"Step Functions history {LIMITS['sfn_history_events']:,} events",
                    f"measured {ev['fixed']} events per execution + {ev['per_iteration']:.0f} per clip "
                    f"(+{ASSUMED['events_per_poll']} per Transcribe poll): {s['events']:.0f} for this job, "
                    f"{lim['events_4h_10_clips']:.0f} for a 4 h video polled for {hi}× its length. An inline Map runs "
                    f"out of history at about {lim['clips_by_events']:,} clips per execution.",
                ],
                [
                    f"Step Functions payload {LIMITS['sfn_payload_bytes'] // 1024} KiB",
                    f"the state carries {a['select_bytes_per_clip']:.0f} bytes per clip in `clips` and "
                    f"{a['map_result_bytes_per_clip']:.0f} per Map result: about {lim['clips_by_payload']:,} clips "
                    "fit.",
                ],
                [
                    f"inline Map concurrency {LIMITS['inline_map_concurrency']}",
                    f"up to {LIMITS['inline_map_concurrency']} renders in flight per job; with maxClips ≤ "
                    f"{LIMITS['max_clips_per_job']} this never binds.",
                ],
            ],
            "ll",
        )
    )
    first = min(lim["clips_by_payload"], lim["clips_by_events"] or 10**9)
    w(
        f"\n**When Distributed Map is needed**: not for this API (at most {LIMITS['max_clips_per_job']} clips per "
        f"job). An inline Map stops being enough past {LIMITS['inline_map_concurrency']} clips rendering at once (its "
        f"concurrency cap), and it fails outright at about {first:,} clips per execution (the "
        f"{'payload' if first == lim['clips_by_payload'] else 'history'} limit comes first). A batch or whole-season "
        "feature should switch RenderClips to Distributed Map with the clip list in S3 (ItemReader), which gives "
        "each iteration its own child execution and history.\n"
    )
    return "\n".join(out)
