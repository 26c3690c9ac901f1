"""The services one Parley process holds, built once per app from its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from sqlalchemy.engine import Connection, Engine

from app.chat.conversations import Chat
from app.chat.visitor_tokens import VisitorTokens
from app.config import Settings
from app.db import Database, make_engine, utcnow
from app.encryption import TokenCipher
from app.platforms.saleor.apps import SaleorApps
from app.platforms.saleor.context import SaleorCommerceContext
from app.platforms.shopify.admin_api import AdminAPI
from app.platforms.shopify.customer_context import CustomerContext
from app.platforms.shopify.install import ShopifyInstaller
from app.realtime.broker import Broker, make_broker

if TYPE_CHECKING:
    from app.event_worker import EventWorker


@dataclass
class Parley:
    settings: Settings
    db: Database
    cipher: TokenCipher
    shopify: ShopifyInstaller
    broker: Broker
    chat: Chat
    visitor_tokens: VisitorTokens
    customer_context: CustomerContext = None  # type: ignore[assignment]
    saleor: SaleorApps = None  # type: ignore[assignment]
    saleor_context: SaleorCommerceContext = None  # type: ignore[assignment]
    # Set by `parley serve` / `parley demo`; tests process events explicitly (app/event_worker.py).
    event_worker: "EventWorker | None" = None
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def build(cls, settings: Settings, bind: Engine | Connection | None = None, broker: Broker | None = None) -> "Parley":
        db = Database(bind if bind is not None else make_engine(settings.database_url))
        cipher = TokenCipher(settings.token_encryption_key)
        broker = broker or make_broker(settings.redis_url)
        parley = cls(
            settings=settings,
            db=db,
            cipher=cipher,
            shopify=None,  # type: ignore[arg-type]
            broker=broker,
            chat=None,  # type: ignore[arg-type]
            visitor_tokens=VisitorTokens(settings.secret_key),
        )
        # The services read the clock through `parley`, so a test can move time for all of them.
        parley.shopify = ShopifyInstaller(settings, db, cipher, clock=lambda: parley.clock())
        parley.chat = Chat(db, broker, clock=lambda: parley.clock())
        parley.customer_context = CustomerContext(parley.admin_api)
        parley.saleor = SaleorApps(db, cipher)
        parley.saleor_context = SaleorCommerceContext(parley)
        return parley

    def admin_api(self, shop_domain: str) -> AdminAPI:
        """An Admin GraphQL client for the shop, with a fresh token (refreshed if about to lapse)."""
        from app import shops
        from app.models import Platform

        with self.db.session() as session:
            shop = shops.find_installed_shop(session, Platform.shopify, shop_domain)
        if shop is None:
            from app.platforms.shopify.admin_api import AdminAPIUnauthorized

            raise AdminAPIUnauthorized(f"{shop_domain} is not installed")
        token = self.shopify.access_token(shop)
        return AdminAPI(shop_domain, token, self.settings.shopify_api_version, self.settings.shopify_standin_url)

    def start_event_worker(self) -> None:
        """Process webhook events in the background of this process (not under tests,
        which process them explicitly with app.event_worker.run_pending)."""
        from app.event_worker import EventWorker

        if self.event_worker is None:
            self.event_worker = EventWorker(self, interval=self.settings.event_sweep_seconds)
            self.event_worker.start()

    def now(self) -> datetime:
        return self.clock()
