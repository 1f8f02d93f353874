"""Pure media rules: probe parsing (on output captured from the shipped ffmpeg 9.0.2), limits,
clip geometry and the ffmpeg argument lists."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.media import (
    ASPECT_RATIOS,
    DOWNMIX,
    TARGET_SIZES,
    MediaInfo,
    check_limits,
    crop_box,
    extract_audio_args,
    filter_path,
    loudness_args,
    output_size,
    parse_loudness,
    parse_probe,
    probe_args,
    render_args,
    speech_audio_filter,
    thumbnail_args,
    video_filter,
)
from chalicelib.errors import MediaError

MP4 = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/tmp/mf/v.mp4':
  Metadata:
    major_brand     : isom
    minor_version   : 512
    compatible_brands: isomiso2avc1mp41
    encoder         : Lavf63.1.102
  Duration: 00:00:03.00, start: 0.000000, bitrate: 690 kb/s
  Stream #0:0[0x1](und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p(progressive), 320x180 [SAR 1:1 DAR 16:9], 611 kb/s, 25 fps, 25 tbr, 12800 tbn (default)
    Metadata:
      handler_name    : VideoHandler
      encoder         : Lavc63.1.102 libx264
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
At least one output file must be specified
"""  # noqa: E501 - ffmpeg's output as captured

MOV = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.mov':
  Metadata:
    major_brand     : qt  
    minor_version   : 512
    compatible_brands: qt  
    encoder         : Lavf63.1.102
  Duration: 00:00:03.00, start: 0.000000, bitrate: 690 kb/s
  Stream #0:0[0x1]: Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p(progressive), 320x180 [SAR 1:1 DAR 16:9], 611 kb/s, 25 fps, 25 tbr, 12800 tbn (default)
    Metadata:
      handler_name    : VideoHandler
      vendor_id       : FFMP
      encoder         : Lavc63.1.102 libx264
  Stream #0:1[0x2]: Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
      vendor_id       : [0][0][0][0]
At least one output file must be specified
"""  # noqa: E501, W291 - ffmpeg's output as captured: long stream lines, brands padded to 4 characters

MKV = """\
Input #0, matroska,webm, from 'a.mkv':
  Metadata:
    COMPATIBLE_BRANDS: isomiso2avc1mp41
    MAJOR_BRAND     : isom
    MINOR_VERSION   : 512
    ENCODER         : Lavf63.1.102
  Duration: 00:00:03.02, start: 0.000000, bitrate: 682 kb/s
  Stream #0:0: Video: h264 (Constrained Baseline), yuv420p(progressive), 320x180 [SAR 1:1 DAR 16:9], 25 fps, 25 tbr, 1k tbn (default)
    Metadata:
      HANDLER_NAME    : VideoHandler
      ENCODER         : Lavc63.1.102 libx264
      DURATION        : 00:00:03.000000000
  Stream #0:1: Audio: aac (LC), 44100 Hz, mono, fltp (default)
    Metadata:
      HANDLER_NAME    : SoundHandler
      DURATION        : 00:00:03.023000000
At least one output file must be specified
"""  # noqa: E501 - ffmpeg's output as captured

WEBM = """\
Input #0, matroska,webm, from 'a.webm':
  Metadata:
    ENCODER         : Lavf63.1.102
  Duration: 00:00:03.01, start: 0.000000, bitrate: 328 kb/s
  Stream #0:0: Video: vp8, yuv420p(tv, progressive), 320x180, SAR 1:1 DAR 16:9, 25 fps, 25 tbr, 1k tbn
    Metadata:
      ENCODER         : Lavc63.1.102 libvpx
      DURATION        : 00:00:03.000000000
  Stream #0:1: Audio: opus, 48000 Hz, mono, fltp
    Metadata:
      ENCODER         : Lavc63.1.102 libopus
      DURATION        : 00:00:03.008000000
At least one output file must be specified
"""

# A phone video stored landscape with a rotation flag: ffmpeg decodes it upright (portrait).
ROTATED = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/tmp/mf/rot.mp4':
  Metadata:
    major_brand     : isom
    minor_version   : 512
    compatible_brands: isomiso2avc1mp41
    encoder         : Lavf63.1.102
  Duration: 00:00:03.00, start: 0.000000, bitrate: 689 kb/s
  Stream #0:0[0x1](und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p(progressive), 320x180 [SAR 1:1 DAR 16:9], 611 kb/s, 25 fps, 25 tbr, 12800 tbn (default)
    Metadata:
      handler_name    : VideoHandler
      encoder         : Lavc63.1.102 libx264
    Side data:
      Display Matrix: rotation of 90.00 degrees
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, mono, fltp, 69 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
At least one output file must be specified
"""  # noqa: E501 - ffmpeg's output as captured

COVER_ART_ONLY = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'cov.m4a':
  Metadata:
    major_brand     : M4A 
  Duration: 00:00:03.00, start: 0.000000, bitrate: 100 kb/s
  Stream #0:0[0x1](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 88 kb/s (default)
  Stream #0:1[0x0]: Video: png, rgb24(pc, gbr/unknown/unknown), 64x64 [SAR 1:1 DAR 1:1], 90k tbr, 90k tbn (attached pic)
At least one output file must be specified
"""  # noqa: W291 - as ffmpeg prints it: brands are padded to four characters ("qt  ", "M4A ")

AUDIO_ONLY_M4A = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'au.m4a':
  Metadata:
    major_brand     : M4A 
    minor_version   : 512
    compatible_brands: M4A isomiso2
    encoder         : Lavf63.1.102
  Duration: 00:00:02.00, start: 0.000000, bitrate: 75 kb/s
  Stream #0:0[0x1](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
At least one output file must be specified
"""  # noqa: W291 - as ffmpeg prints it: brands are padded to four characters ("qt  ", "M4A ")

# Without the demuxer allowlist (a defence in depth check in parse_probe itself).
MP3 = """\
Input #0, mp3, from '/tmp/mf/au.mp3':
  Metadata:
    encoder         : Lavf63.1.102
  Duration: 00:00:02.00, start: 0.025057, bitrate: 66 kb/s
  Stream #0:0: Audio: mp3 (mp3float), 44100 Hz, mono, fltp, 64 kb/s, start 0.025057
At least one output file must be specified
"""

NOT_ON_WHITELIST = """\
[in#0 @ 0x55ea2da08180] Format not on whitelist 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm'
[in#0 @ 0x55ea2da07e40] Error opening input: Invalid argument
Error opening input file file:/tmp/mf/hls.m3u8.
Error opening input files: Invalid argument
"""

TEXT_AS_MP4 = """\
[in#0 @ 0x558a06ff6180] Format mov,mp4,m4a,3gp,3g2,mj2 detected only with low score of 1, misdetection possible!
[in#0 @ 0x558a06ff6180] moov atom not found
[in#0 @ 0x558a06ff5e40] Error opening input: Invalid data found when processing input
Error opening input file file:/tmp/mf/txt.mp4.
Error opening input files: Invalid data found when processing input
"""

TRUNCATED_MP4 = """\
[in#0 @ 0x5614dd31f180] moov atom not found
[in#0 @ 0x5614dd31ee40] Error opening input: Invalid data found when processing input
Error opening input file file:/tmp/mf/trunc.mp4.
Error opening input files: Invalid data found when processing input
"""

# A webm written to a pipe (as browser recorders do) has no duration in its header.
NO_DURATION = """\
Input #0, matroska,webm, from 'live.webm':
  Metadata:
    ENCODER         : Lavf63.1.102
  Duration: N/A, start: 0.000000, bitrate: N/A
  Stream #0:0: Video: vp8, yuv420p(tv, progressive), 320x180, SAR 1:1 DAR 16:9, 25 fps, 25 tbr, 1k tbn
    Metadata:
      ENCODER         : Lavc63.1.102 libvpx
At least one output file must be specified
"""


@pytest.mark.parametrize(
    "stderr, container, video_codec, audio_codec, duration",
    [
        (MP4, "mp4", "h264", "aac", 3.0),
        (MOV, "mov", "h264", "aac", 3.0),
        (MKV, "mkv", "h264", "aac", 3.02),
        (WEBM, "webm", "vp8", "opus", 3.01),
    ],
)
def test_parse_probe_reads_each_container(stderr, container, video_codec, audio_codec, duration):
    info = parse_probe(stderr, 1234)
    assert (info.container, info.video_codec, info.audio_codec) == (container, video_codec, audio_codec)
    assert (info.width, info.height, info.fps, info.duration_seconds) == (320, 180, 25.0, duration)
    assert info.has_video and info.has_audio and info.size_bytes == 1234


def test_parse_probe_reports_the_upright_size_of_rotated_video():
    info = parse_probe(ROTATED, 10)
    assert (info.width, info.height) == (180, 320)


@pytest.mark.parametrize(
    "stderr, size, reason",
    [
        ("", 0, "empty_file"),
        (TEXT_AS_MP4, 6, "not_a_video"),
        (TRUNCATED_MP4, 129314, "corrupt"),
        (NOT_ON_WHITELIST, 200, "unsupported_container"),
        (MP3, 16000, "unsupported_container"),
        (AUDIO_ONLY_M4A, 18000, "no_video_stream"),
        (COVER_ART_ONLY, 18000, "no_video_stream"),
        (NO_DURATION, 50000, "unknown_duration"),
    ],
)
def test_parse_probe_rejects(stderr, size, reason):
    with pytest.raises(MediaError) as raised:
        parse_probe(stderr, size)
    assert raised.value.code == reason
    assert raised.value.message and "Traceback" not in raised.value.message


def test_media_info_round_trips_through_json_dict():
    info = parse_probe(WEBM, 221248)
    data = info.to_dict()
    assert set(data) == {
        "container", "durationSeconds", "width", "height", "fps", "hasAudio", "hasVideo",
        "videoCodec", "audioCodec", "sizeBytes",
    }
    assert MediaInfo.from_dict(data) == info


LIMITS = {"max_seconds": 3600.0, "max_pixels": 3840 * 2160, "max_bytes": 10 * 1024**3}


@pytest.mark.parametrize(
    "changes, reason, named",
    [
        ({"duration_seconds": 3600.5}, "too_long", ["1:00:00", "1:00:00"]),
        ({"width": 7680, "height": 4320}, "too_large_dimensions", ["7680x4320", "8,294,400"]),
        ({"size_bytes": 11 * 1024**3}, "too_large_file", ["11.0 GB", "10.0 GB"]),
    ],
)
def test_check_limits_names_value_and_limit(changes, reason, named):
    info = replace(parse_probe(MP4, 1000), **changes)
    with pytest.raises(MediaError) as raised:
        check_limits(info, **LIMITS)
    assert raised.value.code == reason
    assert all(text in raised.value.message for text in named)


def test_check_limits_accepts_video_at_the_limits():
    info = replace(parse_probe(MP4, 10 * 1024**3), duration_seconds=3600.0, width=3840, height=2160)
    check_limits(info, **LIMITS)


@pytest.mark.parametrize(
    "src, aspect, expected",
    [
        ((3840, 2160), "9:16", (1080, 1920)),
        ((3840, 2160), "1:1", (1080, 1080)),
        ((3840, 2160), "16:9", (1920, 1080)),
        ((1920, 1080), "16:9", (1920, 1080)),
        ((1920, 1080), "1:1", (1080, 1080)),
        ((1920, 1080), "9:16", (606, 1080)),  # 1080 * 9/16 = 607.5, floored to even
        ((1280, 720), "9:16", (404, 720)),
        ((1280, 720), "1:1", (720, 720)),
        ((1280, 720), "16:9", (1280, 720)),
        ((1080, 1920), "9:16", (1080, 1920)),  # portrait phone video
        ((1080, 1920), "1:1", (1080, 1080)),
        ((1080, 1920), "16:9", (1080, 606)),
        ((720, 1280), "9:16", (720, 1280)),
        ((641, 361), "16:9", (640, 360)),  # odd source
        ((160, 90), "9:16", (50, 90)),  # tiny
        ((32, 18), "9:16", (10, 18)),
        ((4, 2), "9:16", (2, 2)),  # degenerate: never below 2x2
    ],
)
def test_output_size_never_upscales(src, aspect, expected):
    w, h = output_size(*src, aspect)
    assert (w, h) == expected
    assert w % 2 == 0 and h % 2 == 0 and (
        (w <= max(src[0], 2) and h <= max(src[1], 2)) or (w, h) == TARGET_SIZES[aspect])


@pytest.mark.parametrize("aspect", ASPECT_RATIOS)
@pytest.mark.parametrize("src", [(1280, 720), (720, 1280), (1920, 1080), (641, 361), (1000, 1000)])
def test_crop_box_is_largest_even_crop_inside_frame(src, aspect):
    w, h, x, y = crop_box(*src, aspect)
    rw, rh = ASPECT_RATIOS[aspect]
    assert all(v % 2 == 0 for v in (w, h, x, y))
    assert 0 <= x and x + w <= src[0] and 0 <= y and y + h <= src[1]
    assert abs(w / h - rw / rh) < 0.01
    # One side uses (nearly) all of the frame.
    assert src[0] - w < 2 or src[1] - h < 2


def test_crop_box_centres_and_follows_center_x():
    assert crop_box(1280, 720, "9:16") == (404, 720, 438, 0)
    assert crop_box(1280, 720, "9:16", center_x=0.0) == (404, 720, 0, 0)
    assert crop_box(1280, 720, "9:16", center_x=1.0) == (404, 720, 876, 0)
    assert crop_box(1280, 720, "9:16", center_x=0.25) == (404, 720, 118, 0)
    assert crop_box(1280, 720, "9:16", center_x=-3) == (404, 720, 0, 0)
    assert crop_box(720, 1280, "16:9") == (720, 404, 0, 438)


def test_unknown_aspect_is_a_media_error():
    with pytest.raises(MediaError) as raised:
        crop_box(1280, 720, "4:3")
    assert raised.value.code == "unsupported_aspect"


HARDENING = ["-nostdin", "-protocol_whitelist", "file", "-format_whitelist", "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"]


def _has_sequence(args: list[str], seq: list[str]) -> bool:
    return any(args[i: i + len(seq)] == seq for i in range(len(args)))


def _options_before_input(args: list[str]) -> list[str]:
    return args[: args.index("-i")]


@pytest.mark.parametrize(
    "args",
    [
        probe_args("/tmp/in.mp4"),
        extract_audio_args("/tmp/in.mp4", "/tmp/a.wav"),
        render_args("/tmp/in.mp4", "/tmp/out.mp4", start=1, end=2, aspect="9:16", width=1280, height=720),
        loudness_args("/tmp/in.mp4", start=1, end=2),
        thumbnail_args("/tmp/in.mp4", "/tmp/t.jpg", at=1.0),
    ],
    ids=["probe", "extract_audio", "render", "loudness", "thumbnail"],
)
def test_every_input_is_hardened(args):
    before = _options_before_input(args)
    assert "-nostdin" in before
    for option in (HARDENING[1:3], HARDENING[3:5]):
        assert _has_sequence(before, option)
    assert args[args.index("-i") + 1] == "file:/tmp/in.mp4"
    assert args[0].startswith("-")  # the adapter prepends the binary


def test_extract_audio_args_make_mono_16k_pcm_wav_without_video():
    args = extract_audio_args("/tmp/in.mp4", "/tmp/a.wav")
    for seq in (["-map", "0:a:0"], ["-ac", "1"], ["-ar", "16000"], ["-c:a", "pcm_s16le"], ["-f", "wav"]):
        assert _has_sequence(args, seq)
    assert "-vn" in args and args[-1] == "file:/tmp/a.wav"


def test_render_args_seek_accurately_crop_scale_and_encode_for_the_web():
    args = render_args("/tmp/in.mp4", "/tmp/out.mp4", start=12.5, end=42.25, aspect="9:16", width=3840, height=2160)
    before = _options_before_input(args)
    assert _has_sequence(before, ["-ss", "12.500"]) and _has_sequence(before, ["-t", "29.750"])
    assert _has_sequence(args, ["-vf", "crop=1214:2160:1312:0,scale=1080:1920,setsar=1"])
    for seq in (
        ["-map", "0:v:0"], ["-map", "0:a:0?"],
        ["-c:v", "libx264"], ["-preset", "veryfast"], ["-crf", "22"], ["-pix_fmt", "yuv420p"],
        ["-c:a", "aac"], ["-b:a", "160k"], ["-ar", "48000"],
        ["-movflags", "+faststart"], ["-f", "mp4"],
    ):
        assert _has_sequence(args, seq), seq
    fs = int(args[args.index("-fs") + 1])
    assert 100 * 1024**2 < fs < 1024**3
    assert args[-1] == "file:/tmp/out.mp4"


def test_render_args_pass_preset_crf_and_center():
    args = render_args(
        "i.mp4", "o.mp4", start=0, end=1, aspect="1:1", width=1280, height=720, preset="slow", crf=20, center_x=0.0
    )
    assert _has_sequence(args, ["-preset", "slow"]) and _has_sequence(args, ["-crf", "20"])
    assert _has_sequence(args, ["-vf", "crop=720:720:0:0,scale=720:720,setsar=1"])


@pytest.mark.parametrize("start, end", [(5, 5), (5, 4), (-1, 3)])
def test_render_args_reject_bad_ranges(start, end):
    with pytest.raises(MediaError) as raised:
        render_args("i.mp4", "o.mp4", start=start, end=end, aspect="9:16", width=1280, height=720)
    assert raised.value.code == "invalid_range"


def test_extract_audio_args_measure_levels_per_second_in_the_same_pass():
    args = extract_audio_args("/tmp/in.mp4", "/tmp/a.wav", "/tmp/levels.txt")
    chain = args[args.index("-af") + 1]
    assert chain == (
        "aresample=16000,aformat=sample_fmts=s16:channel_layouts=mono,asetnsamples=n=16000:p=0,"
        "astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=RMS_level,"
        "ametadata=mode=print:key=lavfi.astats.Overall.RMS_level:file=/tmp/levels.txt"
    )
    assert args[-1] == "file:/tmp/a.wav"


@pytest.mark.parametrize(
    "path, escaped",
    [
        ("/tmp/x/captions.ass", "/tmp/x/captions.ass"),
        ("/tmp/a b/c.ass", "/tmp/a b/c.ass"),
        ("C:/x.ass", "C\\\\:/x.ass"),
        ("/t/a,b;c[d].ass", "/t/a\\,b\\;c\\[d\\].ass"),
        ("/t/it's.ass", "/t/it\\\\\\'s.ass"),
    ],
)
def test_filter_path_escapes_both_levels(path, escaped):
    assert filter_path(path) == escaped


def test_video_filter_static_crop_captions_and_moving_crop():
    assert video_filter(3840, 2160, "9:16") == "crop=1214:2160:1312:0,scale=1080:1920,setsar=1"
    assert video_filter(3840, 2160, "9:16", captions="/w/c.ass", fonts_dir="/app/fonts") == (
        "crop=1214:2160:1312:0,scale=1080:1920,setsar=1,ass=filename=/w/c.ass:fontsdir=/app/fonts:shaping=complex"
    )
    # The reframe hook: sendcmd drives a named crop, which starts centred.
    assert video_filter(1920, 1080, "9:16", crop_commands="/w/crop.cmd") == (
        "sendcmd=f=/w/crop.cmd,crop@reframe=w=606:h=1080:x=656:y=0,scale=606:1080,setsar=1"
    )
    # The split layout: two crops, each scaled to half the 9:16 frame, stacked; then captions.
    assert video_filter(1920, 1080, "9:16", panels=[(100, 200, 606, 540), (1200, 180, 700, 622)],
                        captions="/w/c.ass") == (
        "split=2[p0][p1];[p0]crop=606:540:100:200,scale=606:540,setsar=1[s0];"
        "[p1]crop=700:622:1200:180,scale=606:540,setsar=1[s1];[s0][s1]vstack=inputs=2,ass=filename=/w/c.ass:shaping=complex"
    )


def test_render_args_carry_captions_crop_commands_and_audio_chain():
    chain = speech_audio_filter(-30.0, 18.5)
    args = render_args(
        "/in.mp4", "/out.mp4", start=2, end=32, aspect="9:16", width=1920, height=1080,
        crop_commands="/w/crop.cmd", captions="/w/c.ass", fonts_dir="/f", audio_filter=chain,
    )
    assert _has_sequence(args, [
        "-vf", video_filter(1920, 1080, "9:16", crop_commands="/w/crop.cmd", captions="/w/c.ass", fonts_dir="/f"),
    ])
    assert _has_sequence(args, ["-af", chain])
    assert render_args("i.mp4", "o.mp4", start=0, end=1, aspect="1:1", width=1280, height=720)[
        render_args("i.mp4", "o.mp4", start=0, end=1, aspect="1:1", width=1280, height=720).index("-af") + 1
    ] == DOWNMIX


def test_speech_audio_filter_compresses_gains_and_limits():
    assert speech_audio_filter() == DOWNMIX
    chain = speech_audio_filter(-30.0, 18.5)
    assert chain.startswith(DOWNMIX + ",acompressor=threshold=0.063096:ratio=2.5")  # -24 dBFS: 6 dB above the source
    assert "volume=18.50dB" in chain
    assert "alimiter=limit=0.7499:" in chain and "level=false" in chain and "latency=true" in chain  # -2.5 dBFS
    assert chain.endswith(",afade=t=in:d=0.1"), "the clip fades in: the first frames of the AAC overshot"


def test_loudness_args_decode_only_the_clip_audio():
    args = loudness_args("/in.mp4", start=12.5, end=42.25, audio_filter="volume=3dB")
    before = _options_before_input(args)
    assert _has_sequence(before, ["-ss", "12.500"]) and _has_sequence(before, ["-t", "29.750"])
    assert _has_sequence(args, ["-vn"]) and _has_sequence(args, ["-af", "volume=3dB,ebur128"])
    assert args[-3:] == ["-f", "null", "-"]
    whole = loudness_args("/in.mp4")
    assert "-ss" not in whole and "-t" not in whole


EBUR128_SUMMARY = """[Parsed_ebur128_1 @ 0x7f5ea0001b80] Summary:

  Integrated loudness:
    I:         -14.2 LUFS
    Threshold: -24.5 LUFS

  Loudness range:
    LRA:         1.8 LU
"""


def test_parse_loudness_reads_the_summary():
    progress = "[Parsed_ebur128_1 @ 0x1] t: 0.1 M: -120.7 S: -120.7 I: -70.0 LUFS\n"
    assert parse_loudness(progress + EBUR128_SUMMARY) == -14.2
    assert parse_loudness(EBUR128_SUMMARY.replace("-14.2", "-inf")) == -70.0
    assert parse_loudness("Stream map '0:a:0' matches no streams.") is None


def test_thumbnail_args_take_one_jpeg_frame_a_third_in():
    args = thumbnail_args("/c.mp4", "/t.jpg", at=10.0, quality=5)
    assert _has_sequence(_options_before_input(args), ["-ss", "10.000"])
    for seq in (["-frames:v", "1"], ["-c:v", "mjpeg"], ["-q:v", "5"], ["-f", "image2"]):
        assert _has_sequence(args, seq), seq
    assert args[-1] == "file:/t.jpg"


def test_allow_upscale_renders_small_sources_at_the_platform_size_with_lanczos_and_notes_say_so():
    from chalicelib.domain.media import resolution_note, video_filter

    assert output_size(640, 360, "9:16", upscale=True) == (1080, 1920)
    assert output_size(640, 360, "9:16") == (202, 360)
    assert "scale=1080:1920:flags=lanczos" in video_filter(640, 360, "9:16", upscale=True)
    assert "flags=lanczos" not in video_filter(3840, 2160, "9:16")
    note = resolution_note(640, 360, "9:16", upscale=False)
    assert note and "202x360" in note and "allowUpscale" in note
    assert "upscaled" in resolution_note(640, 360, "9:16", upscale=True)
    assert resolution_note(1920, 1080, "16:9", upscale=False) is None
    # A 1080p landscape source gives 606x1080 portrait clips: 606 px on the short side, noted too.
    assert "606x1080" in resolution_note(1920, 1080, "9:16", upscale=False)
    assert resolution_note(3840, 2160, "9:16", upscale=False) is None
