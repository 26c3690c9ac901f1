"""Parley's own /widget/* files, what Saleor storefronts load: compressed as the browser
asks, under content-hashed names cached for a year, behind a snippet URL that never
changes and is cached only briefly.

Sizes and decompression are checked with Python's own gzip and the brotli bindings, not
with the code under test.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil

import brotli
import pytest

from app.web import widget

ASSETS = widget.WIDGET_DIR
YEAR = "public, max-age=31536000, immutable"
MINUTES = "public, max-age=300"


def source(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def hashed_names(loader: bytes) -> dict[str, str]:
    """The names the served loader fetches, read from its FILES line."""
    found = re.search(rb"var FILES = \{ panel: '([^']+)', css: '([^']+)' \};", loader)
    assert found, "the served loader names no files"
    return {"panel": found.group(1).decode(), "css": found.group(2).decode()}


def get(client, path: str, encoding: str | None = None, **headers):
    if encoding is not None:
        headers["Accept-Encoding"] = encoding
    response = client.get(path, headers=headers)
    body = response.get_data()
    response.close()
    return response, body


def decoded(response, body: bytes) -> bytes:
    coding = response.headers.get("Content-Encoding")
    if coding == "br":
        return brotli.decompress(body)
    if coding == "gzip":
        return gzip.decompress(body)
    assert coding is None
    return body


def test_the_snippet_url_serves_a_loader_that_names_the_hashed_files(client):
    response, body = get(client, "/widget/parley.js", "identity")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == MINUTES
    names = hashed_names(body)
    panel_digest = hashlib.sha256(source("parley-panel.js")).hexdigest()[:12]
    css_digest = hashlib.sha256(source("parley.css")).hexdigest()[:12]
    assert names == {"panel": f"parley-panel.{panel_digest}.js", "css": f"parley.{css_digest}.css"}
    # Apart from those two names, it is the theme extension's loader, byte for byte.
    plain = body.replace(names["panel"].encode(), b"parley-panel.js").replace(names["css"].encode(), b"parley.css")
    assert plain == source("parley-loader.js")
    _, same = get(client, "/widget/parley-loader.js", "identity")
    assert same == body


@pytest.mark.parametrize(("kind", "asset"), [("panel", "parley-panel.js"), ("css", "parley.css")])
def test_hashed_files_are_the_extensions_files_cached_for_a_year(client, kind, asset):
    name = hashed_names(decoded(*get(client, "/widget/parley.js", "identity")))[kind]
    response, body = get(client, f"/widget/{name}", "identity")
    assert response.status_code == 200
    assert body == source(asset)
    assert response.headers["Cache-Control"] == YEAR
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["Timing-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"].startswith("text/css" if asset.endswith(".css") else "text/javascript")


@pytest.mark.parametrize("path", ["/widget/parley.js", "/widget/parley-panel.js", "/widget/parley.css"])
@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br, zstd", "br"),  # what Chromium sends
        ("gzip, deflate", "gzip"),
        ("br;q=0.5, gzip", "gzip"),  # the browser prefers gzip here
        ("*", "br"),
        ("br;q=0, gzip;q=0", None),
        ("identity", None),
        (None, None),  # no Accept-Encoding at all
    ],
)
def test_files_go_out_compressed_as_accept_encoding_asks(client, path, accept, coding):
    plain = decoded(*get(client, path, "identity"))
    response, body = get(client, path, accept)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == coding
    assert response.headers["Vary"] == "Accept-Encoding"
    assert int(response.headers["Content-Length"]) == len(body)
    assert decoded(response, body) == plain
    if coding:
        assert len(body) < len(plain) / 2


def test_compressed_sizes_beat_the_issue_figures(client):
    """The loader went out as 6.7 KB raw; gzip -9 alone gives about 2.8 KB. Ours must be
    at most what gzip -9 of the same bytes gives, and brotli smaller still."""
    for path in ("/widget/parley.js", "/widget/parley-panel.js", "/widget/parley.css"):
        plain = decoded(*get(client, path, "identity"))
        _, zipped = get(client, path, "gzip")
        _, squeezed = get(client, path, "br")
        assert len(zipped) <= len(gzip.compress(plain, compresslevel=9))
        assert len(squeezed) < len(zipped)
    _, loader_br = get(client, "/widget/parley.js", "br")
    assert len(loader_br) <= 4000


def test_an_unchanged_file_answers_304_per_encoding(client):
    first, _ = get(client, "/widget/parley.css", "br")
    etag = first.headers["ETag"]
    again, body = get(client, "/widget/parley.css", "br", **{"If-None-Match": etag})
    assert again.status_code == 304 and body == b""
    # The gzip body is another representation: its own tag, so no 304 from the br one.
    other, other_body = get(client, "/widget/parley.css", "gzip", **{"If-None-Match": etag})
    assert other.status_code == 200 and gzip.decompress(other_body) == source("parley.css")
    assert other.headers["ETag"] != etag


def test_a_loader_from_before_a_release_still_gets_a_working_panel_briefly_cached(client):
    response, body = get(client, "/widget/parley-panel.000000000000.js", "identity")
    assert response.status_code == 200
    assert body == source("parley-panel.js")
    assert response.headers["Cache-Control"] == MINUTES


@pytest.mark.parametrize(
    "path",
    [
        "/widget/../../app/config.py",
        "/widget/parley-embed.liquid",
        "/widget/secrets.js",
        "/widget/parley.0123456789ab.js",  # the stylesheet's stem with a script's suffix
        "/widget/parley-panel.0123456789ab.css",
        "/widget/parley-panel.XYZ.js",
    ],
)
def test_only_the_widget_files_are_served(client, path):
    response, _ = get(client, path)
    assert response.status_code == 404


def test_a_changed_file_on_disk_gets_a_new_hash(tmp_path):
    directory = tmp_path / "assets"
    shutil.copytree(ASSETS, directory)
    files = widget.WidgetFiles(directory)
    before = files.current()[widget.PANEL].hashed_name
    (directory / "parley-panel.js").write_bytes(source("parley-panel.js") + b"\n// a new release\n")
    after = files.current()
    assert after[widget.PANEL].hashed_name != before
    assert hashed_names(after[widget.LOADER].bodies["identity"])["panel"] == after[widget.PANEL].hashed_name


def test_a_loader_whose_file_line_was_edited_away_is_refused_loudly(tmp_path):
    directory = tmp_path / "assets"
    shutil.copytree(ASSETS, directory)
    loader = directory / "parley-loader.js"
    loader.write_text(loader.read_text().replace(widget.LOADER_FILES, "var FILES = {};"))
    with pytest.raises(RuntimeError, match="must contain exactly one line"):
        widget.build(directory)
