"""The stand-in's products and discount codes: the Admin GraphQL corner Parley's agent
tools use (`products(query:)`, `productVariant(id:)`, `codeDiscountNodes`,
`discountCodeBasicCreate`) in Shopify's shapes, and what the Online Store needs to
honour them (stock at add-to-cart, a code at checkout).

Shapes follow the Admin GraphQL reference (2026-10): `ProductVariant.price` is the
`Money` scalar (a decimal string in the shop's currency), `inventoryQuantity` an Int
(null when not tracked), `availableForSale` a Boolean; `Product.featuredMedia.preview.image.url`;
`DiscountCodeBasicInput.customerGets.value` is `{percentage: Float 0..1}` or
`{discountAmount: {amount, appliesOnEachItem}}`; mutations answer `userErrors {field message}`.
Imports nothing of Parley's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

SDL = """
type Image { url: URL! altText: String }
type MediaPreviewImage { image: Image }
type MediaImage { id: ID! preview: MediaPreviewImage }
type ProductVariant {
  id: ID! title: String! displayName: String! sku: String price: Decimal! inventoryQuantity: Int
  availableForSale: Boolean! image: Image product: Product!
}
type ProductVariantConnection { nodes: [ProductVariant!]! pageInfo: PageInfo! }
type Product {
  id: ID! title: String! handle: String! status: ProductStatus! onlineStoreUrl: URL totalInventory: Int!
  featuredMedia: MediaImage variants(first: Int, last: Int): ProductVariantConnection!
}
enum ProductStatus { ACTIVE ARCHIVED DRAFT }
type ProductConnection { nodes: [Product!]! pageInfo: PageInfo! }
type DiscountCodeBasic {
  title: String! summary: String! status: DiscountStatus! startsAt: DateTime! endsAt: DateTime usageLimit: Int
  asyncUsageCount: Int! codes(first: Int): DiscountRedeemCodeConnection!
}
type DiscountRedeemCode { id: ID! code: String! asyncUsageCount: Int! }
type DiscountRedeemCodeConnection { nodes: [DiscountRedeemCode!]! }
enum DiscountStatus { ACTIVE EXPIRED SCHEDULED }
union DiscountCode = DiscountCodeBasic
type DiscountCodeNode { id: ID! codeDiscount: DiscountCode! }
type DiscountCodeNodeConnection { nodes: [DiscountCodeNode!]! pageInfo: PageInfo! }
type DiscountUserError { field: [String!] message: String! code: String }
type DiscountCodeBasicCreatePayload { codeDiscountNode: DiscountCodeNode userErrors: [DiscountUserError!]! }
input DiscountAmountInput { amount: Decimal appliesOnEachItem: Boolean }
input DiscountCustomerGetsValueInput { percentage: Float discountAmount: DiscountAmountInput }
input DiscountItemsInput { all: Boolean }
input DiscountCustomerGetsInput { value: DiscountCustomerGetsValueInput items: DiscountItemsInput }
enum DiscountBuyerSelection { ALL }
input DiscountContextInput { all: DiscountBuyerSelection }
input DiscountCodeBasicInput {
  title: String code: String startsAt: DateTime endsAt: DateTime usageLimit: Int appliesOncePerCustomer: Boolean
  context: DiscountContextInput customerGets: DiscountCustomerGetsInput
}
"""
QUERY_FIELDS = """
  products(first: Int, last: Int, query: String): ProductConnection!
  productVariant(id: ID!): ProductVariant
  codeDiscountNodes(first: Int, last: Int, query: String): DiscountCodeNodeConnection!
"""
MUTATION = "type Mutation { discountCodeBasicCreate(basicCodeDiscount: DiscountCodeBasicInput!): DiscountCodeBasicCreatePayload }"


@dataclass
class StockVariant:
    id: int
    title: str
    sku: str
    price: Decimal
    inventory: int | None = None  # None: not tracked
    for_sale: bool = True


@dataclass
class CatalogueProduct:
    id: int
    handle: str
    title: str
    image_url: str | None
    url: str | None
    variants: list[StockVariant]


@dataclass
class Code:
    id: int
    code: str
    title: str
    percentage: Decimal | None  # 0..1
    amount: Decimal | None
    ends_at: str | None
    usage_limit: int | None
    used: int = 0


@dataclass
class Catalogue:
    """One shop's products and codes."""

    products: dict[int, CatalogueProduct] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)  # by lower-cased code
    lock: threading.RLock = field(default_factory=threading.RLock)

    def variant(self, variant_id: int) -> tuple[CatalogueProduct, StockVariant] | None:
        for product in self.products.values():
            for variant in product.variants:
                if variant.id == variant_id:
                    return product, variant
        return None

    def search(self, query: str | None) -> list[CatalogueProduct]:
        """Shopify's default search over title, handle and SKU, each word a prefix/substring match."""
        words = [w for w in (query or "").lower().replace("*", " ").split() if w.upper() != "OR"]
        words = [w.split(":", 1)[1] if ":" in w else w for w in words]

        def matches(product: CatalogueProduct) -> bool:
            text = " ".join([product.title, product.handle, *(v.sku for v in product.variants)]).lower()
            return all(w.strip("\"'()") in text for w in words)

        return [p for p in self.products.values() if matches(p)]

    def discount_for(self, code: str, subtotal: Decimal) -> tuple[Code, Decimal] | None:
        found = self.codes.get(code.strip().lower())
        if found is None or (found.usage_limit is not None and found.used >= found.usage_limit):
            return None
        if found.percentage is not None:
            off = (subtotal * found.percentage).quantize(Decimal("0.01"))
        else:
            off = min(found.amount or Decimal(0), subtotal)
        return found, off


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def _absolute(url: str | None, base: str) -> str | None:
    # The storefront's own pictures are stored as paths; Shopify answers CDN URLs.
    return base + url if url and url.startswith("/") else url


def product_node(product: CatalogueProduct, base: str = "") -> dict:
    image = {"url": _absolute(product.image_url, base), "altText": product.title} if product.image_url else None
    node: dict[str, Any] = {
        "id": gid("Product", product.id),
        "title": product.title,
        "handle": product.handle,
        "status": "ACTIVE",
        "onlineStoreUrl": _absolute(product.url, base),
        "totalInventory": sum(v.inventory or 0 for v in product.variants),
        "featuredMedia": {"id": gid("MediaImage", product.id), "preview": {"image": image}} if image else None,
    }
    variants = [variant_node(product, v, node, base) for v in product.variants]
    node["variants"] = lambda _info, first=None, last=None: {
        "nodes": variants[:first] if first is not None else variants[-(last or 0) :],
        "pageInfo": {"hasNextPage": first is not None and len(variants) > first, "hasPreviousPage": False},
    }
    return node


def variant_node(
    product: CatalogueProduct, variant: StockVariant, product_node_: dict | None = None, base: str = ""
) -> dict:
    image = {"url": _absolute(product.image_url, base), "altText": product.title} if product.image_url else None
    return {
        "id": gid("ProductVariant", variant.id),
        "title": variant.title,
        "displayName": f"{product.title} - {variant.title}",
        "sku": variant.sku,
        "price": f"{variant.price:.2f}",
        "inventoryQuantity": variant.inventory,
        "availableForSale": variant.for_sale and (variant.inventory is None or variant.inventory > 0),
        "image": image,
        "product": (lambda _info: product_node_)
        if product_node_ is not None
        else (lambda _info: product_node(product, base)),
    }


def code_node(code: Code) -> dict:
    if code.percentage is not None:
        summary = f"{(code.percentage * 100).normalize():f}% off entire order"
    else:
        summary = f"{code.amount} off entire order"
    return {
        "id": gid("DiscountCodeNode", code.id),
        "codeDiscount": {
            "__typename": "DiscountCodeBasic",
            "title": code.title,
            "summary": summary + (" • One use" if code.usage_limit == 1 else ""),
            "status": "ACTIVE",
            "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": code.ends_at,
            "usageLimit": code.usage_limit,
            "asyncUsageCount": code.used,
            "codes": lambda _info, first=None: {
                "nodes": [{"id": gid("DiscountRedeemCode", code.id), "code": code.code, "asyncUsageCount": code.used}]
            },
        },
    }


def create_code(catalogue: Catalogue, data: dict, next_id: int) -> dict:
    """discountCodeBasicCreate: userErrors for what Shopify refuses, else the new node."""
    code = (data.get("code") or "").strip()
    value = ((data.get("customerGets") or {}).get("value")) or {}
    errors = []
    if not code:
        errors.append({"field": ["basicCodeDiscount", "code"], "message": "Code can't be blank", "code": "BLANK"})
    elif code.lower() in catalogue.codes:
        errors.append(
            {
                "field": ["basicCodeDiscount", "code"],
                "message": "Code must be unique. Please try a different code.",
                "code": "TAKEN",
            }
        )
    percentage = value.get("percentage")
    amount = (value.get("discountAmount") or {}).get("amount")
    if (percentage is None) == (amount is None):
        errors.append(
            {"field": ["basicCodeDiscount", "customerGets", "value"], "message": "Value is invalid", "code": "INVALID"}
        )
    elif percentage is not None and not 0 < float(percentage) <= 1:
        errors.append(
            {
                "field": ["basicCodeDiscount", "customerGets", "value", "percentage"],
                "message": "Value must be between 0.0 and 1.0",
                "code": "VALUE_OUTSIDE_RANGE",
            }
        )
    if errors:
        return {"codeDiscountNode": None, "userErrors": errors}
    record = Code(
        id=next_id,
        code=code,
        title=data.get("title") or code,
        percentage=Decimal(str(percentage)) if percentage is not None else None,
        amount=Decimal(str(amount)) if amount is not None else None,
        ends_at=data.get("endsAt"),
        usage_limit=data.get("usageLimit"),
    )
    with catalogue.lock:
        catalogue.codes[code.lower()] = record
    return {"codeDiscountNode": code_node(record), "userErrors": []}
