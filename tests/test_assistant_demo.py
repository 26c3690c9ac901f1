"""`make demo`'s assistant: what parley demo runs (standins.demo.build_demo on loopback
sockets, both demo shops installed) plus its six-language answer lists. A shopper in each
language gets the shop's answer to a covered question at once, and a clean handover
otherwise, on Shopify and on Saleor; the signed-in demo customer's order comes with its
tracking; the store's policies and pages are there to import."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from app import shops
from app.chat.auto_replies import HANDOVER
from app.models import AuthorKind, Message, Platform, Shop
from standins.demo.answers import DEMO_ANSWERS, seed_demo_assistant
from tests.support.browser import DEMO_SHOP, start_demo
from tests.support.shops import bearer

# One question per language as shoppers type them (typos, no diacritics), and one not covered.
COVERED = {
    "en": ("how long does shiping take to finland", "delivery_time"),
    "et": ("millal mu pakk kohale jouab", "delivery_time"),
    "pl": ("ile kosztuje dostawa", "delivery_cost"),
    "ru": ("можно вернуть куртку", "returns"),
    "he": ("אפשר לשלם בפייפאל", "payment"),
    "ar": ("اي مقاس باركا اختار", "sizes"),
}
NOT_COVERED = {
    "en": "do you have a shop in tartu",
    "et": "kas teil on kinkekaarte",
    "pl": "czy macie sklep w krakowie",
    "ru": "у вас есть магазин в риге",
    "he": "יש לכם כרטיסי מתנה",
    "ar": "عندكم بطاقات هدايا",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    stack, stop = start_demo(tmp_path_factory.mktemp("assistant-demo"))
    assert stack.saleor_install["status"] == "installed", stack.saleor_install
    written = seed_demo_assistant(stack.app, stack.shopify, stack.saleor)
    assert written == {DEMO_SHOP: 30, stack.saleor.api_url: 30}
    assert seed_demo_assistant(stack.app, stack.shopify, stack.saleor) == {DEMO_SHOP: 0, stack.saleor.api_url: 0}
    yield stack
    stop()


def shop_of(demo, platform: Platform, domain: str) -> Shop:
    with demo.services.db.session() as session:
        return shops.find_installed_shop(session, platform, domain)


def ask(demo, shop: Shop, locale: str, body: str, customer_id: str | None = None) -> Message:
    started = demo.services.sessions.start(shop, None, locale, customer_id)
    sent = demo.services.chat.send_shopper_message(shop.id, started["visitor_id"], str(uuid.uuid4()), body)
    demo.services.auto_replies.drain()
    with demo.services.db.session() as session:
        reply = session.exec(
            select(Message).where(Message.conversation_id == sent.conversation.id).order_by(Message.id.desc())
        ).first()
    assert reply.author_kind == AuthorKind.bot, f"no reply to {body!r}"
    return reply


def answer_text(language: str, key: str) -> str:
    return next(answer for k, _q, _alts, answer in DEMO_ANSWERS[language] if k == key)


@pytest.mark.parametrize("platform", [Platform.shopify, Platform.saleor])
@pytest.mark.parametrize("language", sorted(COVERED))
def test_each_language_gets_an_instant_answer_or_a_clean_handover(demo, platform, language):
    shop = shop_of(demo, platform, DEMO_SHOP if platform is Platform.shopify else demo.saleor.api_url)
    question, key = COVERED[language]
    reply = ask(demo, shop, language, question)
    assert reply.body == answer_text(language, key)
    assert reply.meta["confidence"] >= 0.75 and reply.meta["feedback"] is None

    handover = ask(demo, shop, language, NOT_COVERED[language])
    assert handover.body == HANDOVER[language]
    assert handover.meta == {"handover": "not sure"}


def test_the_signed_in_demo_customer_gets_the_shipped_orders_tracking(demo):
    from standins.demo.names import DEMO_CUSTOMER_ID

    shop = shop_of(demo, Platform.shopify, DEMO_SHOP)
    reply = ask(demo, shop, "et", "kus on minu tellimus?", customer_id=str(DEMO_CUSTOMER_ID))
    assert reply.body.startswith("Sinu viimased tellimused:")
    assert "Tellimus #1001" in reply.body and "https://www.omniva.ee/track?barcode=CC123456789EE" in reply.body
    assert reply.meta["orders"] == ["#1002", "#1001"]


def test_the_demo_store_has_policies_and_pages_to_import(demo):
    client = demo.app.test_client()
    report = client.post("/admin/api/answers/import", json={"language": "en"}, headers=bearer(demo.shopify, DEMO_SHOP))
    assert report.status_code == 200, report.data
    assert sorted(report.get_json()["added"]) == ["Care instructions", "Refund policy", "Shipping policy"]
