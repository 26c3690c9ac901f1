"""A shop's settings are read once per transaction (app/chat/shop_settings.py), and never
served stale: a write in the same transaction, or another transaction's, is seen."""

from __future__ import annotations

import sqlalchemy as sa

from app.chat.shop_settings import get_settings, put_setting
from app.clock import utcnow
from app.notify.settings import notify_settings
from tests.support.shops import SHOP, install


def _selects(bind) -> tuple[list[str], object]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "shop_setting" in statement:
            seen.append(statement)

    engine = bind.engine if isinstance(bind, sa.engine.Connection) else bind
    sa.event.listen(engine, "before_cursor_execute", count)
    return seen, lambda: sa.event.remove(engine, "before_cursor_execute", count)


def test_settings_are_read_once_per_transaction_and_a_write_is_seen(services, bind):
    shop_id = install(services, SHOP)
    seen, stop = _selects(bind)
    try:
        with services.db.transaction() as session:
            get_settings(session, shop_id)
            notify_settings(session, shop_id)
            first = get_settings(session, shop_id)
            assert len(seen) == 1  # one read for the three
            first["greeting"] = "changed by a caller"  # a copy: the next read is not affected
            assert get_settings(session, shop_id)["greeting"] != "changed by a caller"
            put_setting(session, shop_id, "greeting", "Tere!", utcnow())
            assert get_settings(session, shop_id)["greeting"] == {"default": "Tere!"}
            put_setting(session, shop_id, "notify.alert_language", "et", utcnow())
            assert notify_settings(session, shop_id)["alert_language"] == "et"
    finally:
        stop()


def test_another_transactions_write_is_seen_by_the_next_transaction(services):
    shop_id = install(services, SHOP)
    with services.db.session() as reader:
        assert get_settings(reader, shop_id)["greeting"] != {"default": "Hei!"}
        reader.commit()  # the memo lives as long as the transaction
        with services.db.transaction() as writer:
            put_setting(writer, shop_id, "greeting", "Hei!", utcnow())
        assert get_settings(reader, shop_id)["greeting"] == {"default": "Hei!"}
