"""Turning a client-supplied filename into a safe display title.

The filename never becomes part of an S3 key or a path; it only names the video,
so this keeps it printable and short rather than trying to make it a path.
"""
from __future__ import annotations

import re
import unicodedata

MAX_TITLE = 200


def title_from_filename(filename: str) -> str:
    base = re.split(r"[\\/]", filename)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    stem = re.sub(r"[_\s]+", " ", stem).strip(" .")
    return stem[:MAX_TITLE].strip() or "Untitled video"


def clean_title(title: str) -> str:
    cleaned = "".join(ch for ch in title if unicodedata.category(ch)[0] != "C").strip()
    return cleaned[:MAX_TITLE] or "Untitled video"
