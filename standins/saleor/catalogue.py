"""The Saleor stand-in's products, vouchers and checkout creation: the corner of Saleor's
schema (saleor/graphql/schema.graphql, 3.23) Parley's selling tools use, in Saleor's shapes.

- `products(first:, channel:, filter: {search:})` → ProductCountableConnection (edges/node),
  `productVariant(id:, channel:)`; `ProductVariant.quantityAvailable` (Int, null when
  the variant does not track stock), `pricing.price.gross {amount currency}`,
  `Product.thumbnail {url}`;
- `checkoutCreate(input: {channel, lines: [{variantId, quantity}], metadata})` and
  `checkoutLinesAdd(id:, lines:)` → `{checkout, errors: [CheckoutError {field code message}]}`,
  code INSUFFICIENT_STOCK for a sold-out variant;
- `vouchers(first:)`, `voucherCreate(input: VoucherInput)` (`addCodes`, `discountValueType`
  PERCENTAGE | FIXED, `singleUse`, `usageLimit`, `startDate`, `endDate`) and
  `voucherChannelListingUpdate(id:, input: {addChannels: [{channelId, discountValue}]})`.
Imports nothing of Parley's.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from decimal import Decimal

SDL_TYPES = """
type Image { url: String! alt: String }
type VariantPricingInfo { price: TaxedMoney }
type ProductCountableEdge { node: Product! cursor: String! }
type ProductCountableConnection { pageInfo: PageInfo! edges: [ProductCountableEdge!]! totalCount: Int }
input ProductFilterInput { search: String }
input CheckoutLineInput { variantId: ID! quantity: Int! }
input CheckoutCreateInput { channel: String lines: [CheckoutLineInput!] email: String metadata: [MetadataInput!] }
enum CheckoutErrorCode { GRAPHQL_ERROR INVALID NOT_FOUND REQUIRED INSUFFICIENT_STOCK PRODUCT_NOT_PUBLISHED
  UNAVAILABLE_VARIANT_IN_CHANNEL QUANTITY_GREATER_THAN_LIMIT }
type CheckoutError { field: String message: String code: CheckoutErrorCode! }
type CheckoutCreate { checkout: Checkout errors: [CheckoutError!]! }
type CheckoutLinesAdd { checkout: Checkout errors: [CheckoutError!]! }
enum VoucherTypeEnum { SHIPPING ENTIRE_ORDER SPECIFIC_PRODUCT }
enum DiscountValueTypeEnum { FIXED PERCENTAGE }
type VoucherCode { id: ID code: String used: Int isActive: Boolean }
type VoucherCodeCountableEdge { node: VoucherCode! }
type VoucherCodeCountableConnection { edges: [VoucherCodeCountableEdge!]! }
type Voucher implements Node {
  id: ID! name: String code: String codes(first: Int): VoucherCodeCountableConnection usageLimit: Int used: Int!
  startDate: DateTime! endDate: DateTime singleUse: Boolean! discountValueType: DiscountValueTypeEnum!
  discountValue: Float currency: String type: VoucherTypeEnum!
}
type VoucherCountableEdge { node: Voucher! }
type VoucherCountableConnection { edges: [VoucherCountableEdge!]! pageInfo: PageInfo! }
input VoucherInput {
  type: VoucherTypeEnum name: String addCodes: [String!] startDate: DateTime endDate: DateTime
  discountValueType: DiscountValueTypeEnum applyOncePerOrder: Boolean applyOncePerCustomer: Boolean
  singleUse: Boolean usageLimit: Int
}
enum DiscountErrorCode { ALREADY_EXISTS GRAPHQL_ERROR INVALID NOT_FOUND REQUIRED UNIQUE }
type DiscountError { field: String message: String code: DiscountErrorCode! }
type VoucherCreate { voucher: Voucher errors: [DiscountError!]! }
input VoucherChannelListingAddInput { channelId: ID! discountValue: PositiveDecimal minAmountSpent: PositiveDecimal }
input VoucherChannelListingInput { addChannels: [VoucherChannelListingAddInput!] removeChannels: [ID!] }
type VoucherChannelListingUpdate { voucher: Voucher errors: [DiscountError!]! }
scalar PositiveDecimal
"""
PRODUCT_FIELDS = "slug: String! thumbnail(size: Int): Image variants: [ProductVariant!]"
VARIANT_FIELDS = "quantityAvailable(countryCode: String): Int pricing: VariantPricingInfo"
QUERY_FIELDS = """
  products(first: Int, last: Int, channel: String, filter: ProductFilterInput, search: String): ProductCountableConnection
  productVariant(id: ID, sku: String, channel: String): ProductVariant
  vouchers(first: Int, last: Int, channel: String): VoucherCountableConnection
"""
MUTATION_FIELDS = """
  checkoutCreate(input: CheckoutCreateInput!): CheckoutCreate
  checkoutLinesAdd(id: ID, lines: [CheckoutLineInput!]!): CheckoutLinesAdd
  voucherCreate(input: VoucherInput!): VoucherCreate
  voucherChannelListingUpdate(id: ID!, input: VoucherChannelListingInput!): VoucherChannelListingUpdate
"""


def gid(kind: str, pk: object) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


@dataclass
class SaleorVariant:
    pk: int
    name: str
    sku: str
    price: Decimal
    stock: int | None  # None: does not track inventory


@dataclass
class SaleorProduct:
    pk: int
    name: str
    slug: str
    thumbnail: str | None
    variants: list[SaleorVariant]


@dataclass
class SaleorVoucher:
    pk: int
    name: str
    code: str
    kind: str  # PERCENTAGE | FIXED
    value: Decimal | None
    usage_limit: int | None
    single_use: bool
    start: str
    end: str | None
    used: int = 0


@dataclass
class Books:
    products: dict[int, SaleorProduct] = field(default_factory=dict)
    vouchers: dict[int, SaleorVoucher] = field(default_factory=dict)

    def variant(self, pk: int) -> tuple[SaleorProduct, SaleorVariant] | None:
        for product in self.products.values():
            for variant in product.variants:
                if variant.pk == pk:
                    return product, variant
        return None

    def search(self, text: str | None) -> list[SaleorProduct]:
        words = (text or "").lower().split()

        def hit(product: SaleorProduct) -> bool:
            blob = " ".join([product.name, product.slug, *(v.sku for v in product.variants)]).lower()
            return all(w in blob for w in words)

        return [p for p in self.products.values() if hit(p)]

    def voucher(self, code: str) -> SaleorVoucher | None:
        return next((v for v in self.vouchers.values() if v.code.lower() == code.lower()), None)
