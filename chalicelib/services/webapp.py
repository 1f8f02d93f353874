"""The web dashboard at ``GET /api/app``: its page and assets (plain ES modules and CSS in
``chalicelib/assets/web``, no build step), each with its content type, cache headers and a
Content-Security-Policy that lets the page run only our own scripts and reach only the API and
the media bucket."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from chalicelib.config import media_sources, settings

WEB_DIR = Path(__file__).resolve().parents[1] / "assets" / "web"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: str
    content_type: str
    etag: str


@lru_cache(maxsize=1)
def assets() -> dict[str, Asset]:
    """Every file the page may load, by name; nothing else under the route answers."""
    found = {}
    for path in sorted(WEB_DIR.iterdir()):
        if path.suffix in CONTENT_TYPES and path.is_file():
            body = path.read_text(encoding="utf-8")
            etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'
            found[path.name] = Asset(body, CONTENT_TYPES[path.suffix], etag)
    return found


@lru_cache(maxsize=1)
def content_security_policy() -> str:
    media = " ".join(media_sources(settings()))
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' {media}",
        f"media-src 'self' {media}",
        # 'self' is the API; the media bucket takes the browser's upload (a presigned PUT).
        f"connect-src 'self' {media}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ])


def asset_response(name: str, if_none_match: str | None) -> tuple[int, str, dict[str, str | list[str]]] | None:
    """(status, body, headers) for an asset, or None when there is no such asset. Assets carry
    no version in their names (no build step), so browsers revalidate each load: a 304 when the
    ETag still matches, the new file right after a deploy."""
    asset = assets().get(name)
    if asset is None:
        return None
    headers: dict[str, str | list[str]] = {
        "Content-Type": asset.content_type,
        "Cache-Control": "no-cache",
        "ETag": asset.etag,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # signed media URLs must not leak to other sites
    }
    if asset.content_type.startswith(("text/html", "text/javascript")):
        headers["Content-Security-Policy"] = content_security_policy()
    if if_none_match and asset.etag in if_none_match:
        return 304, "", headers
    return 200, asset.body, headers
