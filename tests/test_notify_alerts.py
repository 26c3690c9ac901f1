"""Merchant alerts through a real SMTP server: a shopper writes and nobody is looking,
so the shop's alert addresses get one e-mail per burst, with the message, the cart and
a link into the admin; nothing while staff have the page open; the relay going away
loses and doubles nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from sqlmodel import select

from app.chat.visitors import visitor_label
from app.models import Conversation, Outbox
from tests.support.shoppers import cart, shopper_writes
from tests.support.shops import SHOP, bearer, install

# A Tuesday, 10:07 UTC: inside business hours in every test here.
NOON = datetime(2026, 12, 1, 10, 7, 30, tzinfo=UTC)


@pytest.fixture
def shop(mail_app, clock):
    clock.set(NOON)
    services = mail_app.extensions["parley"]
    shop_id = install(services, SHOP)
    return shop_id


def alerts_on(client, standin, **settings):
    answer = client.put(
        "/admin/api/notifications", json={"alert_emails": ["team@fjord.test"], **settings}, headers=bearer(standin)
    )
    assert answer.status_code == 200, answer.data
    return answer.get_json()


def outbox_rows(services, kind: str | None = None) -> list[Outbox]:
    with services.db.session() as session:
        query = select(Outbox).order_by(Outbox.id)
        return list(session.exec(query.where(Outbox.kind == kind) if kind else query).all())


def test_a_burst_of_shopper_messages_is_one_alert_with_each_message_cart_and_a_link(
    mail_app, shop, standin, smtp, clock
):
    client, services = mail_app.test_client(), mail_app.extensions["parley"]
    alerts_on(client, standin, alert_batch_minutes=3)
    first = shopper_writes(client, standin, SHOP, "Do you ship to Tartu?", cart=cart(12990))
    clock.advance(timedelta(seconds=40))
    shopper_writes(client, standin, SHOP, "And is the parka waterproof?")

    assert services.notify.outbox.run_due() == {}  # the window is still open
    assert smtp.received == []
    clock.advance(timedelta(minutes=3))
    assert services.notify.outbox.run_due() == {"sent": 1}

    [mail] = smtp.received
    message = mail.message
    assert mail.rcpt_tos == ["team@fjord.test"]
    assert message["Subject"] == f"2 new messages on {SHOP}"  # the shop was installed without a name
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Do you ship to Tartu?" in body and "And is the parka waterproof?" in body
        assert "€129.90" in body
    link = f"{standin.url}/store/{SHOP}/admin/apps/{services.settings.shopify_api_key}/app/conversations/{first['conversation']['id']}"
    assert link in text
    assert message["Message-ID"].endswith("@mail.parley.test>")
    # Bounces come back to an address that names the shop, signed.
    assert mail.mail_from.startswith("bounce+s") and mail.mail_from.endswith("@mail.parley.test")
    assert services.notify.tokens.bounced(mail.mail_from) == ("shop", shop)
    assert services.notify.outbox.run_due() == {}  # never twice


@pytest.mark.parametrize(
    "language, subject, cart_word, open_words, direction",
    [
        ("et", f"2 uut sõnumit poes {SHOP}", "ostukorv", "Ava vestlus", "ltr"),
        ("he", f"2 הודעות חדשות ב-{SHOP}", "עגלה", "לפתיחת השיחה", "rtl"),
    ],
)
def test_an_alert_is_written_in_the_language_the_shop_chose(
    mail_app, shop, standin, smtp, clock, language, subject, cart_word, open_words, direction
):
    money = format_currency(Decimal("129.90"), "EUR", locale=language)  # CLDR's own format, by Babel
    client, services = mail_app.test_client(), mail_app.extensions["parley"]
    assert alerts_on(client, standin)["notifications"]["alert_language"] == "en"  # until chosen
    alerts_on(client, standin, alert_language=language)
    first = shopper_writes(client, standin, SHOP, "Kas saadate Tartusse?", cart=cart(12990))
    shopper_writes(client, standin, SHOP, "Ja kas jope on veekindel?")
    clock.advance(timedelta(minutes=4))
    assert services.notify.outbox.run_due() == {"sent": 1}
    [mail] = smtp.received
    assert mail.message["Subject"] == subject
    text = mail.message.get_body(("plain",)).get_content()
    html = mail.message.get_body(("html",)).get_content()
    assert f"{cart_word} {money}" in text and open_words in text
    assert f'lang="{language}" dir="{direction}"' in html and open_words in html
    assert "Open the conversation" not in text + html
    with services.db.session() as session:
        visitor_id = session.get(Conversation, first["conversation"]["id"]).visitor_id
    assert visitor_label(visitor_id, language) in text  # who wrote, as the inbox names them in that language


def test_an_alert_language_outside_the_six_is_refused_and_nothing_changes(mail_app, shop, standin):
    client = mail_app.test_client()
    answer = client.put("/admin/api/notifications", json={"alert_language": "fr"}, headers=bearer(standin))
    assert answer.status_code == 400
    assert "alert_language" in answer.get_json()["message"] or answer.get_json().get("field") == "alert_language"
    shown = client.get("/admin/api/notifications", headers=bearer(standin)).get_json()
    assert shown["notifications"]["alert_language"] == "en"


def test_nothing_is_sent_while_a_staff_member_has_the_conversation_or_the_inbox_open(
    mail_app, shop, standin, smtp, clock
):
    client, services = mail_app.test_client(), mail_app.extensions["parley"]
    alerts_on(client, standin)
    sent = shopper_writes(client, standin, SHOP, "first question")
    conversation_id = sent["conversation"]["id"]
    assert (
        client.post(
            "/admin/api/presence", json={"conversation_id": conversation_id}, headers=bearer(standin)
        ).status_code
        == 204
    )
    clock.advance(timedelta(minutes=10))
    shopper_writes(client, standin, SHOP, "a question nobody watches? (another visitor)")  # another conversation
    assert len(outbox_rows(services, "alert")) == 2  # the first, before the page was open, and the second visitor's
    clock.advance(timedelta(seconds=30))
    client.post(
        "/admin/api/presence", json={"conversation_id": None}, headers=bearer(standin)
    )  # the inbox: all in view
    shopper_writes(client, standin, SHOP, "watched from the inbox")
    assert len(outbox_rows(services, "alert")) == 2


def test_an_alert_is_not_sent_when_the_merchant_answered_first(mail_app, shop, standin, smtp, clock):
    client, services = mail_app.test_client(), mail_app.extensions["parley"]
    alerts_on(client, standin)
    sent = shopper_writes(client, standin, SHOP, "quick question")
    client.post(
        f"/admin/api/conversations/{sent['conversation']['id']}/messages",
        json={"client_id": "r1", "body": "Hi!"},
        headers=bearer(standin),
    )
    clock.advance(timedelta(minutes=5))
    assert services.notify.outbox.run_due() == {"cancelled": 1}
    assert smtp.received == []


def test_quiet_hours_hold_the_alert_until_they_end(mail_app, shop, standin, smtp, clock):
    client, services = mail_app.test_client(), mail_app.extensions["parley"]
    clock.set(datetime(2026, 12, 1, 22, 30, tzinfo=UTC))
    alerts_on(client, standin, quiet_from="22:00", quiet_to="07:00")
    shopper_writes(client, standin, SHOP, "late question")
    [row] = outbox_rows(services, "alert")
    assert row.next_attempt_at == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # the shop's zone is UTC here


def test_new_conversation_only_alerts_once_per_conversation(mail_app, shop, standin, smtp, clock):
    client, services = mail_app.test_client(), mail_app.extensions["parley"]
    alerts_on(client, standin, alert_on="new_conversation", alert_batch_minutes=1)
    session = client.post(
        f"/proxy/session?{__import__('urllib.parse').parse.urlencode(standin.proxy_query(SHOP))}", json={}
    ).get_json()
    for i, body in enumerate(("hello", "are you there?")):
        client.post(
            "/api/storefront/v1/messages",
            json={"client_id": f"c{i}", "body": body},
            headers={"Authorization": f"Bearer {session['visitor_token']}"},
        )
        clock.advance(timedelta(minutes=2))
    [row] = outbox_rows(services, "alert")
    assert len(row.payload["messages"]) == 1


def test_the_relay_going_away_loses_nothing_and_sends_nothing_twice(mail_app, shop, standin, smtp, clock):
    client, services = mail_app.test_client(), mail_app.extensions["parley"]
    alerts_on(client, standin, alert_batch_minutes=1)
    shopper_writes(client, standin, SHOP, "while the relay is down")
    clock.advance(timedelta(minutes=2))
    smtp.stop()
    assert services.notify.outbox.run_due() == {"retry": 1}
    [row] = outbox_rows(services, "alert")
    assert (row.status, row.attempts) == ("pending", 1) and "could not be reached" in row.error
    assert services.notify.outbox.run_due() == {}  # backing off: not due yet
    smtp.start()
    clock.advance(timedelta(minutes=2))
    assert services.notify.outbox.run_due() == {"sent": 1}
    clock.advance(timedelta(hours=1))
    assert services.notify.outbox.run_due() == {}
    assert len(smtp.received) == 1


def test_a_relay_refusal_is_given_up_and_shown_to_the_merchant(mail_app, shop, standin, smtp, clock):
    client, services = mail_app.test_client(), mail_app.extensions["parley"]
    alerts_on(client, standin, alert_batch_minutes=1)
    shopper_writes(client, standin, SHOP, "to an address the relay refuses")
    clock.advance(timedelta(minutes=2))
    smtp.refuse_with("554 5.7.1 Relaying denied")
    assert services.notify.outbox.run_due() == {"failed": 1}
    shown = client.get("/admin/api/notifications", headers=bearer(standin)).get_json()
    assert [(f["kind"], f["error"]) for f in shown["failures"]] == [("alert", "the relay answered 554")]


@pytest.mark.parametrize(
    "update, field, message",
    [
        (
            {"alert_emails": ["not-an-address"]},
            "alert_emails",
            "not-an-address is not an e-mail address, like team@example.com",
        ),
        ({"alert_on": "sometimes"}, "alert_on", "alert_on must be one of new_conversation, every_message, never"),
        ({"quiet_from": "25:00"}, "quiet_from", "Quiet hours are times of day like 22:00"),
        ({"webhook_url": "http://plain.example/hook"}, "webhook_url", "The webhook address must be an https:// URL"),
        (
            {"first_response_target_minutes": 0},
            "first_response_target_minutes",
            "The first-response target must be a whole number of minutes from 1 to 10080",
        ),
        ({"surprise": 1}, "surprise", "surprise is not a notification setting"),
    ],
)
def test_bad_notification_settings_get_400_naming_the_field_and_change_nothing(
    mail_app, shop, standin, update, field, message
):
    client = mail_app.test_client()
    answer = client.put(
        "/admin/api/notifications", json={"alert_emails": ["kept@fjord.test"], **update}, headers=bearer(standin)
    )
    assert (answer.status_code, answer.get_json()) == (
        400,
        {"error": "invalid_setting", "field": field, "message": message},
    )
    assert (
        client.get("/admin/api/notifications", headers=bearer(standin)).get_json()["notifications"]["alert_emails"]
        == []
    )
