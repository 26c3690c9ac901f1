"""The services one Parley process holds, built once per app from its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy.engine import Connection, Engine

from app.config import Settings
from app.db import Database, make_engine, utcnow
from app.encryption import TokenCipher
from app.platforms.shopify.install import ShopifyInstaller


@dataclass
class Parley:
    settings: Settings
    db: Database
    cipher: TokenCipher
    shopify: ShopifyInstaller
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def build(cls, settings: Settings, bind: Engine | Connection | None = None) -> "Parley":
        db = Database(bind if bind is not None else make_engine(settings.database_url))
        cipher = TokenCipher(settings.token_encryption_key)
        parley = cls(settings=settings, db=db, cipher=cipher, shopify=None)  # type: ignore[arg-type]
        parley.shopify = ShopifyInstaller(settings, db, cipher, clock=lambda: parley.clock())
        return parley

    def now(self) -> datetime:
        return self.clock()
