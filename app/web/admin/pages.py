"""The Support page's documents (Inbox, Conversation, Settings, Insights), rendered for
whichever admin hosts them: the same templates (templates/admin/), the host's own
start-up facts (`boot`) and headers. The host blueprints (app/web/shopify/pages.py,
app/web/saleor/dashboard.py) check who is loading the page and call `render_document`.

The pages then talk to the JSON API (app/web/admin/support.py) with the admin's token
on every fetch; nothing private is rendered into the HTML beyond the shop's name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, make_response, render_template, request

from app.models import Shop

bp = Blueprint("admin_pages", __name__, static_folder="static", static_url_path="/static/admin")


def carried_query(params: Sequence[str] | None = None) -> str:
    """The query parameters the host puts on a page URL that a page keeps when it moves
    to another page of the app (named by the host when it renders)."""
    kept = params if params is not None else g.get("admin_carried_params", ())
    return urlencode([(k, request.args[k]) for k in kept if request.args.get(k)])


def render_document(
    template: str, shop: Shop, headers: Mapping[str, str], boot: dict[str, Any], carried: Sequence[str], **context: Any
) -> Response:
    """A Support page for the host that vouched for the request. `boot` is what the
    page's scripts start from (rendered as JSON into the document)."""
    g.admin_carried_params = tuple(carried)
    g.admin_boot = {**boot, "query": carried_query()}
    response = make_response(render_template(template, shop=shop, **context))
    response.headers.update(dict(headers))
    response.headers["Cache-Control"] = "no-store"  # the URL may carry a token; the page is per staff member
    return response


@bp.app_context_processor
def _admin_helpers() -> dict[str, Any]:
    # Functions, not values: only documents rendered through render_document call them.
    return {"admin_boot": lambda shop=None: g.admin_boot, "admin_query": carried_query}
