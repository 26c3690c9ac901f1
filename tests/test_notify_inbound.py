"""Replies by e-mail come back into the thread, two ways in: `parley mail-in` (a real
SMTP listener, driven with smtplib) and Mailgun's inbound webhook (its signature
computed here with hmac, independently of the code under test). Forged addresses are
refused at RCPT time, oversized mail at DATA time, auto-replies and bounces make no
messages, and a redelivery stores once."""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import time
from email.message import EmailMessage

import pytest
from sqlmodel import select

from app.models import Message, Visitor
from app.notify.mail_in import controller
from tests.support.shoppers import API, auth, start
from tests.support.shops import SHOP, install
from tests.support.smtp import free_port

QUOTED_REPLY = """Yes please, size M.

Thanks, Mari

--
Mari Tamm
Tallinn · +372 555 0100

On Tue, Dec 1, 2026 at 10:00 AM Fjord Gear <reply@mail.parley.test> wrote:
> Jah, 2–3 päevaga.
> Which size do you need?
"""


@pytest.fixture
def thread(mail_app, standin):
    services = mail_app.extensions["parley"]
    install(services, SHOP)
    client = mail_app.test_client()
    session = start(client, standin)
    sent = client.post(
        f"{API}/messages", json={"client_id": "s1", "body": "Do you have the parka in M?"}, headers=auth(session)
    ).get_json()
    conversation_id = sent["conversation"]["id"]
    address = f"{services.notify.tokens.reply_local_part(conversation_id)}@mail.parley.test"
    return services, conversation_id, address


@pytest.fixture
def mail_in(thread):
    services = thread[0]
    listener = controller(services.notify.inbound, "127.0.0.1", free_port())
    listener.start()
    yield listener
    listener.stop()


def reply(to: str, body: str = QUOTED_REPLY, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Mari <mari@example.com>"
    message["To"] = to
    message["Subject"] = "Re: Fjord Gear answered your question"
    message["Message-ID"] = headers.pop("message_id", "<abc123@example.com>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(listener, message: EmailMessage, to: str):
    with smtplib.SMTP(listener.hostname, listener.port, timeout=10) as smtp:
        return smtp.send_message(message, from_addr="mari@example.com", to_addrs=[to])


def messages_of(services, conversation_id: str) -> list[tuple[str, str, str]]:
    with services.db.session() as session:
        rows = session.exec(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        ).all()
        return [(m.author_kind.value, m.channel, m.body) for m in rows]


def test_an_e_mail_reply_lands_in_the_thread_without_the_quote_or_the_signature(thread, mail_in):
    services, conversation_id, address = thread
    events = services.broker.subscribe([f"shop:{services_shop(services)}"])
    send(mail_in, reply(address), address)
    # The quote and the signature are gone (the sign-off with them).
    assert messages_of(services, conversation_id)[-1] == ("shopper", "email", "Yes please, size M.")
    # ... and it is live on the Support page, as a message typed in the chat would be.
    event = events.get(timeout=5)
    assert event is not None and event.kind == "message" and event.data["conversation_id"] == conversation_id
    events.close()
    send(mail_in, reply(address), address)  # the relay delivers it again
    assert len(messages_of(services, conversation_id)) == 2


def services_shop(services) -> int:
    from app import shops
    from app.models import Platform

    with services.db.session() as session:
        return shops.find_shop(session, Platform.shopify, SHOP).id


def test_a_reply_that_is_only_a_thank_you_is_kept(thread, mail_in):
    services, conversation_id, address = thread
    send(
        mail_in,
        reply(address, body="Thanks, Mari\n\nOn Tue, Dec 1 Fjord Gear wrote:\n> Done!\n", message_id="<t2@x>"),
        address,
    )
    assert messages_of(services, conversation_id)[-1][2].startswith("Thanks, Mari")


def test_a_forged_or_unknown_reply_address_is_refused_at_rcpt_and_nothing_is_stored(thread, mail_in):
    services, conversation_id, address = thread
    local, domain = address.split("@")
    forged = f"{local[:-20]}{'0' * 20}@{domain}"  # the conversation's own id, a mac we did not make
    for to in (
        forged,
        "reply+00000000000000000000000000000000.00000000000000000000@mail.parley.test",
        "shop@mail.parley.test",
    ):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(mail_in, reply(to), to)
        assert refused.value.recipients[to][0] == 550
    assert len(messages_of(services, conversation_id)) == 1


def test_oversized_mail_is_refused_before_it_is_taken(thread, mail_in):
    services, conversation_id, address = thread
    # smtplib announces the size (ESMTP SIZE), so the listener refuses it at MAIL FROM.
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
        send(mail_in, reply(address, body="x" * 600_000), address)
    assert refused.value.smtp_code == 552
    assert len(messages_of(services, conversation_id)) == 1


@pytest.mark.parametrize(
    "header, value",
    [
        ("Auto-Submitted", "auto-replied"),
        ("Precedence", "bulk"),
        ("X-Autoreply", "yes"),
        ("Subject", "Out of office: back on Monday"),
    ],
)
def test_auto_replies_make_no_message(thread, mail_in, header, value):
    services, conversation_id, address = thread
    message = reply(address)
    del message[header]
    message[header] = value
    send(mail_in, message, address)
    assert len(messages_of(services, conversation_id)) == 1


def test_an_attachment_is_left_out_with_a_note_to_the_shopper(thread, mail_in):
    services, conversation_id, address = thread
    message = reply(address, body="Here is a photo of the label.")
    message.add_attachment(b"\x89PNG fake", maintype="image", subtype="png", filename="label.png")
    send(mail_in, message, address)
    body = messages_of(services, conversation_id)[-1][2]
    assert body.startswith("Here is a photo of the label.") and "Attachments sent by e-mail are not shown" in body


def test_a_bounce_marks_the_shoppers_address_undeliverable(thread, mail_in):
    services, conversation_id, _ = thread
    with services.db.session() as session:
        visitor = session.exec(select(Visitor)).one()
    bounce_to = f"{services.notify.tokens.bounce_local_part(visitor_id=visitor.id)}@mail.parley.test"
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@relay.example"
    report["To"] = bounce_to
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.set_content("Final-Recipient: rfc822; mari@example.com\nAction: failed\nStatus: 5.1.1\n")
    send(mail_in, report, bounce_to)
    with services.db.session() as session:
        assert session.get(Visitor, visitor.id).email_undeliverable_at is not None
    assert len(messages_of(services, conversation_id)) == 1


# -- Mailgun's inbound webhook ---------------------------------------------------------

KEY = "mailgun-signing-key-for-tests"


@pytest.fixture
def mailgun(settings, standin, bind, clock, smtp):
    from tests.support.apps import make_app

    app = make_app(
        settings.override(mailgun_signing_key=KEY, mail_inbound_domain="mail.parley.test"),
        standin,
        bind=bind,
        clock=clock,
    )
    services = app.extensions["parley"]
    install(services, SHOP)
    client = app.test_client()
    session = start(client, standin)
    sent = client.post(f"{API}/messages", json={"client_id": "s1", "body": "hello"}, headers=auth(session)).get_json()
    conversation_id = sent["conversation"]["id"]
    return (
        client,
        services,
        conversation_id,
        f"{services.notify.tokens.reply_local_part(conversation_id)}@mail.parley.test",
    )


def signed(token: str = "t" * 50, stamp: int | None = None, key: str = KEY) -> dict[str, str]:
    stamp = int(time.time()) if stamp is None else stamp
    return {
        "timestamp": str(stamp),
        "token": token,
        "signature": hmac.new(key.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest(),
    }


def test_mailgun_delivers_a_signed_reply_into_the_thread(mailgun):
    client, services, conversation_id, address = mailgun
    form = {**signed(), "recipient": address, "body-mime": reply(address).as_string()}
    answer = client.post("/mail/inbound/mailgun/mime", data=form)
    assert (answer.status_code, answer.get_json()) == (200, {"status": "message"})
    assert messages_of(services, conversation_id)[-1][:2] == ("shopper", "email")


@pytest.mark.parametrize(
    "form, status, error",
    [
        ({**signed(key="another key")}, 401, "invalid_signature"),
        ({**signed(stamp=int(time.time()) - 3600)}, 401, "stale_signature"),
        ({"timestamp": "x", "token": "t", "signature": "00"}, 401, "invalid_signature"),
        ({}, 401, "invalid_signature"),
    ],
)
def test_mailgun_deliveries_that_do_not_verify_get_401_and_store_nothing(mailgun, form, status, error):
    client, services, conversation_id, address = mailgun
    answer = client.post(
        "/mail/inbound/mailgun", data={**form, "recipient": address, "body-mime": reply(address).as_string()}
    )
    assert (answer.status_code, answer.get_json()["error"]) == (status, error)
    assert len(messages_of(services, conversation_id)) == 1


def test_mailgun_to_an_unknown_address_is_refused_so_it_is_not_retried(mailgun):
    client, services, conversation_id, _ = mailgun
    to = "reply+00000000000000000000000000000000.00000000000000000000@mail.parley.test"
    answer = client.post(
        "/mail/inbound/mailgun", data={**signed(), "recipient": to, "body-mime": reply(to).as_string()}
    )
    assert (answer.status_code, answer.get_json()["error"]) == (406, "refused")
    assert len(messages_of(services, conversation_id)) == 1


def test_without_a_signing_key_the_mailgun_route_is_off(client):
    assert client.post("/mail/inbound/mailgun", data=signed()).status_code == 404


def test_parley_mail_in_is_a_real_listener_started_by_the_cli(tmp_path):
    """`parley mail-in` in its own process on its own database: a forged address is refused
    at RCPT; the process stops on SIGTERM."""
    import os
    import signal
    import subprocess
    import sys

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mail.db'}",
        "PARLEY_ENV": "development",
        "MAIL_INBOUND_DOMAIN": "mail.parley.test",
        "MAIL_IN_PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "mail-in"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout.readline().startswith("Parley mail-in on 127.0.0.1:")
        to = "reply+00000000000000000000000000000000.00000000000000000000@mail.parley.test"
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.send_message(reply(to), from_addr="mari@example.com", to_addrs=[to])
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
