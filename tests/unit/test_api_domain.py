"""The API edge's pure parts: slugs, titles from filenames, multipart parsing and request models."""
from __future__ import annotations

import os

import pytest

from chalicelib import models
from chalicelib.domain.filenames import MAX_TITLE, title_from_filename
from chalicelib.domain.multipart import parse_multipart
from chalicelib.domain.slug import MAX_SLUG_LENGTH, numbered, slugify
from chalicelib.errors import BadRequest

# slugify


@pytest.mark.parametrize(
    "name, slug",
    [
        ("Fall Interviews", "fall-interviews"),
        ("Café Ünïcode", "cafe-unicode"),
        ("  Q&A -- 2024!  ", "q-a-2024"),
        ("ＦＵＬＬ width", "full-width"),  # noqa: RUF001 - NFKD folds compatibility forms too
    ],
)
def test_slugify_folds_to_lowercase_ascii_words(name, slug):
    assert slugify(name) == slug


@pytest.mark.parametrize("name", ["!!!", "   ", "日本語のトーク", "🎬🎤"])
def test_slugify_of_a_name_without_latin_letters_is_still_usable(name):
    assert slugify(name) == "project"


def test_slugify_caps_the_length_without_a_trailing_hyphen():
    slug = slugify("word " * 100)
    assert 0 < len(slug) <= MAX_SLUG_LENGTH
    assert not slug.endswith("-") and not slug.startswith("-")
    # The cut falls right after a hyphen here; it must be stripped, not kept.
    assert slugify("x" * (MAX_SLUG_LENGTH - 1) + " yy") == "x" * (MAX_SLUG_LENGTH - 1)


def test_numbered_candidates_start_with_the_bare_slug():
    assert [numbered("talk", n) for n in (1, 2, 10)] == ["talk", "talk-2", "talk-10"]


# title_from_filename


@pytest.mark.parametrize(
    "filename, title",
    [
        ("Interview.mp4", "Interview"),
        ("../../etc/passwd.mp4", "passwd"),
        ("C:\\x\\y.mov", "y"),
        ("/abs/dir/clip.final.mkv", "clip.final"),
        ("my_video__final.mp4", "my video final"),
        ("Café Ünïcode 日本.webm", "Café Ünïcode 日本"),
        ("a\x00b\x1b[31mc\x7f.mp4", "ab[31mc"),
        ("\u202egnp.exe", "gnp"),  # right-to-left override is a control (Cf) char
        ("video.", "video"),
    ],
)
def test_title_from_filename_keeps_only_a_printable_base_name(filename, title):
    assert title_from_filename(filename) == title


@pytest.mark.parametrize("filename", ["", "...", "dir/", "C:\\dir\\", "\x00\x01", " _ .mp4"])
def test_title_from_an_empty_or_unprintable_filename_is_untitled(filename):
    assert title_from_filename(filename) == "Untitled video"


def test_title_from_a_huge_filename_is_capped():
    title = title_from_filename("x" * 5000 + ".mp4")
    assert title == "x" * MAX_TITLE


def test_title_never_contains_a_path_separator_or_control_char():
    title = title_from_filename("a/b\\c\n\r\t/..\\../évil\x1f name.mp4")
    assert title == "évil name"


# parse_multipart


def _multipart(boundary: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> bytes:
    out = b""
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, (filename, data) in files.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def test_parse_multipart_returns_fields_and_the_file_bytes_unchanged():
    # Line endings, dashes and NULs in the data must survive exactly: this is video data.
    data = os.urandom(50_000) + b"\r\n--other\r\n\r\n\r\x00\n\r\n" + bytes(range(256)) + b"\r\n"
    body = _multipart("bnd", {"account_id": "acc_1", "project_id": "proj_1"}, {"file": ("Café.mp4", data)})
    form = parse_multipart("multipart/form-data; boundary=bnd", body)
    assert form.fields == {"account_id": "acc_1", "project_id": "proj_1"}
    assert form.files["file"][0] == "Café.mp4"
    assert form.files["file"][1] == data


def test_parse_multipart_accepts_a_quoted_boundary_and_an_empty_file():
    body = _multipart("b-1", {}, {"file": ("empty.mp4", b"")})
    form = parse_multipart('multipart/form-data; boundary="b-1"', body)
    assert form.files == {"file": ("empty.mp4", b"")}


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/json", ""])
def test_parse_multipart_without_a_boundary_is_a_bad_request(content_type):
    with pytest.raises(BadRequest, match="boundary"):
        parse_multipart(content_type, _multipart("bnd", {"a": "b"}, {}))


def test_parse_multipart_rejects_a_body_that_is_not_multipart():
    with pytest.raises(BadRequest, match="multipart"):
        parse_multipart("multipart/form-data; boundary=bnd", b"just some text")


def test_parse_multipart_names_a_field_that_is_not_utf8():
    body = b'--b\r\nContent-Disposition: form-data; name="project_id"\r\n\r\n\xff\xfe\r\n--b--\r\n'
    with pytest.raises(BadRequest, match="project_id"):
        parse_multipart("multipart/form-data; boundary=b", body)


# models.parse(SubmitJob)


def _submit(**fields):
    return models.parse(models.SubmitJob, {"videoId": "vid_01ABC", **fields})


def test_submit_job_defaults_follow_the_contract():
    job = _submit()
    assert (job.maxClips, job.minDuration, job.maxDuration, job.aspectRatio) == (3, 30, 60, "9:16")
    assert job.customInstructions is None
    assert job.language == "auto"


def test_submit_job_language_is_a_known_code_stored_in_lower_case():
    assert _submit(language="ES").language == "es"
    assert _submit(language="auto").options().language == "auto"


def test_submit_job_accepts_every_documented_option():
    job = _submit(maxClips=10, minDuration=5, maxDuration=180, aspectRatio="16:9", customInstructions="x" * 4000)
    assert (job.maxClips, job.minDuration, job.maxDuration, job.aspectRatio) == (10, 5, 180, "16:9")


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"maxclips": 3}, "maxclips"),  # a typo must not be ignored
        ({"maxClips": "3"}, "maxClips"),
        ({"maxClips": 0}, "maxClips"),
        ({"maxClips": 11}, "maxClips"),
        ({"maxClips": 2.5}, "maxClips"),
        ({"maxClips": True}, "maxClips"),
        ({"maxClips": None}, "maxClips"),
        ({"minDuration": float("nan")}, "minDuration"),
        ({"minDuration": float("inf")}, "minDuration"),
        ({"maxDuration": float("-inf")}, "maxDuration"),
        ({"minDuration": -5}, "minDuration"),
        ({"minDuration": 1e9}, "minDuration"),
        ({"minDuration": True}, "minDuration"),
        ({"minDuration": "30"}, "minDuration"),
        ({"maxDuration": 500}, "maxDuration"),
        ({"minDuration": 50, "maxDuration": 40}, "minDuration"),
        ({"aspectRatio": "4:3"}, "aspectRatio"),
        ({"reframe": "track"}, "reframe"),
        ({"reframe": "split", "aspectRatio": "1:1"}, "reframe"),
        ({"reframe": "split", "aspectRatio": "16:9"}, "reframe"),
        ({"customInstructions": "x" * 4001}, "customInstructions"),
        ({"customInstructions": 42}, "customInstructions"),
        ({"language": "xx"}, "language: 'xx' is not a language code"),
        ({"language": ""}, "language"),
        ({"language": 1}, "language"),
        ({"language": None}, "language"),
        ({"videoId": "../etc"}, "videoId"),
        ({"videoId": None}, "videoId"),
    ],
)
def test_submit_job_rejects_bad_input_naming_the_field(fields, named):
    with pytest.raises(BadRequest) as raised:
        _submit(**fields)
    assert named in raised.value.message
    assert raised.value.status == 400 and raised.value.code == "bad_request"


def test_split_is_a_portrait_layout():
    assert _submit(reframe="split").reframe == "split"
    with pytest.raises(BadRequest, match=r"reframe: 'split' stacks two speakers in a 9:16 frame; with aspectRatio 1:1"):
        _submit(reframe="split", aspectRatio="1:1")


def test_submit_job_reports_a_missing_video_id_as_required():
    with pytest.raises(BadRequest, match=r"videoId: is required"):
        models.parse(models.SubmitJob, {})


def test_submit_job_min_over_max_names_both_values():
    with pytest.raises(BadRequest) as raised:
        _submit(minDuration=50, maxDuration=40)
    assert "minDuration (50)" in raised.value.message and "maxDuration (40)" in raised.value.message


@pytest.mark.parametrize("body", [[], [{"videoId": "vid_1"}], "vid_1", 3, None])
def test_a_body_that_is_not_an_object_is_rejected(body):
    with pytest.raises(BadRequest, match="JSON object"):
        models.parse(models.SubmitJob, body)


def test_create_upload_size_must_be_a_positive_json_integer():
    base = {"accountId": "acc_1", "projectId": "proj_1", "filename": "a.mp4"}
    assert models.parse(models.CreateUpload, {**base, "sizeBytes": 12}).sizeBytes == 12
    for bad in ("12", 0, -1, 1.5, True):
        with pytest.raises(BadRequest, match="sizeBytes"):
            models.parse(models.CreateUpload, {**base, "sizeBytes": bad})
