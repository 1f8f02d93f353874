"""Thumbnails that sell the clip: which frame, where the crop is then, and the optional title.

The frame is one inside the clip where a face is visible and sharp (PlanReframe samples the faces
and measures the sharpness of a few; ``best_face_time`` weighs them), else the clip's most
representative frame (ffmpeg's ``thumbnail`` filter, in the render). It is taken from the
reframed picture before captions are burned in, so no half sentence of caption sits on it;
``thumbnailTitle`` draws the clip's title on it instead, with the shipped caption fonts. Pure.
"""
from __future__ import annotations

from collections.abc import Sequence

from chalicelib.domain import caption_fonts

Box = tuple[int, int, int, int]  # x, y, w, h in source pixels


def best_face_time(samples: Sequence[tuple[float, Sequence[Box]]], sharpness: dict[float, float],
                   duration: float) -> float | None:
    """The sample time (clip seconds) with the best face: large, sharp (``sharpness`` per sampled
    time, a Laplacian variance of the face, when measured) and not at the clip's very edges;
    None when no sample has a face."""
    scored = []
    top_sharp = max(sharpness.values(), default=0.0) or 1.0
    for t, faces in samples:
        if not faces:
            continue
        area = max(w * h for _, _, w, h in faces)
        sharp = sharpness.get(t)
        edge = 1.0 if 0.5 <= t <= max(0.5, duration - 0.5) else 0.7
        scored.append((area * (0.3 + 0.7 * (sharp / top_sharp if sharp is not None else 0.5)) * edge, -t, t))
    return max(scored)[2] if scored else None


def title_ass(title: str, width: int, height: int, language: str | None = None) -> str:
    """An ASS script drawing ``title`` in the top third of a ``width`` x ``height`` image, bold
    white with a black outline, in the shipped fonts (each run of another script names its own)."""
    size = max(12, round(min(width, height) * 0.085))
    margin = round(width * 0.07)
    text = "".join(
        (f"{{\\fn{family}}}" if family else "") + part.replace("\\", "/").replace("{", "(").replace("}", ")")
        for family, part in caption_fonts.font_runs(title, language)
        if family is not None
    )
    return "\n".join([
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        ("Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
         "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
         "MarginR, MarginV, Encoding"),
        (f"Style: Title,{caption_fonts.LATIN},{size},&H00FFFFFF,&H00FFFFFF,&H00000000,&H99000000,-1,0,0,0,100,100,0,0,"
         f"1,{max(2, size // 10)},{max(1, size // 20)},8,{margin},{margin},{round(height * 0.08)},-1"),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        f"Dialogue: 0,0:00:00.00,9:00:00.00,Title,,0,0,0,,{text}",
        "",
    ])
