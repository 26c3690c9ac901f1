"""Public pages about Parley itself: what it keeps about shoppers (linked from the
Saleor manifest as the data privacy URL, and fit for a Shopify listing)."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.web.context import parley

bp = Blueprint("about", __name__)


@bp.get("/privacy")
def privacy() -> str:
    return render_template("privacy.html", settings=parley().settings)
