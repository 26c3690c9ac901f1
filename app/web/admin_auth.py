"""Who is asking, for the Support page's API, whichever admin the page runs in.

Every /admin/api view starts with `staff()` and gets back the shop and the staff
member; nothing after that knows which platform vouched for them.

- Shopify: `Authorization: Bearer <App Bridge ID token>` (app/web/shopify_session.py).
- Saleor: `Authorization: Bearer <Dashboard token>` plus `Saleor-Api-Url: <API URL>`
  (app/platforms/saleor/dashboard.py). The header picks the tenant; the token must
  then verify with that tenant's keys and name our app there.

A refused Shopify token keeps Shopify's retry header (App Bridge fetches a fresh token
and retries); a refused Saleor token answers 401 without it: the page asks the
Dashboard for a fresh token instead (app/web/static/admin/host-saleor.js).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from app.models import Shop
from app.platforms.saleor.dashboard import DashboardTokenError, DashboardUser, verify_dashboard_token
from app.platforms.saleor.keys import JWKSUnavailable
from app.web.context import parley
from app.web.errors import APIError
from app.web.shopify_session import installed_shop, verify_bearer

SALEOR_API_URL_HEADER = "Saleor-Api-Url"


@dataclass(frozen=True)
class Staff:
    shop: Shop
    user_id: str | None


def staff() -> Staff:
    """The shop and staff member of an admin API request, or APIError(401/503)."""
    if request.headers.get(SALEOR_API_URL_HEADER) is not None:
        user = saleor_staff(request.headers.get(SALEOR_API_URL_HEADER), _bearer())
        return Staff(shop=user.shop, user_id=user.user_id)
    token = verify_bearer()
    with parley().db.session() as session:
        shop = installed_shop(session, token)
    return Staff(shop=shop, user_id=token.user_id)


def saleor_staff(api_url: str | None, token: str | None) -> DashboardUser:
    """A Dashboard token for the Saleor at `api_url`: from a header or from a form POST."""
    services = parley()
    try:
        return verify_dashboard_token(services.saleor, (api_url or "").strip(), token, services.now().timestamp())
    except DashboardTokenError as exc:
        raise APIError(401, exc.code, exc.message) from None
    except JWKSUnavailable:
        # Our side or Saleor's is down: not the caller's fault, and worth retrying.
        raise APIError(503, "saleor_unavailable", "Saleor's signing keys could not be fetched just now; try again") from None


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() or None if header.startswith("Bearer ") else None
