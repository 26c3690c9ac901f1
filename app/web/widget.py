"""The widget's files, served by Parley for storefronts that are not Shopify themes.

Shopify's CDN serves the widget from the theme app extension; other storefronts (Saleor)
load the very same files from here. One source, two hosts: nothing is forked.
"""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory

from app.config import ROOT
from app.errors import ParleyError

bp = Blueprint("widget", __name__)

WIDGET_DIR = ROOT / "extensions" / "parley-chat" / "assets"
WIDGET_FILES = {
    "parley.js": "parley-loader.js",
    "parley-loader.js": "parley-loader.js",
    "parley-panel.js": "parley-panel.js",
    "parley.css": "parley.css",
}
WIDGET_MAX_AGE = 300  # unhashed names: a short cache lets a new version reach storefronts soon


@bp.get("/widget/<name>")
def widget_file(name: str) -> Response:
    if name not in WIDGET_FILES:
        raise ParleyError(404, "not_found", "no such widget file")
    response = send_from_directory(WIDGET_DIR, WIDGET_FILES[name], max_age=WIDGET_MAX_AGE)
    # Storefronts on any origin load it with a plain <script>/<link> tag.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
