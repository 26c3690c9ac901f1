"""Order look-ups for the shop's assistant (app/answers/order_desk.py), routed to the
platform of the shop asked about."""

from __future__ import annotations

from app.answers.order_status import OrderRecord
from app.models import Shop
from app.platforms.port import Platforms


class PlatformOrders:
    def __init__(self, platforms: Platforms):
        self.platforms = platforms

    def recent_orders(self, shop: Shop, customer_id: str, limit: int) -> list[OrderRecord]:
        return self.platforms.of(shop).recent_orders(shop, customer_id, limit)

    def find_order(self, shop: Shop, number: str) -> OrderRecord | None:
        return self.platforms.of(shop).find_order(shop, number)
