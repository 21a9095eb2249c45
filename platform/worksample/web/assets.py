"""Static files under URLs that name their content: `/static/app.3f2a9c1b4d5e.js`.

The hash goes into the file name, before the suffix, so a URL stays one path
segment and a browser may keep the file for a year (`immutable`): new content
is a new URL. Each file is read and hashed once, when the app is made, and
its bytes are kept and served from memory, so a URL always answers exactly
the bytes its hash names, even if the file on disk changes under a running
process. A URL without the current hash (unhashed, or from before a restart
with new content) answers 404 rather than a redirect: a redirect would hand
an old page today's script, and every page the app renders links the
current URLs anyway.

Served: every file of `static/` (hidden files skipped) and, of the htmx
package, only the `htmx.min.js` the pages load. Templates ask for a URL by
name with the Jinja global `static_url("app.js")`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import js_lib_htmx
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from worksample.web.rendering import templates

__all__ = ["Asset", "Assets", "load_assets", "mount_assets", "static_url"]

STATIC_DIR: Final = Path(__file__).with_name("static")
HTMX_FILE: Final = Path(js_lib_htmx.__file__).with_name("static") / "htmx" / "htmx.min.js"
FAVICON: Final = "favicon.svg"
# Written out rather than guessed by `mimetypes`, which reads the machine's
# own tables: with `nosniff`, a wrong type there would break the pages.
CONTENT_TYPES: Final = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
IMMUTABLE: Final = "public, max-age=31536000, immutable"
# /favicon.ico keeps its URL when the icon changes: a day, then revalidate.
FAVICON_CACHE: Final = "public, max-age=86400"
HASH_CHARS: Final = 12


@dataclass(frozen=True)
class Asset:
    name: str  # "app.js"
    hashed_name: str  # "app.3f2a9c1b4d5e.js"
    body: bytes
    content_type: str
    etag: str  # '"<sha-256 of the body>"'


def read_asset(path: Path) -> Asset:
    if not path.is_file():
        raise ValueError(f"{path}: not a file; static files are one flat folder")
    content_type = CONTENT_TYPES.get(path.suffix)
    if content_type is None:
        raise ValueError(
            f"{path}: no content type for {path.suffix or 'suffix-less'!r} files; "
            "add one to CONTENT_TYPES in worksample/web/assets.py"
        )
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    hashed_name = f"{path.stem}.{digest[:HASH_CHARS]}{path.suffix}"
    return Asset(path.name, hashed_name, body, content_type, f'"{digest}"')


class Assets:
    """A fixed set of files, each served under its hashed name."""

    def __init__(self, files: Iterable[Path]) -> None:
        self._by_name: dict[str, Asset] = {}
        for path in files:
            asset = read_asset(path)
            if asset.name in self._by_name:
                raise ValueError(f"{path}: a second static file named {asset.name!r}")
            self._by_name[asset.name] = asset
        self._by_hashed = {a.hashed_name: a for a in self._by_name.values()}

    def url(self, name: str) -> str:
        asset = self._by_name.get(name)
        if asset is None:
            raise LookupError(f"no static file {name!r}; there are {sorted(self._by_name)}")
        return f"/static/{asset.hashed_name}"

    async def serve(self, request: Request) -> Response:
        asset = self._by_hashed.get(request.path_params["name"])
        if asset is None:
            raise HTTPException(404)
        return answer(asset, request, cache_control=IMMUTABLE)

    async def serve_favicon(self, request: Request) -> Response:
        return answer(self._by_name[FAVICON], request, cache_control=FAVICON_CACHE)


def answer(asset: Asset, request: Request, *, cache_control: str) -> Response:
    headers = {"ETag": asset.etag, "Cache-Control": cache_control}
    sent = request.headers.get("if-none-match", "")
    tags = {tag.strip().removeprefix("W/") for tag in sent.split(",")}
    if asset.etag in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, headers=headers, media_type=asset.content_type)


@lru_cache(maxsize=1)
def load_assets() -> Assets:
    """The app's static files, read and hashed once per process."""
    ours = sorted(p for p in STATIC_DIR.iterdir() if not p.name.startswith("."))
    return Assets([*ours, HTMX_FILE])


def static_url(name: str) -> str:
    """`static_url("app.js")` -> "/static/app.3f2a9c1b4d5e.js"."""
    return load_assets().url(name)


def mount_assets(app: FastAPI) -> None:
    """Serve the static files at /static/{name} and the icon at /favicon.ico."""
    assets = load_assets()
    app.add_route("/static/{name}", assets.serve, methods=["GET"], include_in_schema=False)
    app.add_route("/favicon.ico", assets.serve_favicon, methods=["GET"], include_in_schema=False)


templates.env.globals["static_url"] = static_url
