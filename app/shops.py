"""Installed shops and their tokens: install, token rotation, uninstall.

Platform-neutral: the Shopify and Saleor adapters obtain tokens and hand them
here as a TokenGrant; this module stores them encrypted and atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.encryption import TokenCipher
from app.models import InstallState, Platform, Shop


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    scopes: str
    expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None

    def __repr__(self) -> str:
        return f"TokenGrant(scopes={self.scopes!r}, expires_at={self.expires_at!r}, <tokens hidden>)"


def find_shop(session: Session, platform: Platform, domain: str) -> Shop | None:
    return session.exec(select(Shop).where(Shop.platform == platform, Shop.domain == domain)).first()


def find_installed_shop(session: Session, platform: Platform, domain: str) -> Shop | None:
    shop = find_shop(session, platform, domain)
    return shop if shop and shop.install_state == InstallState.installed else None


def record_install(
    session: Session,
    cipher: TokenCipher,
    platform: Platform,
    domain: str,
    grant: TokenGrant,
    now: datetime,
    name: str | None = None,
) -> Shop:
    """Create the shop, or bring an uninstalled one back, with fresh tokens."""
    shop = find_shop(session, platform, domain)
    if shop is None:
        shop = Shop(platform=platform, domain=domain, created_at=now)
    if shop.install_state != InstallState.installed or shop.installed_at is None:
        shop.installed_at = now
    shop.install_state = InstallState.installed
    shop.uninstalled_at = None
    if name:
        shop.name = name
    _apply_grant(shop, cipher, grant)
    session.add(shop)
    session.flush()
    return shop


def store_rotated_tokens(
    session: Session, cipher: TokenCipher, shop: Shop, expected_version: int, grant: TokenGrant
) -> bool:
    """Replace the token pair only if nobody else replaced it since `expected_version`.

    Both tokens and both expiries change in one UPDATE, so no reader ever sees
    a new access token beside an old refresh token.
    """
    values = _grant_columns(cipher, grant)
    result = session.exec(
        sa.update(Shop)
        .where(col(Shop.id) == shop.id, col(Shop.token_version) == expected_version)
        .values(**values, token_version=expected_version + 1)
    )
    if result.rowcount != 1:
        return False
    session.flush()
    session.refresh(shop)
    return True


def mark_uninstalled(session: Session, shop: Shop, now: datetime) -> None:
    shop.install_state = InstallState.uninstalled
    shop.uninstalled_at = now
    shop.access_token_enc = None
    shop.access_token_expires_at = None
    shop.refresh_token_enc = None
    shop.refresh_token_expires_at = None
    shop.token_version += 1
    session.add(shop)
    session.flush()


def update_scopes(session: Session, shop: Shop, scopes: str) -> None:
    shop.scopes = scopes
    session.add(shop)
    session.flush()


def access_token_of(shop: Shop, cipher: TokenCipher) -> str | None:
    return cipher.decrypt(shop.access_token_enc) if shop.access_token_enc else None


def refresh_token_of(shop: Shop, cipher: TokenCipher) -> str | None:
    return cipher.decrypt(shop.refresh_token_enc) if shop.refresh_token_enc else None


def _grant_columns(cipher: TokenCipher, grant: TokenGrant) -> dict[str, str | datetime | None]:
    return {
        "access_token_enc": cipher.encrypt(grant.access_token),
        "access_token_expires_at": grant.expires_at,
        "refresh_token_enc": cipher.encrypt(grant.refresh_token) if grant.refresh_token else None,
        "refresh_token_expires_at": grant.refresh_expires_at,
        "scopes": grant.scopes,
    }


def _apply_grant(shop: Shop, cipher: TokenCipher, grant: TokenGrant) -> None:
    for column, value in _grant_columns(cipher, grant).items():
        setattr(shop, column, value)
    shop.token_version += 1
