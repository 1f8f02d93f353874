"""Clips as an editor's timeline: FCPXML (Final Cut Pro, DaVinci Resolve), OpenTimelineIO JSON
(Resolve, Premiere through its plug-ins, most pipelines), CMX 3600 EDL (everything), and the
clips' captions as SRT or WebVTT on the timeline's clock. Built with OpenTimelineIO and its
adapter packages; pure: clips in, a file's text out.

Each clip references the source by its original file name (what the editor relinks to) with the
clip's in and out points on the source's own timecode (00:00:00:00 at its first frame), snapped
to whole frames of the source's rate. Clips follow one another on the timeline in the order given.

What each format can carry:
- FCPXML: the sequence at the clip's output size, each clip with its crop as a transform
  (``adjust-transform`` scale and position; the crop at the clip's middle: an ``auto`` crop that
  follows a speaker moves, a transform here does not) and its captions as ``caption`` elements
  (an iTT captions role).
- OTIO JSON: the crop in each clip's metadata (``klyph.crop``, source pixels), the captions as a
  track of kind ``Subtitle`` whose items are generator clips with the text.
- EDL: cuts only; a comment on each event gives the crop and says that an EDL cannot carry one.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Literal

from chalicelib.domain.captions import Cue

Format = Literal["fcpxml", "otio", "edl", "srt", "vtt"]
FORMATS: tuple[str, ...] = ("fcpxml", "otio", "edl", "srt", "vtt")
EXTENSIONS = {"fcpxml": "fcpxml", "otio": "otio", "edl": "edl", "srt": "srt", "vtt": "vtt"}
CONTENT_TYPES = {
    "fcpxml": "application/xml; charset=utf-8",
    "otio": "application/json; charset=utf-8",
    "edl": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}
DEFAULT_FPS = 25.0
SUBTITLE_KIND = "Subtitle"


@dataclass(frozen=True)
class Source:
    """The uploaded file as the editor has it."""

    filename: str
    duration: float
    fps: float | None
    width: int | None
    height: int | None
    has_audio: bool = True


@dataclass(frozen=True)
class Crop:
    """Source pixels of the clip's frame (at its middle) and the size it is rendered at."""

    x: int
    y: int
    w: int
    h: int
    out_w: int
    out_h: int


@dataclass(frozen=True)
class TimelineClip:
    name: str
    start: float  # source seconds
    end: float
    crop: Crop | None = None
    layout: str | None = None
    cues: list[Cue] = field(default_factory=list)  # clip time


def rate_of(fps: float | None) -> float:
    """The timeline's rate: the source's, whole when it is within 0.01 of whole (25, 30), the
    exact NTSC rate near one (29.97 is 30000/1001: timecode knows no other), else as measured."""
    if not fps or fps <= 0 or not math.isfinite(fps):
        return DEFAULT_FPS
    if abs(fps - round(fps)) < 0.01:
        return float(round(fps))
    ntsc = round(fps * 1.001)
    return ntsc * 1000 / 1001 if abs(fps * 1.001 - ntsc) < 0.01 else round(fps, 3)


def frames(seconds: float, rate: float) -> int:
    return round(seconds * rate)


def export(fmt: str, source: Source, clips: list[TimelineClip], name: str) -> str:
    if fmt in ("srt", "vtt"):
        return _sidecar(fmt, clips, rate_of(source.fps))
    # The FCPXML adapter knows the NTSC rates by their usual names (29.97, 23.976), the EDL's
    # timecode only by their exact values (30000/1001).
    rate = round(rate_of(source.fps), 3) if fmt == "fcpxml" else rate_of(source.fps)
    timeline = build(source, clips, name, subtitles=fmt == "otio", rate=rate)
    import opentimelineio as otio

    if fmt == "otio":
        return otio.adapters.write_to_string(timeline, "otio_json")
    if fmt == "edl":
        return _edl(otio.adapters.write_to_string(timeline, "cmx_3600"), clips)
    if fmt == "fcpxml":
        return _fcpxml(otio.adapters.write_to_string(timeline, "fcpx_xml"), source, clips, rate_of(source.fps))
    raise ValueError(f"unknown export format {fmt!r}")


def build(source: Source, clips: list[TimelineClip], name: str, subtitles: bool = True, rate: float | None = None):
    """The OpenTimelineIO timeline: a video track of the clips (their sound comes with them),
    and with ``subtitles`` a Subtitle track of their captions."""
    import opentimelineio as otio

    rate = rate or rate_of(source.fps)

    def rt(n: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(n, rate)

    timeline = otio.schema.Timeline(name=name)
    video = otio.schema.Track(name="Video", kind=otio.schema.TrackKind.Video)
    captions = otio.schema.Track(name="Captions", kind=SUBTITLE_KIND)
    at = 0  # timeline frames
    for clip in clips:
        first, last = frames(clip.start, rate), frames(clip.end, rate)
        reference = otio.schema.ExternalReference(
            target_url=source.filename,
            available_range=otio.opentime.TimeRange(rt(0), rt(max(last, frames(source.duration, rate)))),
        )
        item = otio.schema.Clip(name=clip.name, media_reference=reference,
                                source_range=otio.opentime.TimeRange(rt(first), rt(last - first)))
        klyph: dict = {"layout": clip.layout, "startSeconds": clip.start, "endSeconds": clip.end}
        if clip.crop:
            c = clip.crop
            klyph["crop"] = {"x": c.x, "y": c.y, "w": c.w, "h": c.h, "outputWidth": c.out_w,
                             "outputHeight": c.out_h}
        item.metadata["klyph"] = klyph
        video.append(item)
        filled = at  # where the captions track has reached, timeline frames
        for cue in clip.cues:
            cue_first = max(at + frames(cue.start, rate), filled)
            cue_last = min(at + frames(cue.end, rate), at + last - first)
            if cue_last <= cue_first:
                continue
            if cue_first > filled:
                captions.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(rt(0), rt(cue_first - filled))))
            text = "\n".join(cue.lines)
            captions.append(otio.schema.Clip(
                name=text,
                media_reference=otio.schema.GeneratorReference(generator_kind=SUBTITLE_KIND,
                                                               parameters={"text": text}),
                source_range=otio.opentime.TimeRange(rt(0), rt(cue_last - cue_first)),
            ))
            filled = cue_last
        at += last - first
    timeline.tracks.append(video)
    if subtitles and len(captions):
        timeline.tracks.append(captions)
    return timeline


def _edl(text: str, clips: list[TimelineClip]) -> str:
    """The adapter's EDL with, after each clip's event, comments on what an EDL cannot carry."""
    notes = []
    for clip in clips:
        lines = []
        if clip.crop:
            c = clip.crop
            lines.append(f"* KLYPH CROP: X {c.x} Y {c.y} W {c.w} H {c.h} TO {c.out_w}X{c.out_h} "
                         "(AN EDL CANNOT CARRY A CROP: APPLY IT IN THE EDITOR)")
        if clip.layout == "split":
            lines.append("* KLYPH LAYOUT: SPLIT (TWO SPEAKERS STACKED; AN EDL CANNOT CARRY IT)")
        if clip.cues:
            lines.append("* KLYPH CAPTIONS: AN EDL CANNOT CARRY SUBTITLES: EXPORT SRT OR VTT")
        notes.append(lines)
    out: list[str] = []
    events = 0  # events seen; the video track has one per clip, in order
    for line in text.splitlines():
        if line[:3].isdigit() and events:
            out += notes[events - 1] if events <= len(notes) else []
        if line[:3].isdigit():
            events += 1
        out.append(line)
    if 0 < events <= len(notes):
        out += notes[events - 1]
    return "\n".join(out) + "\n"


def _seconds(n: int, rate: float) -> str:
    """An FCPXML time: a rational number of seconds ("1001/30000s", "12/1s")."""
    from fractions import Fraction

    ntsc = round(rate * 1.001)
    # 23.976, 29.97, 59.94: the NTSC rates are exactly 24000/1001, 30000/1001, 60000/1001.
    exact = Fraction(ntsc * 1000, 1001) if rate != round(rate) and abs(rate * 1.001 - ntsc) < 0.01 else None
    value = Fraction(n) / (exact or Fraction(rate).limit_denominator(1001))
    return f"{value.numerator}/{value.denominator}s" if value.denominator != 1 else f"{value.numerator}s"


def _fcpxml(text: str, source: Source, clips: list[TimelineClip], rate: float) -> str:
    """The adapter's FCPXML with what it leaves out: the sequence's frame size (the clips'
    output size), each clip's crop as a transform, its captions as ``caption`` elements."""
    # The adapter's own output (ElementTree does not read a DOCTYPE line).
    root = ET.fromstring(text.split("<!DOCTYPE fcpxml>", 1)[-1].strip())
    crops = [c.crop for c in clips if c.crop]
    out_w, out_h = (crops[0].out_w, crops[0].out_h) if crops else (source.width, source.height)
    resources = root.find("resources")
    sequence = root.find("./project/sequence")
    if resources is not None and sequence is not None and out_w and out_h:
        # The sequence gets its own format (the adapter's one format is the source's rate only).
        existing = {el.get("id") for el in resources}
        seq_id = next(f"r{n}" for n in range(100, 1000) if f"r{n}" not in existing)
        source_format = resources.find("format")
        frame_duration = source_format.get("frameDuration") if source_format is not None else _seconds(1, rate)
        ET.SubElement(resources, "format", id=seq_id, frameDuration=frame_duration or _seconds(1, rate),
                      width=str(out_w), height=str(out_h), name=f"Klyph {out_w}x{out_h}")
        if source_format is not None and source.width and source.height:
            source_format.set("width", str(source.width))
            source_format.set("height", str(source.height))
        sequence.set("format", seq_id)
    for stray in [el for el in root if el.tag == "asset-clip"]:
        root.remove(stray)  # the adapter's copies of the clips outside the project (not in the DTD)
    for asset in root.iter("asset"):
        asset.set("hasAudio", "1" if source.has_audio else "0")
    spine = root.find("./project/sequence/spine")
    style_ids = (f"ts{n}" for n in range(1, 1_000_000))
    items = [el for el in spine if el.tag in ("clip", "asset-clip")] if spine is not None else []
    for element, clip in zip(items, clips):
        for lane_clip in [el for el in element if el.tag in ("clip", "asset-clip") and el.get("lane")]:
            element.remove(lane_clip)  # the adapter's audio lane: the video's clip carries its sound
        picture = element.find("video")
        if element.tag == "clip" and picture is not None:
            # An asset-clip: the source's picture and its sound as one (a clip holding a video
            # element would bring the picture only).
            element.tag = "asset-clip"
            element.set("ref", picture.get("ref", ""))
            element.remove(picture)
        if clip.crop and source.width and source.height:
            # Adjustments come before the clip's story elements (the FCPXML DTD's order).
            for n, adjustment in enumerate(_transform(clip.crop, source.width, source.height)):
                element.insert(n, adjustment)
        start = frames(clip.start, rate)
        for cue in clip.cues:
            first = start + frames(cue.start, rate)
            length = max(1, frames(cue.end, rate) - frames(cue.start, rate))
            caption = ET.SubElement(element, "caption", lane="1", offset=_seconds(first, rate),
                                    duration=_seconds(length, rate), name=" ".join(cue.lines)[:60],
                                    role="iTT?captionFormat=ITT.en")
            body = ET.SubElement(caption, "text", placement="bottom")
            style_id = next(style_ids)
            ET.SubElement(body, "text-style", ref=style_id).text = "\n".join(cue.lines)
            style_def = ET.SubElement(caption, "text-style-def", id=style_id)
            ET.SubElement(style_def, "text-style", font=".SF NS Text", fontSize="13", fontColor="1 1 1 1",
                          backgroundColor="0 0 0 1")
    ET.indent(root)
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n'
    return head + ET.tostring(root, encoding="unicode") + "\n"


def _transform(crop: Crop, src_w: int, src_h: int) -> list[ET.Element]:
    """The crop as Final Cut's transform of the source in the output frame: with spatial
    conform off (source pixels 1:1), scale by output/crop height and move the crop's centre
    to the frame's centre. FCPXML positions are in percent of the frame height."""
    scale = crop.out_h / crop.h
    dx = (src_w / 2 - (crop.x + crop.w / 2)) * scale
    dy = ((crop.y + crop.h / 2) - src_h / 2) * scale  # FCP's y grows upwards
    return [
        ET.Element("adjust-conform", type="none"),
        ET.Element("adjust-transform", position=f"{100 * dx / crop.out_h:.4f} {100 * dy / crop.out_h:.4f}",
                   scale=f"{scale:.6f} {scale:.6f}", anchor="0 0"),
    ]


def _sidecar(fmt: str, clips: list[TimelineClip], rate: float) -> str:
    """The clips' captions on the timeline's clock (each clip's cues shifted by where it starts)."""
    from chalicelib.domain import captions

    shifted: list[Cue] = []
    at = 0.0
    for clip in clips:
        length = (frames(clip.end, rate) - frames(clip.start, rate)) / rate
        shifted += [Cue(at + c.start, at + min(c.end, length), c.lines) for c in clip.cues if c.start < length]
        at += length
    return captions.srt_of(shifted) if fmt == "srt" else captions.vtt_of(shifted)
