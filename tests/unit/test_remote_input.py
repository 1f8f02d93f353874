"""A source read in place over HTTP(S): only the media bucket's pinned version, exactly the
protocols its URL needs, and never the URL (a credential) in anything printed."""
from __future__ import annotations

import io

import pytest

from chalicelib.domain import media
from chalicelib.errors import MediaError

KEY = "accounts/acc_1/videos/vid_1/source"
VERSION = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
AWS = ("https://s3.amazonaws.com/klyph-media/", "https://s3.us-east-1.amazonaws.com/klyph-media/")
LOCAL = ("http://127.0.0.1:8001/klyph-media/",)
SIGNED = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261201&X-Amz-Signature=abc123"


def _url(base: str = AWS[0], key: str = KEY, version: str = "3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY") -> str:
    return f"{base}{key}?versionId={version}&{SIGNED}"


def _remote(url: str, allowed=AWS, version: str = VERSION) -> media.RemoteInput:
    return media.remote_input(url, allowed_prefixes=allowed, key=KEY, version_id=version, name=f"s3://klyph-media/{KEY}",
                              open=lambda: io.BytesIO(b""))


def test_the_pinned_version_on_the_bucket_endpoint_is_read_with_exactly_its_protocols():
    remote = _remote(_url())
    assert remote.protocols == "https,tls,tcp"
    args = media.render_args(remote, "/tmp/out.mp4", start=10, end=20, aspect="9:16", width=1920, height=1080)
    at = args.index("-i")
    assert args[at + 1] == remote.url
    opened_with = args[args.index("-protocol_whitelist", 0, at) + 1]
    assert opened_with == "https,tls,tcp" and "file" not in opened_with
    # The format allow-list is the one local files get; no redirect is followed.
    assert args[args.index("-format_whitelist") + 1] == media.INPUT_HARDENING[3]
    assert args[args.index("-max_redirects") + 1] == "0"
    # Input seeking: the mov demuxer reads the index and then the clip's ranges.
    assert args.index("-ss") < at
    # The stand-in: plain http, only because it is the configured endpoint.
    local = _remote(_url(LOCAL[0]), allowed=LOCAL)
    assert local.protocols == "http,tcp"


@pytest.mark.parametrize("url", [
    _url("https://evil.example.com/klyph-media/"),  # another host
    _url("https://s3.amazonaws.com/other-bucket/"),  # another bucket
    _url(key="accounts/acc_2/videos/vid_2/source"),  # another object
    _url(key=KEY + "/../../vid_2/source"),  # another object, by path tricks
    _url(version="another-version"),  # another version
    f"{AWS[0]}{KEY}?{SIGNED}",  # no version: whatever is current
    _url("http://s3.amazonaws.com/klyph-media/"),  # plain http to AWS
    _url(LOCAL[0]),  # the stand-in's origin when it is not the configured endpoint
    "concat:" + _url() + "|" + _url(),
    "subfile:" + _url(),
    "file:/etc/passwd",
    "/tmp/source.mp4",
    "https://user:pw@s3.amazonaws.com/klyph-media/" + KEY + "?versionId=" + VERSION,
    _url() + "#fragment",
    _url() + "\n",
])
def test_anything_else_is_refused_without_echoing_the_url(url):
    with pytest.raises(MediaError) as refused:
        _remote(url)
    assert refused.value.code == "source_not_allowed"
    assert "X-Amz" not in str(refused.value) and "http" not in str(refused.value)


def test_the_url_never_shows_in_repr_str_or_redacted_text():
    remote = _remote(_url())
    assert "X-Amz" not in repr(remote) and "X-Amz" not in str(remote) and "X-Amz" not in f"{remote!r} {remote}"
    stderr = (f"[https @ 0x55] HTTP error 403 Forbidden\n"
              f"[in#0 @ 0x56] Error opening input: Server returned 403 Forbidden (access denied)\n"
              f"Error opening input file {remote.url}.\n"
              f"Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '{remote.url}':\n"
              f"stray X-Amz-Signature=abc123 and X-Amz-Security-Token=tok%2Fen and X-Amz-Credential=AKIA\n")
    redacted = media.redact_urls(stderr)
    assert "abc123" not in redacted and "AKIA" not in redacted and "tok%2Fen" not in redacted
    assert "X-Amz-Signature=abc123" not in redacted
    # What is left still reads: the probe's parser finds its line.
    assert f"from '{AWS[0]}{KEY}?<redacted>'" in redacted
