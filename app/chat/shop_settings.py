"""A shop's chat settings, with the defaults a fresh install works with."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.db import utcnow
from app.models import ShopSetting

DEFAULTS: dict[str, Any] = {
    "greeting": "Hi! Ask us anything — we usually reply within minutes.",
    "accent": "#008060",
    "hours": {"timezone": "UTC", "weekly": {}},
    "replies_in_minutes": 5,
    "away_message": "We're away right now. Leave a message and we'll reply as soon as we're back.",
    "storefront_origins": [],
}


def get_settings(session: Session, shop_id: int) -> dict[str, Any]:
    rows = session.exec(select(ShopSetting).where(ShopSetting.shop_id == shop_id)).all()
    values = dict(DEFAULTS)
    values.update({row.key: row.value for row in rows})
    return values


def put_setting(session: Session, shop_id: int, key: str, value: Any) -> None:
    row = session.exec(select(ShopSetting).where(ShopSetting.shop_id == shop_id, ShopSetting.key == key)).first()
    if row is None:
        row = ShopSetting(shop_id=shop_id, key=key)
    row.value = value
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
