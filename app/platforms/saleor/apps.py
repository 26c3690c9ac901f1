"""Parley's installations in Saleor instances, keyed by API URL.

A Saleor installation is a `Shop` row with `platform=saleor`, `domain` = the
`Saleor-Api-Url` (`https://…/graphql/`), the app token encrypted like Shopify's
(`access_token_enc`), `app_id` = our App's global id in that Saleor, and `jwks`
= the cached key set that signs its webhooks and tokens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlmodel import Session

from app import shops
from app.clock import Clock
from app.db import Database
from app.encryption import TokenCipher
from app.models import Platform, Shop
from app.platforms.saleor.api import SaleorAPI
from app.platforms.saleor.keys import JWKSUnavailable, KeyRing, fetch_jwks

# At most one fetch of a Saleor's JWKS in this many seconds when a `kid` is unknown or
# nothing is cached: a real rotation needs one, a stream of forged kids must not turn into
# a stream of fetches, whether the fetches work or fail.
REFETCH_SECONDS = 10.0


class SaleorApps:
    def __init__(
        self,
        db: Database,
        cipher: TokenCipher,
        now: Clock,
        fetch: Callable[[str], str] = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.db = db
        self.cipher = cipher
        self.now = now
        # How a JWKS is fetched; tests and the demo point it at the stand-in only by URL.
        self.fetch = fetch
        self._clock = clock
        # Per API URL: when the last fetch was attempted, and whether it worked.
        self._attempts: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def _may_refetch(self, api_url: str) -> bool:
        """Claim the one attempt of the current window (True), or say why not: False when the
        last attempt worked (the `kid` is unknown to a fresh key set: refuse the signature),
        JWKSUnavailable when it failed (Saleor is down: the caller should retry later)."""
        with self._lock:
            last = self._attempts.get(api_url)
            if last is None or self._clock() - last[0] >= REFETCH_SECONDS:
                # Counted before the fetch, so concurrent requests do not all go.
                self._attempts[api_url] = (self._clock(), True)
                return True
        if not last[1]:
            raise JWKSUnavailable(f"the JWKS of {api_url} could not be fetched moments ago; retry later")
        return False

    def _fetch_and_note(self, api_url: str) -> str:
        try:
            jwks = self.fetch(api_url)
        except JWKSUnavailable:
            with self._lock:
                at = self._attempts.get(api_url, (self._clock(), False))[0]
                self._attempts[api_url] = (at, False)
            raise
        return jwks

    def find(self, session: Session, api_url: str) -> Shop | None:
        """The installed Saleor with this API URL, or None."""
        return shops.find_installed_shop(session, Platform.saleor, api_url)

    def keyring(self, shop: Shop) -> KeyRing:
        """The shop's keys: its cached JWKS, refetched (and stored) once on an unknown `kid`."""
        shop_id, api_url = shop.id, shop.domain

        def load() -> str | None:
            with self.db.session() as session:
                row = session.get(Shop, shop_id)
                return row.jwks if row is not None else None

        def store(jwks: str) -> None:
            with self.db.transaction() as session:
                row = session.get(Shop, shop_id)
                if row is not None:
                    row.jwks = jwks
                    session.add(row)

        return KeyRing(api_url, load, store, self._fetch_and_note, lambda: self._may_refetch(api_url))

    def token(self, shop: Shop) -> str:
        """The app token Saleor gave at install (decrypted; never log it)."""
        if not shop.access_token_enc:
            raise LookupError(f"{shop.domain} has no app token")
        return self.cipher.decrypt(shop.access_token_enc)

    def api(self, shop: Shop) -> SaleorAPI:
        """The shop's GraphQL API with Parley's app token."""
        return SaleorAPI(shop.domain, self.token(shop))

    def mark_uninstalled(self, shop: Shop, session: Session | None = None) -> None:
        """Saleor refused our token: the app was deleted (Saleor ≤ 3.23.4 never tells the app
        itself). In `session` when given, so an event's transaction carries it."""
        if session is not None:
            row = session.get(Shop, shop.id)
            if row is not None:
                shops.mark_uninstalled(session, row, self.now())
            return
        with self.db.transaction() as own:
            row = own.get(Shop, shop.id)
            if row is not None:
                shops.mark_uninstalled(own, row, self.now())
