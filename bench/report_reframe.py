"""The report's "Reframe analysis against the encode" table, from ``reframe_cost``'s figures."""

from __future__ import annotations

from bench.fmt import fmt_ratio, fmt_seconds, md_table
from bench.reframe_cost import __doc__ as HOW


def reframe_section(raw: dict) -> str:
    cost = raw.get("reframe_cost")
    if not cost:
        return ""
    rows = [
        [
            r["source"],
            f"{r['size']} → {r['output']}",
            f"{r['with_faces']}/{r['samples']}, {r['layout']}",
            fmt_seconds(r["analysis"]["seconds"]),
            fmt_seconds(r["encode"]["seconds"]),
            fmt_ratio(r["analysis"]["seconds"], r["encode"]["seconds"]),
            f"{r['analysis']['cpu_seconds']:.2f}",
            f"{r['encode']['cpu_seconds']:.2f}",
            fmt_ratio(r["analysis"]["cpu_seconds"], r["encode"]["cpu_seconds"]),
            f"{r['load']:.1f}" if "load" in r else "—",
        ]
        for r in cost["rows"]
    ]
    headers = ["30 s clip of", "source → 9:16", "samples with faces, layout", "analysis", "encode",
               "analysis / encode", "analysis CPU s", "encode CPU s", "CPU ratio", "load (1 min)"]
    how = "\n\n".join(_markdown(paragraph) for paragraph in (HOW or "").split("\n\n")[1:3])
    return f"### Reframe analysis against the encode\n\n{how}\n\n{md_table(headers, rows)}\n"


def _markdown(paragraph: str) -> str:
    """A docstring paragraph as Markdown: wrapped lines joined, each "- " item on its own line."""
    out: list[str] = []
    for line in paragraph.strip().splitlines():
        line = line.strip()
        if line.startswith("- ") or not out:
            out.append(line)
        else:
            out[-1] += " " + line
    return "\n".join(out)
