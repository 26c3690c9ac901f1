"""No question lost when nobody is watching, end to end (issue 13): the real stack (Parley,
the Shopify stand-in and its demo storefront with the real app embed), Debian's Chromium,
a real SMTP server as the shop's relay and Parley's own SMTP listener (`parley mail-in`)
for the replies. Only the time is moved, on the clock Parley and the stand-in both read.

A shopper writes after hours and leaves an address → the merchant's alert e-mail arrives
with a link into the Shopify admin, which opens that conversation on the Support page →
the agent answers there → the shopper is gone, so the answer goes out by e-mail with a
resume link → the link, opened on another device, shows the whole thread → the shopper
answers the e-mail → the answer is in the thread and appears live on the Support page.
"""

from __future__ import annotations

import re
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import select

from app.chat.hours import WEEKDAYS
from app.chat.shop_settings import put_setting
from app.models import AuthorKind, Conversation, Message, Visitor
from app.notify.mail_in import controller
from standins.demo import DEMO_SHOP
from tests.support.browser import API_KEY, artifacts_dir, launch_chromium, start_stack
from tests.support.clock import MovableClock
from tests.support.smtp import SmtpServer, free_port, sending_through

TIMEOUT_MS = 15_000
INBOUND_DOMAIN = "mail.parley-demo.test"
OWNER = "owner@parley-demo.test"
SHOPPER = "mari.tamm@example.com"


@pytest.fixture(scope="module")
def relay():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def clock():
    return MovableClock()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, relay, clock):
    stack, stop = start_stack(
        tmp_path_factory.mktemp("continuity"),
        settings={**sending_through(relay, "Parley <parley@parley-demo.test>"), "mail_inbound_domain": INBOUND_DOMAIN},
        clock=clock,
    )
    yield stack
    stop()


@pytest.fixture(scope="module")
def mail_in(stack):
    """`parley mail-in`: Parley's SMTP listener for replies, on a port of its own."""
    port = free_port()
    listener = controller(stack.services.notify.inbound, "127.0.0.1", port)
    listener.start()
    yield port
    listener.stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


@pytest.fixture
def devices(browser):
    """New browser contexts: each one a device (or a person) of its own."""
    contexts, errors = [], []

    def make(width: int = 1280, height: int = 860):
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="en-US", reduced_motion="reduce"
        )
        context.set_default_timeout(TIMEOUT_MS)
        # Nothing leaves the machine; the pages must not even try.
        context.route(re.compile(r"^https?://cdn\.shopify\.com/"), lambda route: route.abort())
        context.on(
            "page", lambda page: page.on("pageerror", lambda error, page=page: errors.append(f"{page.url}: {error}"))
        )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / name), animations="disabled")


def closed_until_tomorrow(stack) -> None:
    tomorrow = WEEKDAYS[(stack.clock() + timedelta(days=1)).weekday()]
    with stack.services.db.transaction() as session:
        put_setting(
            session,
            stack.shop_id,
            "hours",
            {"timezone": "UTC", "weekly": {tomorrow: [["09:00", "17:00"]]}},
            stack.clock(),
        )


def storefront_is_the_standins(stack) -> None:
    """Where a resume link leads: the shop's storefront. The stand-in reports the shop's
    primary domain as https://parley-demo.myshopify.com, which nothing serves here; its
    storefront lives under the stand-in's own address."""
    with stack.services.db.transaction() as session:
        put_setting(session, stack.shop_id, "primary_origin", stack.storefront_url.rstrip("/"), stack.clock())


def notification_settings(stack, **changes) -> dict:
    """What the merchant saves in Support → Settings, through the admin API."""
    token = stack.standin.mint_id_token(DEMO_SHOP)
    answer = httpx.put(
        f"{stack.parley_url}/admin/api/notifications", json=changes, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"']+", text)


def test_a_question_asked_after_hours_is_answered_by_e_mail_and_the_thread_follows_the_shopper(
    stack, relay, mail_in, clock, devices
):
    closed_until_tomorrow(stack)
    storefront_is_the_standins(stack)
    notification_settings(stack, alert_emails=[OWNER], alert_batch_minutes=1, reply_email_after_minutes=1)
    services = stack.services

    # 1. After hours, a shopper asks on the storefront and leaves an address when offered.
    shopper = devices().new_page()
    shopper.goto(stack.storefront_url)
    shopper.click(".parley-launcher")
    expect(shopper.locator(".parley-status")).to_have_text(re.compile(r"^Back at "))
    question = "Hi! Do you ship the Harbour Rain Jacket to Tartu before Friday?"
    shopper.fill("#parley-input", question)
    shopper.press("#parley-input", "Enter")
    expect(shopper.locator(".parley-log .parley-tick")).to_have_count(1)
    expect(shopper.locator(".parley-email")).to_be_visible()
    shopper.fill("#parley-email", SHOPPER)
    shopper.click(".parley-email-send")
    expect(shopper.locator(".parley-note")).to_contain_text(SHOPPER)
    with services.db.session() as session:
        [asked] = session.exec(select(Message).where(Message.body == question)).all()
        conversation_id = asked.conversation_id
        visitor_id = session.get(Conversation, conversation_id).visitor_id
    # 2. … and leaves the shop: nobody is in the widget any more.
    shopper.context.close()

    # 3. Nobody has the Support page open: when the batching window closes, the alert goes out.
    assert relay.received == []
    clock.advance(timedelta(minutes=2))
    assert services.notify.outbox.run_due() == {"sent": 1}
    [alert] = relay.received
    assert alert.rcpt_tos == [OWNER]
    text = alert.message.get_body(("plain",)).get_content()
    assert question in text
    # The deep link opens the app inside the (stand-in) Shopify admin on this conversation.
    admin_base = f"{stack.standin_url}/store/{DEMO_SHOP}/admin/apps/{API_KEY}"
    [deep_link] = [link for link in links_in(text) if link.startswith(admin_base)]
    assert deep_link == f"{admin_base}/app/conversations/{conversation_id}"
    html = alert.message.get_body(("html",)).get_content()
    assert f'href="{deep_link}"' in html

    # 4. The merchant follows it: Shopify's admin loads the app's own URL plus the path after
    # /admin/apps/<client id>, which the demo sign-in stands in for.
    merchant = devices().new_page()
    app_path = urlsplit(deep_link).path.removeprefix(urlsplit(admin_base).path)
    merchant.goto(f"{stack.parley_url}/demo/support?next={app_path}")
    expect(merchant).to_have_url(re.compile(rf"/app/conversations/{conversation_id}"))
    expect(merchant.locator("#thread .msg.from-shopper .bubble")).to_have_text([question])

    # 5. The agent answers from the Support page.
    answer = "Yes! Ordered today, it reaches Tartu on Thursday. Free shipping over €50."
    merchant.fill("#reply", answer)
    merchant.press("#reply", "Enter")
    expect(merchant.locator("#thread .msg.from-agent:not(.pending) .bubble")).to_have_text([answer])
    with services.db.session() as session:
        [reply] = session.exec(select(Message).where(Message.body == answer)).all()
    assert reply.author_kind == AuthorKind.agent and reply.read_at is None  # nobody in the widget read it

    # 6. The shopper does not read it in the chat: after the shop's wait it goes out by e-mail.
    assert services.notify.outbox.run_due() == {}  # not before the wait
    clock.advance(timedelta(minutes=2))
    assert services.notify.outbox.run_due() == {"sent": 1}
    [mail] = [received for received in relay.received if received.rcpt_tos == [SHOPPER]]
    body = mail.message.get_body(("plain",)).get_content()
    assert answer in body and question in body
    [resume_url] = [link for link in links_in(body) if link.startswith(f"{stack.parley_url}/r/")]
    reply_to = parseaddr(mail.message["Reply-To"])[1]
    assert reply_to.endswith("@" + INBOUND_DOMAIN)

    # 7. The link, opened on another device (a phone that never saw the shop): the storefront
    # opens with the panel on the whole thread, and the link leaves the address.
    phone = devices(390, 844).new_page()
    phone.goto(resume_url)
    expect(phone.locator("#parley-panel")).to_be_visible()
    expect(phone.locator(".parley-log .parley-bubble")).to_have_text([question, answer])
    assert phone.url == stack.storefront_url
    assert f'"visitor":"{visitor_id}"' in phone.evaluate("sessionStorage.getItem('parley:visitor')")
    expect(phone.locator(".parley-email")).to_be_hidden()  # the address is on file
    shot(phone, "continuity_resumed_thread_phone.png")

    # 8. The shopper answers the e-mail instead, quoting it, as mail programs do.
    said = "Perfect, I'll order two today."
    reply_mail = EmailMessage()
    reply_mail["From"] = f"Mari Tamm <{SHOPPER}>"
    reply_mail["To"] = mail.message["Reply-To"]
    reply_mail["Subject"] = "Re: " + str(mail.message["Subject"])
    reply_mail["Message-ID"] = "<reply-1@example.com>"
    reply_mail["In-Reply-To"] = mail.message["Message-ID"]
    reply_mail["References"] = mail.message["Message-ID"]
    quoted = "\n".join("> " + line for line in body.splitlines())
    moment = datetime.now(UTC).strftime("%a, %d %b %Y at %H:%M")
    reply_mail.set_content(f"{said}\n\nOn {moment}, Parley Demo Store <parley@parley-demo.test> wrote:\n{quoted}\n")
    with smtplib.SMTP("127.0.0.1", mail_in, timeout=10) as client:
        refused = client.send_message(reply_mail, to_addrs=[reply_to])
    assert refused == {}

    # 9. It is in the thread as the shopper's message, without the quoted history, and
    # appears live on the open Support page (and on the phone).
    with services.db.session() as session:
        thread = list(
            session.exec(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
        )
        visitor = session.get(Visitor, visitor_id)
    assert [(m.author_kind, m.body) for m in thread] == [
        (AuthorKind.shopper, question),
        (AuthorKind.agent, answer),
        (AuthorKind.shopper, said),
    ]
    assert thread[-1].channel == "email"
    assert visitor.contact_email == SHOPPER
    expect(merchant.locator("#thread .msg.from-shopper .bubble")).to_have_text([question, said])
    expect(phone.locator(".parley-log .parley-from-shopper .parley-bubble")).to_have_text([question, said])
    shot(merchant, "continuity_support_page_email_answer.png")
