"""Discount codes through the Admin GraphQL API: the shop's active codes for the agent's
list, and a new single-use code (`discountCodeBasicCreate`, scope `write_discounts`).

The merchant's limits are checked before this is called (app/commerce/discounts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from app.commerce.discounts import ExistingCode, NewCode
from app.errors import ParleyError
from app.platforms.shopify.admin_api import AdminAPI, AdminAPIError, AdminAPIThrottled, AdminAPIUnauthorized

LIST_QUERY = """
query ParleyDiscountCodes {
  codeDiscountNodes(first: 25, query: "status:active") {
    nodes { id codeDiscount { ... on DiscountCodeBasic { title summary endsAt codes(first: 1) { nodes { code } } } } }
  }
}
"""
CREATE = """
mutation ParleyDiscountCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field message }
  }
}
"""


def _unavailable(exc: AdminAPIError) -> ParleyError:
    if isinstance(exc, AdminAPIUnauthorized):
        return ParleyError(
            502, "platform_refused", "Shopify refused Parley's access token; reinstalling the app fixes this"
        )
    if isinstance(exc, AdminAPIThrottled):
        return ParleyError(503, "shopify_busy", f"Shopify asked us to slow down; try again in {int(exc.retry_after)} s")
    return ParleyError(503, "shopify_unavailable", "Shopify could not be asked about discount codes just now")


class ShopifyDiscounts:
    def __init__(self, api_for: Callable[[str], AdminAPI]):
        self._api_for = api_for

    def list(self, shop: str) -> list[ExistingCode]:
        try:
            result = self._api_for(shop).execute(LIST_QUERY)
        except AdminAPIError as exc:
            raise _unavailable(exc) from None
        codes = []
        for node in (result.data.get("codeDiscountNodes") or {}).get("nodes") or []:
            discount = node.get("codeDiscount") or {}
            first = ((discount.get("codes") or {}).get("nodes") or [{}])[0]
            if not first.get("code"):
                continue  # another kind of discount (automatic, app): nothing to type in
            codes.append(
                ExistingCode(
                    id=str(node.get("id")),
                    code=first["code"],
                    title=discount.get("title") or first["code"],
                    summary=discount.get("summary") or "",
                    ends_at=discount.get("endsAt"),
                )
            )
        return codes

    def create(self, shop: str, new: NewCode) -> str:
        """The code as created; ParleyError(400) with Shopify's own words when it refuses."""
        if new.kind == "percent":
            # A fraction of 1 (0.1 is 10 %); the JSON number is exact for our whole percents.
            value: dict[str, object] = {"percentage": float(new.value / Decimal(100))}
        else:
            value = {"discountAmount": {"amount": str(new.value), "appliesOnEachItem": False}}
        variables = {
            "basicCodeDiscount": {
                "title": new.title,
                "code": new.code,
                "startsAt": new.starts_at.isoformat(),
                "endsAt": new.ends_at.isoformat(),
                "usageLimit": 1,
                "appliesOncePerCustomer": True,
                "context": {"all": "ALL"},
                "customerGets": {"value": value, "items": {"all": True}},
            }
        }
        try:
            result = self._api_for(shop).execute(CREATE, variables)
        except AdminAPIError as exc:
            raise _unavailable(exc) from None
        payload = result.data.get("discountCodeBasicCreate") or {}
        errors = payload.get("userErrors") or []
        if errors or not payload.get("codeDiscountNode"):
            words = "; ".join(str(e.get("message")) for e in errors) or "Shopify created no code"
            raise ParleyError(400, "discount_refused", f"Shopify refused the code: {words}")
        return new.code
