"""Word error rate, and the share of spoken words a transcript recovers.

Both texts are normalised the same way first: lower case, Unicode NFKC, punctuation and
symbols dropped, apostrophes inside words kept ("don't", "aujourd'hui"). Languages written
without spaces (Chinese, Japanese, Thai...) are compared character by character, since their
"words" are whatever the tokenizer cut. Numbers are not spelt out, so fixtures avoid them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from chalicelib.domain.languages import writes_without_spaces


def normalise(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFKC", text).lower():
        cat = unicodedata.category(ch)
        if ch in "'’":
            out.append("'")
        elif cat[0] in "PS":
            out.append(" ")
        elif cat in ("Mn", "Cf"):
            # Combining marks (Arabic/Persian short vowels, which speakers omit in writing) and
            # joiners (Persian's zero-width non-joiner inside words): not part of the comparison.
            continue
        else:
            out.append(ch)
    return " ".join(w.strip("'") for w in "".join(out).split() if w.strip("'"))


def tokens(text: str, language: str) -> list[str]:
    norm = normalise(text)
    if writes_without_spaces(language):
        return [ch for ch in norm if not ch.isspace()]
    return norm.split()


@dataclass(frozen=True)
class Score:
    reference: int  # words (or characters) spoken
    hits: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def wer(self) -> float:
        """(S + D + I) / N: can exceed 1 when the transcript adds words."""
        return (self.substitutions + self.deletions + self.insertions) / self.reference if self.reference else 0.0

    @property
    def recovered(self) -> float:
        """Share of the spoken words found, in order, in the transcript: hits / N."""
        return self.hits / self.reference if self.reference else 0.0


def score(reference: str, hypothesis: str, language: str = "en") -> Score:
    """Levenshtein alignment of the hypothesis' tokens against the reference's."""
    ref, hyp = tokens(reference, language), tokens(hypothesis, language)
    # cost[j] for the previous row, with (subs, dels, ins) counts to break down the total.
    prev = [(j, 0, 0, j) for j in range(len(hyp) + 1)]  # (cost, S, D, I)
    for i in range(1, len(ref) + 1):
        row = [(i, 0, i, 0)]
        for j in range(1, len(hyp) + 1):
            same = ref[i - 1] == hyp[j - 1]
            diag = prev[j - 1]
            sub = (diag[0] + (0 if same else 1), diag[1] + (0 if same else 1), diag[2], diag[3])
            up = prev[j]
            dele = (up[0] + 1, up[1], up[2] + 1, up[3])
            left = row[j - 1]
            ins = (left[0] + 1, left[1], left[2], left[3] + 1)
            row.append(min(sub, dele, ins))
        prev = row
    _cost, s, d, n_ins = prev[-1]
    return Score(len(ref), len(ref) - s - d, s, d, n_ins)
