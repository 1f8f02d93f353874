"""Slugs for project names: lowercase ASCII words joined by hyphens."""
from __future__ import annotations

import re
import unicodedata

MAX_SLUG_LENGTH = 60


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    slug = "-".join(words)[:MAX_SLUG_LENGTH].strip("-")
    # A name of only symbols or non-Latin script still needs a usable slug.
    return slug or "project"


def numbered(slug: str, n: int) -> str:
    """The n-th candidate: ``slug``, then ``slug-2``, ``slug-3``..."""
    return slug if n == 1 else f"{slug}-{n}"
