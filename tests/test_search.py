"""Inbox search through the index (issue 16, item 1): message bodies and shoppers' names
and e-mails in all six languages, newest match first, a page at a time with the
matching text, short queries answered from the recent messages, and an erased
customer gone from the index itself. On SQLite (FTS5 trigram) and PostgreSQL (pg_trgm)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.chat import inbox, privacy
from app.chat.search import RECENT_MESSAGES, search
from app.models import ConversationStatus, Visitor
from tests.support.shops import bearer

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Shop:
    """Shoppers writing to the test shop through the real chat actions, a minute apart."""

    def __init__(self, services, clock, shop_id: int):
        self.services, self.clock, self.shop_id = services, clock, shop_id
        clock.set(T0)

    def visitor(self, name: str | None = None, email: str | None = None, customer_id: str | None = None) -> str:
        with self.services.db.transaction() as session:
            visitor = Visitor(shop_id=self.shop_id, name=name, email=email, customer_id=customer_id)
            session.add(visitor)
            session.flush()
            return visitor.id

    def says(self, visitor_id: str, body: str) -> tuple[str, int]:
        self.clock.advance(timedelta(minutes=1))
        sent = self.services.chat.send_shopper_message(self.shop_id, visitor_id, str(uuid.uuid4()), body)
        return sent.conversation.id, sent.message.id

    def find(self, q: str, tab: str = "open", cursor: str | None = None, limit: int = 50) -> inbox.InboxPage:
        with self.services.db.session() as session:
            return inbox.page(session, self.shop_id, tab, self.clock(), q=q, cursor=cursor, limit=limit)

    def ids(self, q: str, tab: str = "open") -> list[str]:
        return [row["id"] for row in self.find(q, tab).rows]


@pytest.fixture
def shop(services, clock, shop_id) -> Shop:
    return Shop(services, clock, shop_id)


SIX = {
    "en": ("Where is my parcel? It was due on Monday.", "PARCEL", "parcel"),
    "et": ("Tere! Kas õunakook on veel müügil?", "ÕUNAKOOK", "õunakook"),
    "pl": ("Zamówiłem żółty płaszcz, gdzie jest przesyłka?", "ŻÓŁTY PŁASZCZ", "żółty płaszcz"),
    "ru": ("Здравствуйте, где мой заказ номер 1042?", "ЗАКАЗ", "заказ"),
    "he": ("שלום, איפה ההזמנה שלי? הזמנתי לפני שבוע", "ההזמנה", "ההזמנה"),
    "ar": ("مرحبا، أين طلبي؟ لقد دفعت بالبطاقة", "طلبي", "طلبي"),
}


def test_message_text_is_found_in_all_six_languages_whatever_the_case(shop):
    conversations = {}
    for language, (body, _, _) in SIX.items():
        conversations[language], _ = shop.says(shop.visitor(), body)
    for language, (body, query, matched) in SIX.items():
        [row] = shop.find(query).rows
        assert row["id"] == conversations[language], language
        match = row["match"]
        assert match["field"] == "message" and match["snippet"] == body
        assert match["snippet"][match["start"] : match["end"]] == matched
    # A word in none of them finds nothing; so does a query in another script.
    assert shop.ids("parcels") == []
    assert shop.ids("посылка") == []


@pytest.fixture(params=["index", "own_rows"])
def shopper_lookup(request, monkeypatch) -> str:
    """SQLite finds a big shop's shoppers through the index, a small one's from its rows."""
    import app.chat.search as searching

    monkeypatch.setattr(searching, "SMALL_SHOP", -1 if request.param == "index" else 10_000)
    return request.param


def test_shoppers_are_found_by_name_email_and_customer_number(shop, shopper_lookup):
    juri = shop.visitor(name="Jüri Õunapuu", email="Juri.Ounapuu@Example.ee", customer_id="7001")
    leah = shop.visitor(name="לאה כהן", email="leah@example.co.il")
    juri_chat, _ = shop.says(juri, "Hello")
    leah_chat, _ = shop.says(leah, "Hi")
    assert shop.ids("õunap") == [juri_chat]
    assert shop.ids("OUNAPUU@EXAMPLE") == [juri_chat]
    assert shop.ids("כהן") == [leah_chat]
    [row] = shop.find("example.co").rows
    assert row["id"] == leah_chat
    assert row["match"]["field"] == "email" and row["match"]["snippet"] == "leah@example.co.il"
    # Customer numbers are short: found exactly, like any one- or two-character query.
    assert shop.ids("7001") == [juri_chat]


def test_results_come_newest_match_first_one_row_per_conversation_a_page_at_a_time(shop):
    chats = []
    for n in range(7):
        chats.append(shop.says(shop.visitor(), f"refund request number {n}")[0])
    # The oldest conversation matches again, now: it moves to the top, once.
    shop.says(shop.visitor(), "nothing to see")
    shop.says(_visitor_of(shop, chats[0]), "another REFUND please")
    # A shopper whose name matches ranks by their latest message.
    named = shop.visitor(name="Refund Ranger")
    named_chat, _ = shop.says(named, "hello")
    expected = [named_chat, chats[0], *reversed(chats[1:])]

    seen, cursor, pages = [], None, 0
    while True:
        page = shop.find("refund", cursor=cursor, limit=3)
        seen += [row["id"] for row in page.rows]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    assert pages == 3
    first = shop.find("refund", limit=3).rows
    assert first[0]["match"]["field"] == "name"
    assert first[1]["match"]["snippet"] == "another REFUND please"


def _visitor_of(shop: Shop, conversation_id: str) -> str:
    with shop.services.db.session() as session:
        return session.execute(
            sa.text("SELECT visitor_id FROM conversation WHERE id = :id"), {"id": conversation_id}
        ).scalar_one()


def test_search_keeps_to_the_tab(shop):
    open_chat, _ = shop.says(shop.visitor(), "my invoice is wrong")
    done_chat, _ = shop.says(shop.visitor(), "invoice sorted, thanks")
    shop.services.chat.set_status(shop.shop_id, done_chat, ConversationStatus.resolved.value)
    assert shop.ids("invoice") == [open_chat]
    assert shop.ids("invoice", "waiting") == [open_chat]
    assert shop.ids("invoice", "resolved") == [done_chat]


def test_one_or_two_characters_look_through_the_recent_messages_and_their_shoppers(shop):
    dan = shop.visitor(name="דן")
    dan_chat, _ = shop.says(dan, "שלום")
    ok_chat, _ = shop.says(shop.visitor(), "ok, 42 it is")
    assert shop.ids("דן") == [dan_chat]
    [row] = shop.find("42").rows
    assert row["id"] == ok_chat and row["match"]["snippet"][row["match"]["start"] : row["match"]["end"]] == "42"
    assert set(shop.ids("o")) == {ok_chat}
    assert RECENT_MESSAGES >= 1000  # the window is the shop's latest messages, not a handful


def test_a_wildcard_or_quote_in_the_query_is_text(shop):
    percent, _ = shop.says(shop.visitor(), 'the "50% off" code failed')
    shop.says(shop.visitor(), "50 percent")
    assert shop.ids("50%") == [percent]
    assert shop.ids('"50% off"') == [percent]
    assert shop.ids("_ off") == []


def test_erasure_leaves_nothing_in_the_index(shop, services, backend):
    secret = "Kalevipoeg-Zyxwvut"
    erased = shop.visitor(name="Mari Maasikas", email="mari.maasikas@example.ee", customer_id="9001")
    kept = shop.visitor(name="Other Shopper", email="other@example.ee")
    shop.says(erased, f"my code is {secret}, my address Rüütli 5")
    kept_chat, _ = shop.says(kept, "my address is Rüütli 7")
    assert shop.ids("maasikas") and shop.ids("zyxwvut")
    with services.db.transaction() as session:
        privacy.erase_customer(session, shop.shop_id, "9001", "mari.maasikas@example.ee")
    assert shop.ids("maasikas") == []
    assert shop.ids("zyxwvut") == []
    assert shop.ids("rüütli") == [kept_chat]
    if backend != "sqlite":
        return
    with services.db.session() as session:
        run = session.execute
        # The index's own vocabulary: no trigram that only the erased text had.
        run(sa.text("CREATE VIRTUAL TABLE temp.message_terms USING fts5vocab(main, message_fts, row)"))
        run(sa.text("CREATE VIRTUAL TABLE temp.visitor_terms USING fts5vocab(main, visitor_fts, row)"))
        message_terms = {t for (t,) in run(sa.text("SELECT term FROM temp.message_terms"))}
        visitor_terms = {t for (t,) in run(sa.text("SELECT term FROM temp.visitor_terms"))}
        assert "xwv" not in message_terms and "zyx" not in message_terms
        assert "tli" in message_terms  # the kept shopper's message is still indexed
        assert "sik" not in visitor_terms and "mar" not in visitor_terms
        assert "oth" in visitor_terms
        # Nor in the shadow tables' bytes, nor a stored copy of the visitor's fields.
        for table in ("message_fts_data", "message_fts_idx", "visitor_fts_data", "visitor_fts_content"):
            for row in run(sa.text(f"SELECT * FROM {table}")):
                raw = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
                for needle in ("Zyxwvut".lower(), "maasikas", "mari"):
                    assert needle.encode() not in raw.lower(), (table, needle)
        run(sa.text("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)"))
        run(sa.text("INSERT INTO visitor_fts(visitor_fts) VALUES ('integrity-check')"))
        # FTS5 deletes by adding a marker and keeps the old entry in its segment until a
        # merge: the index's segments must be byte for byte those built from what is left
        # (ids 1 and 10 are its averages and structure records; segment ids may differ).
        blocks = sa.text("SELECT block FROM message_fts_data WHERE id > 10 ORDER BY id")
        after_erasure = list(run(blocks))
    with services.db.transaction() as session:  # FTS5 writes its segments at commit
        session.execute(sa.text("INSERT INTO message_fts(message_fts) VALUES ('rebuild')"))
    with services.db.session() as session:
        assert list(session.execute(blocks)) == after_erasure


def test_a_shops_erasure_empties_its_part_of_the_index(shop, services, backend):
    shop.says(shop.visitor(name="Gone Shopper"), "a message to forget")
    with services.db.transaction() as session:
        from app.models import Shop as ShopRow

        row = session.get(ShopRow, shop.shop_id)
        privacy.erase_shop(session, row)
    with services.db.session() as session:
        assert search(session, shop.shop_id, "open", "forget").hits == []
        if backend == "sqlite":
            assert session.execute(sa.text("SELECT count(*) FROM visitor_fts")).scalar_one() == 0
            assert session.execute(sa.text("SELECT count(*) FROM message_fts_idx")).scalar_one() == 0


def test_an_edited_body_is_found_by_its_new_text_only(shop, services):
    chat, message_id = shop.says(shop.visitor(), "colour: blue")
    with services.db.transaction() as session:
        session.execute(sa.text("UPDATE message SET body = 'colour: green' WHERE id = :id"), {"id": message_id})
    assert shop.ids("blue") == []
    assert shop.ids("green") == [chat]


def test_the_queries_use_the_index(shop, services, backend):
    shop.says(shop.visitor(name="Index Check"), "index me")
    with services.db.session() as session:
        if backend == "sqlite":
            plan = " ".join(
                str(row[-1])
                for row in session.execute(
                    sa.text("EXPLAIN QUERY PLAN SELECT rowid FROM message_fts WHERE message_fts MATCH '\"dex\"'")
                )
            )
            assert "VIRTUAL TABLE INDEX" in plan
            return
        # Even with a seq scan forbidden the planner finds a plan: the GIN indexes serve these shapes.
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        for sql, index in (
            ("SELECT id FROM message WHERE body ILIKE '%dex me%'", "ix_message_body_trgm"),
            (
                "SELECT id FROM visitor WHERE (coalesce(name, '') || ' ' || coalesce(email, '') "
                "|| ' ' || coalesce(contact_email, '')) ILIKE '%x chec%'",
                "ix_visitor_search_trgm",
            ),
            ("SELECT id FROM visitor WHERE shop_id = 1 AND lower(email) = 'a@b.c'", "ix_visitor_shop_id_email_lower"),
        ):
            session.execute(sa.text("SET LOCAL enable_indexscan = on"))
            plan = " ".join(row[0] for row in session.execute(sa.text("EXPLAIN " + sql)))
            assert index in plan, plan


def test_the_inbox_api_answers_a_search_with_matches_and_refuses_a_forged_cursor(client, standin, shop):
    chat, _ = shop.says(shop.visitor(), "Wo ist mein Paket?")
    answer = client.get("/admin/api/inbox?q=paket", headers=bearer(standin))
    assert answer.status_code == 200
    [row] = answer.get_json()["conversations"]
    assert row["id"] == chat and row["match"]["field"] == "message"
    assert answer.get_json()["counts"] == {"open": 1, "waiting": 1, "resolved": 0}
    for forged in (
        base64.urlsafe_b64encode(json.dumps(["s", "yesterday", chat, None]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps(["s", T0.isoformat(), chat, "12"]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps([T0.isoformat(), chat]).encode()).decode(),
        "%%%",
    ):
        refused = client.get("/admin/api/inbox", query_string={"q": "paket", "cursor": forged}, headers=bearer(standin))
        assert refused.status_code == 400, forged
        assert refused.get_json()["error"] == "invalid_cursor"


def test_a_small_shop_finds_its_match_under_another_shops_many(shop, services, monkeypatch):
    """SQLite's index holds every shop's messages: when another shop's newer matches keep
    answering, the small shop reads its own messages instead, and the result is the same."""
    import app.chat.search as searching
    from tests.support.shops import OTHER, install

    monkeypatch.setattr(searching, "INDEX_STEP", 5)
    monkeypatch.setattr(searching, "MAX_INDEX_SCAN", 10)
    mine, _ = shop.says(shop.visitor(), "Где мой заказ?")
    shop.says(shop.visitor(), "unrelated")
    other = Shop(services, shop.clock, install(services, OTHER))
    other.clock.set(T0 + timedelta(days=1))
    for n in range(40):
        other.says(other.visitor(), f"заказ {n}")
    assert shop.ids("ЗАКАЗ") == [mine]
    assert len(other.ids("заказ")) == 40


@pytest.mark.parametrize(
    "q", ["a\x00b", "\x00\x00\x00", '"""', "*", "NEAR(a b)", "a OR b", "%%%", "\\\\\\", "x" * 500, "ab\x00", "{name}:x"]
)
def test_a_query_the_index_would_read_as_syntax_is_text_or_a_400(client, standin, shop, q):
    shop.says(shop.visitor(), "NEAR(a b) and a OR b, {name}:x")
    answer = client.get("/admin/api/inbox", query_string={"q": q}, headers=bearer(standin))
    assert answer.status_code in (200, 400), answer.get_data(as_text=True)[:200]
    if answer.status_code == 400:
        assert set(answer.get_json()) >= {"error", "message"}
    elif q in ("NEAR(a b)", "a OR b", "{name}:x"):
        assert len(answer.get_json()["conversations"]) == 1
