"""Static files: hashed URLs cached for good, only the files the pages use, a favicon."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import Route
from worksample.web.assets import HTMX_FILE, IMMUTABLE, STATIC_DIR, Assets, static_url

SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
FILES = {
    "style.css": (STATIC_DIR / "style.css", "text/css; charset=utf-8"),
    "app.js": (STATIC_DIR / "app.js", "text/javascript; charset=utf-8"),
    "htmx.min.js": (HTMX_FILE, "text/javascript; charset=utf-8"),
    "favicon.svg": (STATIC_DIR / "favicon.svg", "image/svg+xml"),
}
HASHED = re.compile(r"/static/(?P<stem>[\w.-]+)\.[0-9a-f]{12}(?P<suffix>\.\w+)")


def serve(assets: Assets) -> TestClient:
    """The endpoint alone, for asset tables built from a test's own folder."""
    return TestClient(Starlette(routes=[Route("/static/{name}", assets.serve)]))


@SQLITE_ONLY
@pytest.mark.parametrize("name", FILES)
def test_hashed_url_is_served_with_its_type_and_cached_for_good(
    client: TestClient, name: str
) -> None:
    path, content_type = FILES[name]
    url = static_url(name)
    assert HASHED.fullmatch(url), url
    assert url.endswith(path.suffix)
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == path.read_bytes()
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["x-content-type-options"] == "nosniff"
    again = client.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cache-control"] == IMMUTABLE


@SQLITE_ONLY
def test_page_references_only_hashed_urls_that_resolve(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    referenced = re.findall(r'(?:href|src)="(/static/[^"]*)"', page.text)
    assert sorted(referenced) == sorted(static_url(name) for name in FILES)
    icon = f'<link rel="icon" href="{static_url("favicon.svg")}" type="image/svg+xml">'
    assert icon in page.text
    for url in referenced:
        assert client.get(url).status_code == 200, url


@SQLITE_ONLY
@pytest.mark.parametrize(
    "url",
    [
        "/static/style.css",  # unhashed
        "/static/app.js",
        "/static/style.000000000000.css",  # a stale hash
        "/static/vendor/htmx.min.js",  # the old vendor mount
        "/static/vendor/htmx.esm.js",
        "/static/vendor/ext/debug.js",
        "/static/htmx.esm.js",
        "/static/htmx.js",
        "/static/ext/debug.js",
        "/static/../app.py",
    ],
)
def test_other_static_urls_answer_404(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"


@SQLITE_ONLY
def test_static_files_are_read_only(client: TestClient) -> None:
    assert client.post(static_url("app.js")).status_code == 405


@SQLITE_ONLY
def test_favicon(client: TestClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.content == (STATIC_DIR / "favicon.svg").read_bytes()
    # Its URL does not change with the icon: cached, but not for good.
    assert icon.headers["cache-control"] == "public, max-age=86400"
    svg = ET.fromstring(icon.content)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("viewBox") == "0 0 32 32"
    again = client.get("/favicon.ico", headers={"If-None-Match": icon.headers["etag"]})
    assert again.status_code == 304


def test_hash_follows_the_content(tmp_path: Path) -> None:
    script = tmp_path / "app.js"
    script.write_text("console.log(1);\n")
    before = Assets([script])
    assert Assets([script]).url("app.js") == before.url("app.js")  # same bytes, same URL
    script.write_text("console.log(2);\n")
    after = Assets([script])
    assert after.url("app.js") != before.url("app.js")
    # What a table serves is what it hashed, whatever the disk says since.
    assert serve(before).get(before.url("app.js")).content == b"console.log(1);\n"
    assert serve(after).get(after.url("app.js")).content == b"console.log(2);\n"
    assert serve(after).get(before.url("app.js")).status_code == 404


def test_etag_matching_follows_http(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text("ok\n")
    assets = Assets([tmp_path / "app.js"])
    client = serve(assets)
    url = assets.url("app.js")
    etag = client.get(url).headers["etag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        assert client.get(url, headers={"If-None-Match": sent}).status_code == 304, sent
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_unknown_names_and_types_are_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(ValueError, match=r"notes\.txt: no content type for '\.txt' files; add"):
        Assets([tmp_path / "notes.txt"])
    (tmp_path / "img").mkdir()
    with pytest.raises(ValueError, match="img: not a file; static files are one flat folder"):
        Assets([tmp_path / "img"])
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "app.js").write_text("2\n")
    (tmp_path / "app.js").write_text("1\n")
    with pytest.raises(ValueError, match=r"a second static file named 'app\.js'"):
        Assets([tmp_path / "app.js", tmp_path / "other" / "app.js"])
    with pytest.raises(LookupError, match=r"no static file 'app\.css'; there are \['app\.js'\]"):
        Assets([tmp_path / "app.js"]).url("app.css")
