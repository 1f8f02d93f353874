"""The report's "Scale on paper" tables: inputs, wall time, cost and where the AWS limits bind."""

from __future__ import annotations

from bench.fmt import fmt_seconds, fmt_usd, md_table
from bench.scale import ASSUMED, LIGHT_LAMBDA_MB, LIMITS, MEDIA_LAMBDA_MB, PRICES, measured_inputs, scale_on_paper

CAPTION = (
    "One job on an hour of the same video, on AWS with the Map fanned out (one render Lambda per clip, all at "
    "once), scaled from this run's measured per-stage costs. Prices are the us-east-1 list prices, on demand; "
    "the rows marked *assumed* are not measured. Data transfer out (users downloading clips) is not included."
)


def scale_section(raw: dict, a: dict) -> str:
    m = measured_inputs(raw, a)
    s = scale_on_paper(m, hours=1.0, clips=LIMITS["max_clips_per_job"])
    lo, hi = ASSUMED["transcribe_turnaround"]
    st, c = s["stages"], s["cost"]
    p = PRICES
    storage = f"storage ${p['s3_gb_month']}/GB-month"
    light = f"the rest {LIGHT_LAMBDA_MB} MB"
    inputs = md_table(
        ["input", "value"],
        [
            ["source", f"{s['hours']:g} h of the same video"],
            ["clips", f"{s['clips']} (the API's maxClips bound) of {m.clip_mean_seconds:.0f} s"],
            ["Amazon Transcribe", f"${p['transcribe_per_min']}/min"],
            ["Lambda", f"${p['lambda_gb_s']} per GB-s, ${p['lambda_per_million_requests']} per million requests"],
            ["Step Functions Standard", f"${p['sfn_per_1k_transitions']} per 1,000 transitions"],
            ["S3", f"PUT ${p['s3_put_per_1k']}/1,000, GET ${p['s3_get_per_1k']}/1,000, {storage}"],
            ["Lambda memory", f"media Lambdas {MEDIA_LAMBDA_MB} MB (2 vCPU, like the 2 cores measured here), {light}"],
            ["*assumed*: Amazon Transcribe turnaround",
             f"{lo}-{hi}× the audio length, polled every {ASSUMED['poll_seconds']} s"],
            ["*assumed*: S3 → Lambda", f"{ASSUMED['s3_mb_per_s']} MB/s"],
            ["*assumed*: cold start per media Lambda", f"{ASSUMED['cold_start_s']} s"],
        ],
        "ll",
    )
    stages = md_table(
        ["stage (1 h source)", "wall time", "from"],
        [
            [
                "prepare (download, probe, extract audio, upload WAV)",
                fmt_seconds(st["prepare"]),
                (
                    f"probe + extraction in our Prepare × {3600 / m.source_seconds:.0f}, download "
                    f"{fmt_seconds(st['render_download'])}, cold start"
                ),
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
                (
                    f"{m.render_seconds_per_clip_second:.2f} s per clip second + source download "
                    f"{fmt_seconds(st['render_download'])} + cold start"
                ),
            ],
            ["finalize", fmt_seconds(st["finalize"]), "Finalize task"],
            [
                "**total**",
                (
                    f"**{fmt_seconds(s['wall_transcribe'][0])} – {fmt_seconds(s['wall_transcribe'][1])}** with "
                    f"Transcribe; {fmt_seconds(s['wall_whisper'])} with Whisper"
                ),
                "",
            ],
        ],
        "lrl",
    )
    gb_s = ", ".join(f"{k} {v:,.0f}" for k, v in s["lambda_gb_s"].items())
    cost = md_table(
        ["cost per hour of video", "USD"],
        [
            ["Amazon Transcribe (60 min)", fmt_usd(c["transcribe"])],
            [f"Lambda ({sum(s['lambda_gb_s'].values()):,.0f} GB-s: {gb_s})", fmt_usd(c["lambda"])],
            [f"Step Functions ({s['transitions']:.0f} transitions)", fmt_usd(c["step_functions"])],
            ["S3 requests", fmt_usd(c["s3_requests"])],
            ["**total per job**", f"**{fmt_usd(c['total'])}**"],
            ["  of which Amazon Transcribe", f"{c['transcribe'] / c['total']:.0%}"],
            ["S3 storage of the source and clips, per month kept", fmt_usd(c["s3_storage_per_month"])],
            ["each extra clip (render Lambda, transitions, 4 PUTs)", fmt_usd(c["per_extra_clip"])],
            [
                "faster-whisper in a Lambda instead of Transcribe",
                f"{fmt_usd(c['whisper_instead_of_transcribe'])} (total {fmt_usd(c['total_with_whisper'])})",
            ],
        ],
        "lr",
    )
    return (
        f"## Scale on paper\n\n{CAPTION}\n\n{inputs}\n\n{stages}\n\n{cost}\n\n"
        "### Where the limits are\n\n"
        "Each AWS default limit and the figure it bounds for this job, from the same measurements.\n\n"
        f"{_limits_table(s, a)}\n"
    )


def _limits_table(s: dict, a: dict) -> str:
    lim, ev = s["limits"], a["events"]
    hi = ASSUMED["transcribe_turnaround"][1]
    timeout = f"Lambda timeout {LIMITS['lambda_timeout_s']} s"
    tmp = f"Lambda /tmp {LIMITS['lambda_tmp_default_mb']} MB default, {LIMITS['lambda_tmp_max_mb'] // 1024} GB max"
    concurrency = f"Lambda concurrency {LIMITS['lambda_concurrency']} per region"
    transcribe = (
        f"Transcribe concurrent jobs ({LIMITS['transcribe_concurrent_jobs']} in many regions; job queueing holds "
        f"{LIMITS['transcribe_queue']:,} more)"
    )
    history = f"Step Functions history {LIMITS['sfn_history_events']:,} events"
    payload = f"Step Functions payload {LIMITS['sfn_payload_bytes'] // 1024} KiB"
    first = min(lim["clips_by_payload"], lim["clips_by_events"] or 10**9)
    first_by = "payload" if first == lim["clips_by_payload"] else "history"
    api_hours = LIMITS["max_video_seconds"] / 3600
    rows = [
        [
            timeout,
            "longest source Prepare handles in one invocation",
            f"{lim['max_source_for_prepare_in_one_lambda_s'] / 3600:.1f} h (the API allows {api_hours:.0f} h)",
        ],
        [timeout, "longest audio faster-whisper transcribes in one invocation",
         f"{lim['max_audio_for_whisper_in_one_lambda_s'] / 60:.0f} min"],
        [timeout, "render of the longest clip (180 s)", fmt_seconds(lim["longest_clip_render_s"])],
        [tmp, "source every render Lambda downloads, for 4 h of this video", f"{lim['source_gb_for_4h']:.1f} GB"],
        [concurrency, f"jobs rendering {s['clips']} clips at once", f"{lim['concurrent_jobs_by_lambda']}"],
        [concurrency, "clips per hour if renders were the only functions", f"{lim['clips_per_hour_by_lambda']:,.0f}"],
        [transcribe, f"hours of video transcribed per hour at {hi}× turnaround",
         f"{LIMITS['transcribe_concurrent_jobs'] / hi:.0f}"],
        [history, "events per execution + per clip (+ per Transcribe poll)",
         f"{ev['fixed']} + {ev['per_iteration']:.0f} (+{ASSUMED['events_per_poll']})"],
        [history, f"events for this job ({s['hours']:g} h, {s['clips']} clips)", f"{s['events']:.0f}"],
        [history, f"events for a 4 h video with 10 clips, polled for {hi}× its length",
         f"{lim['events_4h_10_clips']:.0f}"],
        [history, "clips per execution before an inline Map runs out of history", f"{lim['clips_by_events']:,}"],
        [payload, "bytes per clip in `clips` / per Map result",
         f"{a['select_bytes_per_clip']:.0f} / {a['map_result_bytes_per_clip']:.0f}"],
        [payload, "clips that fit", f"{lim['clips_by_payload']:,}"],
        [f"inline Map concurrency {LIMITS['inline_map_concurrency']}", "renders in flight per job, at most",
         f"{LIMITS['inline_map_concurrency']} (a job has at most {LIMITS['max_clips_per_job']} clips)"],
        ["inline Map, all of the above", "clips per execution before the first limit", f"{first:,} ({first_by})"],
    ]
    return md_table(["limit (default)", "figure", "value"], rows, "llr")
