"""The services one Parley process holds. Built once, in order, by app/wiring.py;
views reach them through app/web/context.py and never build one themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.chat.auto_replies import AutoReplies
from app.chat.conversations import Chat
from app.chat.sessions import Sessions
from app.chat.visitor_tokens import VisitorTokens
from app.clock import Clock
from app.config import Settings
from app.db import Database
from app.encryption import TokenCipher
from app.inbound.worker import Inbound
from app.media.attachments import Attachments
from app.notify.service import Notify
from app.platforms.port import Platforms
from app.platforms.saleor.adapter import SaleorPlatform
from app.platforms.shopify.adapter import ShopifyPlatform
from app.realtime.broker import Broker


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    db: Database
    cipher: TokenCipher
    broker: Broker
    visitor_tokens: VisitorTokens
    chat: Chat
    sessions: Sessions
    inbound: Inbound
    platforms: Platforms
    # The platform-specific blueprints (app/web/shopify, app/web/saleor) use their own adapter.
    shopify: ShopifyPlatform
    saleor: SaleorPlatform
    # The shop's assistant in the thread (app/answers decides, app/chat/auto_replies acts).
    auto_replies: AutoReplies
    # Pictures both ways: kept, and read back by the conversation's two sides (app/media).
    attachments: Attachments
    notify: Notify

    def now(self) -> datetime:
        return self.clock()
