"""Numbers as the report prints them, and its Markdown tables."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


def fmt_seconds(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if abs(x) >= 100:
        return f"{x:.0f} s"
    if abs(x) >= 10:
        return f"{x:.1f} s"
    if abs(x) >= 1:
        return f"{x:.2f} s"
    return f"{x * 1000:.0f} ms"


def fmt_ms(x: float | None) -> str:
    return "—" if x is None else (f"{x * 1000:.1f} ms" if x < 0.1 else f"{x * 1000:.0f} ms")


def fmt_ratio(numerator: float | None, denominator: float | None) -> str:
    """``a/b`` as "1.23×"; "—" when either side is missing or the denominator is not positive."""
    if numerator is None or denominator is None or denominator <= 0 or numerator < 0:
        return "—"
    r = numerator / denominator
    return f"{r:.2f}×" if r < 10 else f"{r:.1f}×"


def fmt_cores(n: float | None) -> str:
    """Cores as "0.35"; "—" when not measured."""
    return "—" if n is None else f"{n:.2f}"


def fmt_mib(n: float | None) -> str:
    return "—" if not n else f"{n / 2**20:.0f} MiB"


def fmt_usd(x: float) -> str:
    if x == 0:
        return "$0"
    if x >= 1:
        return f"${x:,.2f}"
    if x >= 0.01:
        return f"${x:.3f}"
    return f"${x:.5f}"


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub Markdown table; ``align`` is one letter per column (l/r), default: first left, rest right."""
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_db(x: float | None) -> str:
    return "—" if x is None else ("∞" if math.isinf(x) else f"{x:.2f}")
