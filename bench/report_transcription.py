"""BENCHMARKS.md: the transcription models section (``bench/transcription.py`` measures it)."""

from __future__ import annotations

from typing import Any

from bench.fmt import fmt_seconds, md_table
from chalicelib.domain import languages


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _rows(tm: dict[str, Any], model: str, variant: str = "temperature 0") -> dict[str, dict[str, Any]]:
    return {r["fixture"]: r for r in tm["rows"] if r["model"] == model and r["variant"] == variant}


def _total(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Word-weighted WER and recovered share over several fixtures, and the summed times."""
    n = sum(r["reference"] for r in rows) or 1
    errors = sum(r["substitutions"] + r["deletions"] + r["insertions"] for r in rows)
    return {"wer": errors / n, "recovered": sum(r["hits"] for r in rows) / n,
            "seconds": sum(r["transcribe_seconds"] for r in rows), "audio": sum(r["audio_seconds"] for r in rows),
            "reference": n}


def transcription_section(raw: dict[str, Any]) -> str:
    tm = raw.get("transcription_models")
    if not tm:
        return ""
    tiny, base, fallback = _rows(tm, "tiny.en"), _rows(tm, "base"), _rows(tm, "tiny.en", "temperature fallback")
    english = [name for name in tiny if name in base]
    table = []
    for name in english:
        t, b, f = tiny[name], base[name], fallback.get(name)
        table.append([
            f"`{name}` ({tm['fixtures'][name]})", str(t["reference"]),
            f"{_pct(t['wer'])} / {_pct(t['recovered'])}", fmt_seconds(t["transcribe_seconds"]),
            f"{_pct(b['wer'])} / {_pct(b['recovered'])}", fmt_seconds(b["transcribe_seconds"]),
            f"{_pct(f['wer'])}, {fmt_seconds(f['transcribe_seconds'])}" if f else "—",
        ])
    if english:
        tt, bt = _total([tiny[n] for n in english]), _total([base[n] for n in english])
        ft = _total([fallback[n] for n in english if n in fallback]) if fallback else None
        table.append([
            "**all English, word-weighted**", str(tt["reference"]),
            f"**{_pct(tt['wer'])}** / {_pct(tt['recovered'])}",
            f"{fmt_seconds(tt['seconds'])} (RTF {tt['seconds'] / tt['audio']:.3f})",
            f"**{_pct(bt['wer'])}** / {_pct(bt['recovered'])}",
            f"{fmt_seconds(bt['seconds'])} (RTF {bt['seconds'] / bt['audio']:.3f})",
            f"{_pct(ft['wer'])}, {fmt_seconds(ft['seconds'])}" if ft else "—",
        ])
    english_md = md_table(
        ["English fixture", "words", "tiny.en WER / recovered", "tiny.en time", "base WER / recovered", "base time",
         "tiny.en + fallback: WER, time"],
        table, "lrrrrrr",
    )
    others = []
    for r in base.values():
        code = r["language"]
        unit = "chars" if languages.writes_without_spaces(code) else "words"
        others.append([
            f"{languages.name(code)} (`{code}`): `{r['fixture']}`", f"{r['audio_seconds']:.0f} s",
            f"{r.get('detected', '—')} ({r.get('probability', 0):.2f})" + ("" if r.get("detected") == code else " ✗"),
            fmt_seconds(r.get("detect_seconds")),
            f"{r['reference']} {unit}", _pct(r["wer"]), _pct(r["recovered"]), fmt_seconds(r["transcribe_seconds"]),
            f"{r['transcribe_seconds'] / r['audio_seconds']:.3f}",
        ])
    others_md = md_table(
        ["language: fixture", "speech", "detected (p)", "detection", "reference", "WER", "recovered",
         "transcription", "RTF"],
        others, "llllrrrrr",
    )
    load = tm["load_seconds"]
    return (
        "## Transcription models\n\n"
        f"Local Whisper models through the product's adapter (int8, beam 1, VAD, word timestamps, "
        f"{tm['threads']} threads) on the committed speech fixtures (`bench/transcription.py`). WER = "
        "(substitutions + deletions + insertions) / spoken words after lower-casing and dropping punctuation; "
        "recovered = spoken words found in order / spoken words; Japanese counts characters. Times are with the "
        f"model loaded; loading took {fmt_seconds(load.get('tiny.en'))} for tiny.en and "
        f"{fmt_seconds(load.get('base'))} for base.\n\n"
        "English, both models (the bold row decides `KLYPH_WHISPER_MODEL`'s default):\n\n"
        f"{english_md}\n\n"
        "Every fixture with Whisper base, its language detected first on the first 30 s of speech (`language: "
        "auto`), then transcribed in the detected language:\n\n"
        f"{others_md}\n"
    )
