"""Sentence embeddings for clip selection, with wordllama (weights ship inside its wheel).

Turns the transcript's sentences and the instructions' topic into the two plain signals the
pure selector takes: per-sentence relevance to the topic, and a cohesion function over runs of
sentences for finding topic changes. numpy and wordllama are imported here only, lazily.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import heavy

# One model per process: a Lambda container or the local stack's worker selects many times.
_MODEL: Any = None
_LOCK = threading.Lock()


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


@dataclass
class TextSignals:
    relevance: list[float] | None  # cosine of each sentence to the topic; None without a topic
    cohesion: Callable[[int, int], float]  # |sum of unit embeddings of sentences a..b-1|


class Embedder:
    def analyse(self, sentences: list[str], topic: str = "") -> TextSignals:
        np = heavy.numpy()

        model = _model()
        texts = [*sentences, topic] if topic else list(sentences)
        # One batched call: 1,334 sentences (two hours of speech) embed in about 0.1 s.
        with np.errstate(invalid="ignore"):  # an empty sentence normalises 0/0 to NaN, mapped to 0 below
            vectors = model.embed(texts, norm=True, batch_size=256) if texts else np.zeros((0, 1))
        vectors = np.nan_to_num(np.asarray(vectors, dtype=np.float64))
        sents = vectors[: len(sentences)]
        relevance = (sents @ vectors[-1]).tolist() if topic else None
        prefix = np.vstack([np.zeros((1, vectors.shape[1])), np.cumsum(sents, axis=0)])

        def cohesion(a: int, b: int) -> float:
            v = prefix[b] - prefix[a]
            return float(np.sqrt(v @ v))

        return TextSignals(relevance, cohesion)
