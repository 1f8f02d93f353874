"""Our ffmpeg runs by their argument lists: what each does, the files its filters read, replaying it
elsewhere, and calling ``media.render_args`` with what it requires."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from typing import Any


def ffmpeg_exe() -> str:
    return os.environ.get("KLYPH_FFMPEG") or __import__("imageio_ffmpeg").get_ffmpeg_exe()


def classify_ffmpeg(argv: Sequence[str]) -> str:
    """What an ffmpeg run of ours does, from its argument list."""
    args = list(argv)
    joined = " ".join(args)
    if "ebur128" in joined:
        return "loudness"
    if "pcm_s16le" in args:
        return "extract_audio"
    if "libx264" in args:
        return "encode"
    if "mjpeg" in args:
        return "thumbnail"
    if option(args, "-f") == "rawvideo":  # frames piped to Python (reframe's face detection)
        return "frames"
    if "-f" not in args and "-i" in args:
        src = args[args.index("-i") + 1] if args.index("-i") + 1 < len(args) else ""
        return "probe_clip" if src.endswith("clip.mp4") else "probe"
    return "other"


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split at ``sep`` where no backslash escapes it, removing one level of escaping (ffmpeg's rule)."""
    parts, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i + 1])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


_FILE_OPTIONS = {"ass": ("filename", "f"), "subtitles": ("filename", "f"), "sendcmd": ("filename", "f")}


def filter_files(argv: Sequence[str]) -> list[str]:
    """The files an encode's video filters read (captions for ``ass``, crop moves for ``sendcmd``).

    ffmpeg unescapes a filter graph twice: the graph (split at ``,``), then each filter's options
    (split at ``:``); ``media.filter_path`` escapes for both."""
    args = list(argv)
    vf = args[args.index("-vf") + 1] if "-vf" in args and args.index("-vf") + 1 < len(args) else ""
    found = []
    for flt in _split_unescaped(vf, ","):
        name, _, opts = flt.partition("=")
        keys = _FILE_OPTIONS.get(name.split("@")[0])
        if not keys:
            continue
        for i, opt in enumerate(_split_unescaped(opts, ":")):
            key, eq, value = opt.partition("=")
            if eq and key in keys:
                found.append(value)
            elif not eq and i == 0:  # the first option may be given without its name
                found.append(key)
    return found


def option(argv: Sequence[str], name: str) -> str | None:
    args = list(argv)
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def replay_args(
    argv: Sequence[str], *, src: str, dst: str, captions: dict[str, str], filter_path: Callable[[str], str]
) -> list[str]:
    """One of our ffmpeg runs (argv without the binary) re-pointed at another source, output and
    captions copy, everything else unchanged but ``-y`` (a run that piped to stdout now writes a
    file, and repeats overwrite it)."""
    args = list(argv)
    if "-y" not in args:
        args.insert(0, "-y")
    i = args.index("-i")
    args[i + 1] = f"file:{src}"
    args[-1] = f"file:{dst}"
    if "-vf" in args:
        j = args.index("-vf") + 1
        for original, copy in captions.items():
            args[j] = args[j].replace(filter_path(original), filter_path(copy))
    return args


def seek_of(argv: Sequence[str]) -> float | None:
    args = list(argv)
    if "-ss" in args and args.index("-ss") + 1 < len(args):
        try:
            return float(args[args.index("-ss") + 1])
        except ValueError:
            return None
    return None


def call_render_args(fn: Callable[..., list[str]], **known: Any) -> list[str]:
    """Call ``media.render_args`` with what it requires: the positional/required parameters we
    know by name; anything else it grows keeps its default. Fails loudly on a required unknown."""
    sig = inspect.signature(fn)
    args, kwargs = [], {}
    for name, param in sig.parameters.items():
        required = param.default is inspect.Parameter.empty and param.kind not in (
            param.VAR_POSITIONAL,
            param.VAR_KEYWORD,
        )
        if name not in known:
            if required:
                raise TypeError(f"render_args now requires {name!r}; teach bench (run.py, encoder.py) to pass it")
            continue
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) and required:
            args.append(known[name])
        else:
            kwargs[name] = known[name]
    return fn(*args, **kwargs)
