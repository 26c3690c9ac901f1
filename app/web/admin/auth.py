"""Who is asking, for the Support page's API, whichever admin the page runs in.

Every /admin/api view starts with `staff()` and gets back the shop and the staff
member; nothing after that knows which platform vouched for them. Each platform's
adapter judges the requests that are its own (a Saleor Dashboard fetch carries
`Saleor-Api-Url`; the Shopify admin's carry App Bridge's ID token) and raises the
refusal its host expects: Shopify's with its retry header, so App Bridge fetches a
fresh token; Saleor's without, so the page asks the Dashboard for one.
"""

from __future__ import annotations

from app.errors import ParleyError
from app.platforms.port import Staff
from app.web.context import parley
from app.web.requests import request_facts


def staff() -> Staff:
    """The shop and staff member of an admin API request, or ParleyError(401/503)."""
    facts = request_facts()
    for platform in parley().platforms:
        who = platform.authenticate_staff(facts)
        if who is not None:
            return who
    raise ParleyError(401, "missing_session_token", "send the admin's session token as Authorization: Bearer")
