"""The widget's files, served by Parley for storefronts that are not Shopify themes.

Shopify's CDN serves the widget from the theme app extension; other storefronts (Saleor)
load the very same files from here. One source, two hosts: nothing is forked.

What a storefront pays for them, once per shopper:
- every file goes out compressed, brotli or gzip as the browser's Accept-Encoding asks,
  compressed once per version of the file (not per request);
- the panel script and the stylesheet have content-hashed names
  (parley-panel.<hash>.js), cached for a year as immutable;
- the snippet's URL, /widget/parley.js, cannot change, so the loader behind it is cached
  only briefly and names the hashed files: a new version reaches storefronts within
  minutes, and a shopper's browser never fetches an unchanged panel again.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from flask import Blueprint, Response, request
from werkzeug.datastructures import Accept

from app.config import ROOT
from app.errors import ParleyError


def _brotli() -> ModuleType | None:
    # The brotli bindings (PyPI `brotli`) ship no type hints; imported by name they read as
    # Any. Missing, the files still go out gzip-compressed.
    try:
        return importlib.import_module("brotli")
    except ImportError:
        return None


BROTLI = _brotli()

bp = Blueprint("widget", __name__)

WIDGET_DIR = ROOT / "extensions" / "parley-chat" / "assets"
LOADER, PANEL, STYLES = "parley-loader.js", "parley-panel.js", "parley.css"
SOURCES = (LOADER, PANEL, STYLES)
# Public names without a hash: the snippet's (parley.js) and the extension's own.
PLAIN_NAMES = {"parley.js": LOADER, LOADER: LOADER, PANEL: PANEL, STYLES: STYLES}
HASHED_NAME = re.compile(r"^(parley-loader|parley-panel|parley)\.([0-9a-f]{12})\.(js|css)$")
# The one line of the loader that names the files it fetches; rewritten to hashed names.
LOADER_FILES = "var FILES = { panel: 'parley-panel.js', css: 'parley.css' };"

SHORT_CACHE = "public, max-age=300"  # names that never change: a new version arrives within minutes
LONG_CACHE = "public, max-age=31536000, immutable"  # hashed names: a new version is a new name
MIME_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class WidgetFile:
    source: str  # its name in the extension's assets
    digest: str  # 12 hex digits of the SHA-256 of what is served
    content_type: str
    bodies: dict[str, bytes]  # content coding ("identity", "gzip", "br") → bytes

    @property
    def hashed_name(self) -> str:
        stem, _, suffix = self.source.rpartition(".")
        return f"{stem}.{self.digest}.{suffix}"

    def encoding_for(self, accept: Accept) -> str:
        """What the browser takes (Accept-Encoding, by quality), br before gzip on a tie."""
        offers = [coding for coding in ("br", "gzip") if coding in self.bodies]
        quality = {coding: accept.quality(coding) for coding in offers}
        usable = [coding for coding in offers if quality[coding] > 0]
        if not usable:
            return "identity"
        return max(usable, key=lambda coding: (quality[coding], -offers.index(coding)))


def _compressed(body: bytes) -> dict[str, bytes]:
    bodies = {"identity": body, "gzip": gzip.compress(body, compresslevel=9, mtime=0)}
    if BROTLI is not None:
        bodies["br"] = bytes(BROTLI.compress(body, quality=11))
    return bodies


def _file(source: str, body: bytes) -> WidgetFile:
    digest = hashlib.sha256(body).hexdigest()[:12]
    return WidgetFile(source, digest, MIME_TYPES[Path(source).suffix], _compressed(body))


def build(directory: Path) -> dict[str, WidgetFile]:
    """The three files as served: the loader rewritten to name the panel's hashed files."""
    panel = _file(PANEL, (directory / PANEL).read_bytes())
    styles = _file(STYLES, (directory / STYLES).read_bytes())
    loader_source = (directory / LOADER).read_text(encoding="utf-8")
    if loader_source.count(LOADER_FILES) != 1:
        # Edited so that the hashed names can no longer be swapped in: fail loudly, never
        # serve a loader that would fetch stale or missing files.
        raise RuntimeError(f"{LOADER} must contain exactly one line {LOADER_FILES!r}")
    hashed = f"var FILES = {{ panel: '{panel.hashed_name}', css: '{styles.hashed_name}' }};"
    loader = _file(LOADER, loader_source.replace(LOADER_FILES, hashed).encode("utf-8"))
    return {LOADER: loader, PANEL: panel, STYLES: styles}


class WidgetFiles:
    """Built once per version of the sources: a changed file on disk (`make demo` while
    the widget is edited) is noticed by its size and modification time."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[int, int], ...] = ()
        self._files: dict[str, WidgetFile] = {}

    def current(self) -> dict[str, WidgetFile]:
        stamp = tuple((stat.st_mtime_ns, stat.st_size) for stat in ((self.directory / s).stat() for s in SOURCES))
        with self._lock:
            if stamp != self._stamp:
                self._files, self._stamp = build(self.directory), stamp
            return self._files


FILES = WidgetFiles(WIDGET_DIR)


def _not_found() -> ParleyError:
    return ParleyError(404, "not_found", "no such widget file")


@bp.get("/widget/<name>")
def widget_file(name: str) -> Response:
    files = FILES.current()
    hashed = HASHED_NAME.match(name)
    if name in PLAIN_NAMES:
        file, cache = files[PLAIN_NAMES[name]], SHORT_CACHE
    elif hashed:
        source = {"parley-loader": LOADER, "parley-panel": PANEL, "parley": STYLES}[hashed.group(1)]
        if Path(source).suffix != "." + hashed.group(3):
            raise _not_found()
        file = files[source]
        # A loader cached before a release names the previous hash: it gets today's file,
        # but only briefly cached under that name.
        cache = LONG_CACHE if hashed.group(2) == file.digest else SHORT_CACHE
    else:
        raise _not_found()
    return _send(file, cache)


def _send(file: WidgetFile, cache: str) -> Response:
    coding = file.encoding_for(request.accept_encodings)
    response = Response(file.bodies[coding], content_type=file.content_type)
    if coding != "identity":
        response.headers["Content-Encoding"] = coding
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = cache
    # Storefronts on any origin load it with a plain <script>/<link> tag.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    # Public files: a storefront's own performance tools may see their sizes and timings.
    response.headers["Timing-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(f"{file.digest}-{coding}")
    response.make_conditional(request)  # If-None-Match: 304 without a body
    return response
