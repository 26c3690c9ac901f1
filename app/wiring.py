"""The composition root: builds every service of a Parley process, in dependency order.

Imported only by the app factory (app/__init__.py) and the CLI. Everything else is
handed the narrow things it uses. What a test or the demo plugs in instead of the
real world (a database connection, a broker, a clock, a Shopify transport) comes in
here as an argument, and production refuses the ones that stand in for a platform.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection, Engine

from app.answers.assistant import Assistant
from app.answers.attempts import LookupAttempts
from app.answers.order_desk import OrderDesk
from app.chat.auto_replies import AutoReplies
from app.chat.conversations import Chat
from app.chat.news import RecentMessages
from app.chat.response_times import ReplyTimes
from app.chat.sessions import Sessions
from app.chat.visitor_tokens import VisitorTokens
from app.chat.visitors import CustomerNames
from app.clock import Clock, utcnow
from app.config import ConfigError, Settings
from app.db import Database, make_engine
from app.encryption import TokenCipher
from app.inbound.worker import Inbound
from app.media.attachments import Attachments
from app.media.storage import DatabaseStorage
from app.models import Platform
from app.notify import service as notify
from app.notify.courier import NotifyCourier
from app.notify.inbound import InboundMail
from app.notify.mailer import Mailer, make_mailer
from app.notify.outbox import OutboxWorker
from app.notify.shoppers import ShopperMail
from app.notify.tokens import NotifyTokens
from app.platforms.order_lookup import PlatformOrders
from app.platforms.port import Platforms
from app.platforms.saleor.adapter import SaleorPlatform
from app.platforms.saleor.apps import SaleorApps
from app.platforms.saleor.checkouts import SaleorCheckouts
from app.platforms.saleor.context import SaleorCommerceContext
from app.platforms.saleor.events import SaleorEvents
from app.platforms.shopify import webhooks as shopify_webhooks
from app.platforms.shopify.adapter import ShopifyPlatform
from app.platforms.shopify.customer_context import CustomerContext
from app.platforms.shopify.http import ShopifyHTTP
from app.platforms.shopify.install import ShopifyInstaller
from app.realtime.broker import Broker, RedisBroker, make_broker
from app.services import Services


def build(
    settings: Settings,
    *,
    bind: Engine | Connection | None = None,
    broker: Broker | None = None,
    clock: Clock | None = None,
    shopify_http: ShopifyHTTP | None = None,
    mailer: Mailer | None = None,
) -> Services:
    shopify_http = shopify_http or ShopifyHTTP()
    if settings.production and not shopify_http.is_real:
        raise ConfigError(
            "a stand-in for Shopify was handed in; it is refused in production, where Parley talks to Shopify itself"
        )
    clock = clock or utcnow
    db = Database(bind if bind is not None else make_engine(settings.database_url))
    cipher = TokenCipher(settings.token_encryption_key)
    broker = broker or make_broker(settings.redis_url)
    if isinstance(broker, RedisBroker) and not isinstance(db.bind, Connection):
        # While Redis is down, one look at the database per process wakes the streams with
        # news (a database bound to the tests' one connection cannot serve a second thread).
        broker.fall_back_on(RecentMessages(db, wall_clock=clock), settings.sse_poll_seconds)
    visitor_tokens = VisitorTokens(settings.secret_key)
    auto_replies = AutoReplies(db, broker, clock, Assistant())
    # First of the observers: a picture's attachment is on its message before anyone reads it.
    attachments = Attachments(db, clock, DatabaseStorage())
    chat = Chat(db, broker, clock, [attachments, *notify.observers(), auto_replies])

    installer = ShopifyInstaller(settings, db, cipher, clock, shopify_http)
    shopify = ShopifyPlatform(settings, db, installer, CustomerContext(installer.admin_api))
    apps = SaleorApps(db, cipher, clock)
    checkouts = SaleorCheckouts(apps, chat)
    saleor = SaleorPlatform(settings, apps, SaleorCommerceContext(apps), checkouts)

    platforms = Platforms([saleor, shopify])
    # "Where is my order?" answered from the shop's platform, to a shopper who proved it is theirs.
    auto_replies.orders = OrderDesk(PlatformOrders(platforms), LookupAttempts(settings.secret_key, settings.redis_url))
    tokens = NotifyTokens(settings.secret_key)
    mailer = mailer or make_mailer(settings)
    courier = NotifyCourier(settings, db, clock, tokens, mailer, platforms)
    inbound = Inbound(
        db,
        clock,
        {Platform.shopify: shopify_webhooks.process_event, Platform.saleor: SaleorEvents(checkouts)},
        sweep_seconds=settings.event_sweep_seconds,
        retention_days=settings.webhook_retention_days,
        cart_retention_days=settings.cart_retention_days,
    )
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        cipher=cipher,
        broker=broker,
        visitor_tokens=visitor_tokens,
        chat=chat,
        sessions=Sessions(
            db,
            clock,
            visitor_tokens,
            CustomerNames(db, lambda shop, visitor: platforms.of(shop).customer_panel(shop, visitor)),
            ReplyTimes(),
        ),
        inbound=inbound,
        # Staff requests are judged in this order: Saleor's carry their own header.
        platforms=platforms,
        shopify=shopify,
        saleor=saleor,
        auto_replies=auto_replies,
        attachments=attachments,
        notify=notify.Notify(
            tokens=tokens,
            mailer=mailer,
            courier=courier,
            outbox=OutboxWorker(db, clock, courier),
            inbound=InboundMail(db, clock, tokens, chat),
            shoppers=ShopperMail(db, clock, tokens, visitor_tokens),
        ),
    )
