"""Editor timelines from clips (domain.timeline), read back with OpenTimelineIO: in/out points on
the source's frames at any rate, NTSC rates exact in FCPXML, captions where the format has room."""
from __future__ import annotations

import opentimelineio as otio
import pytest

from chalicelib.domain import timeline
from chalicelib.domain.captions import Cue

CLIPS = [
    timeline.TimelineClip("Tomatoes", 12.5, 32.52, timeline.Crop(219, 0, 202, 360, 202, 360), "auto",
                          [Cue(0.2, 1.5, ["Hello there"]), Cue(2.0, 4.0, ["Ripe", "tomatoes"])]),
    timeline.TimelineClip("Bikes", 40.04, 50.0, None, "split", []),
]


@pytest.mark.parametrize("fps", [25.0, 29.97, 30.0, 23.976])
def test_in_and_out_points_come_back_within_half_a_frame_in_every_format(fps):
    source = timeline.Source("talk.mp4", 60.0, fps, 640, 360)
    rate = timeline.rate_of(fps)
    formats = [("otio", "otio_json"), ("edl", "cmx_3600")]
    if fps == round(fps):
        # (The FCPXML adapter reads NTSC times back up to a frame off, though the file has them
        # exactly: see the next test.)
        formats.append(("fcpxml", "fcpx_xml"))
    for fmt, adapter in formats:
        text = timeline.export(fmt, source, CLIPS, "talk")
        read = otio.adapters.read_from_string(text, adapter, **({"rate": rate} if fmt == "edl" else {}))
        track = next(t for t in read.tracks if t.kind == otio.schema.TrackKind.Video)
        got = [(c.source_range.start_time.to_seconds(), c.source_range.end_time_exclusive().to_seconds())
               for c in track if isinstance(c, otio.schema.Clip)]
        assert len(got) == 2, (fmt, fps)
        for (a, b), clip in zip(got, CLIPS):
            assert abs(a - clip.start) <= 0.5 / rate + 1e-6 and abs(b - clip.end) <= 0.5 / rate + 1e-6, (fmt, fps)


def test_ntsc_rates_are_exact_fractions_in_fcpxml_and_captions_and_crops_go_where_each_format_can():
    source = timeline.Source("talk.mp4", 60.0, 29.97, 640, 360)
    fcpxml = timeline.export("fcpxml", source, CLIPS, "talk")
    assert 'frameDuration="1001/30000s"' in fcpxml and "<caption " in fcpxml and "adjust-transform" in fcpxml
    # 12.5 s is frame 375 (12.5125 s), exactly: 375 x 1001/30000 s.
    assert 'start="12500/999s"' in fcpxml
    edl = timeline.export("edl", source, CLIPS, "talk")
    assert edl.count("AN EDL CANNOT CARRY A CROP") == 1 and "SPLIT" in edl
    doc = otio.adapters.read_from_string(timeline.export("otio", source, CLIPS, "talk"), "otio_json")
    [subtitles] = [t for t in doc.tracks if t.kind == timeline.SUBTITLE_KIND]
    texts = [c.media_reference.parameters["text"] for c in subtitles if isinstance(c, otio.schema.Clip)]
    assert texts == ["Hello there", "Ripe\ntomatoes"]
    srt = timeline.export("srt", source, CLIPS, "talk")
    assert srt.startswith("1\n00:00:00,200 --> 00:00:01,500\nHello there\n")
