"""The Support page when nobody is watching (issue 13), in Debian's Chromium: the page tells
Parley it is open (so alert e-mails wait) and stops when closed or hidden; the unread count
in the tab title and a drawn icon badge; the sound that waits for a click; the browser
notification asked for only when switched on (granted and denied); Settings → Notifications
with its per-field errors and bounced addresses; "due in" / "overdue" in the inbox and the
sort by due time; a shopper's e-mail reply marked in the thread; and the inbox redrawing
the one row an event names. Screenshots: $PARLEY_ARTIFACTS/screenshots/support_notify_*.png.

Parley's clock is a MovableClock (presence, due times and the outbox read it); the page's
timers are Playwright's clock, so "half a minute later" takes no waiting. Headless
Chromium shows every page as visible, so the tests that need a tab in the background flip
document.visibilityState (and send the browser's visibilitychange) through an init script;
the page's own code reads the real API. Browser notifications and oscillators are
recorded by wrapping the real constructors, which still run.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from app.chat.shop_settings import put_setting
from app.models import Conversation, Outbox, Shop
from standins.demo import DEMO_SHOP
from tests.support.browser import artifacts_dir, element_boxes, launch_chromium, overlapping, start_stack
from tests.support.clock import MovableClock
from tests.support.smtp import SmtpServer, sending_through

TIMEOUT_MS = 15_000
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
OWNER = "owner@parley-demo.test"
# A Tuesday, mid-morning UTC: the demo shop is always open.
MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

# Record what the page asks of the browser, and let a test put the tab in the background.
RECORDERS = """
(() => {
  window.__shown = [];
  window.__tones = 0;
  const Real = window.Notification;
  if (Real) {
    const Recorded = function (title, options) {
      window.__shown.push({ title, body: (options || {}).body || '', tag: (options || {}).tag || '' });
      return new Real(title, options);
    };
    Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
    Recorded.requestPermission = (...args) => Real.requestPermission(...args);
    Recorded.prototype = Real.prototype;
    window.Notification = Recorded;
  }
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return start.apply(this, args); };
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible'), configurable: true });
  Object.defineProperty(Document.prototype, 'hidden', { get: () => hidden, configurable: true });
  window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event('visibilitychange')); };
})();
"""


@pytest.fixture(scope="module")
def relay():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def clock():
    clock = MovableClock()
    clock.set(MORNING)
    return clock


@pytest.fixture(scope="module")
def stack(tmp_path_factory, relay, clock):
    stack, stop = start_stack(
        tmp_path_factory.mktemp("support-notify"),
        settings=sending_through(relay, "Parley <parley@parley-demo.test>"),
        clock=clock,
    )
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


@pytest.fixture
def open_page(browser):
    """New browser contexts (each a person's browser); page errors fail the test."""
    contexts, errors = [], []

    def make(viewport=DESKTOP, permissions=None, locale="en-US", fake_timers=False):
        context = browser.new_context(viewport=viewport, locale=locale, permissions=permissions or [])
        context.set_default_timeout(TIMEOUT_MS)
        context.route(re.compile(r"^https?://cdn\.shopify\.com/"), lambda route: route.abort())
        context.add_init_script(RECORDERS)
        page = context.new_page()
        if fake_timers:
            page.clock.install()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors


@pytest.fixture(autouse=True)
def fresh_shop(stack, clock, relay):
    """Each test starts with an empty inbox, alerts to OWNER and no mail."""
    clock.set(MORNING)
    with stack.services.db.transaction() as session:
        for row in session.exec(select(Outbox)).all():
            session.delete(row)
        for conversation in session.exec(select(Conversation)).all():
            conversation.status = "resolved"
            conversation.unread_by_agent = 0
            conversation.due_at = conversation.waiting_since = conversation.priority_at = None
            session.add(conversation)
    notification_settings(stack, alert_emails=[OWNER], alert_on="every_message", alert_batch_minutes=1)
    relay.sink.received.clear()


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def shot(page, name: str, **kwargs) -> None:
    page.screenshot(path=str(artifacts_dir() / f"support_notify_{name}.png"), animations="disabled", **kwargs)


def notification_settings(stack, **changes) -> dict:
    token = stack.standin.mint_id_token(DEMO_SHOP)
    answer = httpx.put(
        f"{stack.parley_url}/admin/api/notifications", json=changes, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def sign_in(page, stack, next_page: str = "/app") -> None:
    page.goto(f"{stack.parley_url}/demo/support?next={next_page}")
    expect(page).to_have_url(re.compile(r"/app"))


def shopper_writes(stack, *bodies: str, visitor_id: str | None = None, locale="en", channel="chat") -> dict:
    """A shopper (new, or `visitor_id` again) writes as the widget does: through the core."""
    if visitor_id is None:
        with stack.services.db.session() as session:
            shop = session.get(Shop, stack.shop_id)
        visitor_id = stack.services.sessions.start(shop, None, locale)["visitor_id"]
    sent = None
    for body in bodies:
        sent = stack.services.chat.send_shopper_message(
            stack.shop_id, visitor_id, str(uuid.uuid4()), body, channel=channel
        )
    assert sent is not None
    return {"conversation_id": sent.conversation.id, "visitor_id": visitor_id}


def alerts(stack) -> list[Outbox]:
    with stack.services.db.session() as session:
        return list(session.exec(select(Outbox).where(Outbox.kind == "alert").order_by(Outbox.id)).all())


def row_of(page, conversation_id: str):
    return page.locator(f'#rows .row[data-id="{conversation_id}"]')


# ---- presence: alerts wait while the page is open and visible ------------------------------------


def test_an_alert_waits_while_the_inbox_is_open_and_goes_once_it_is_closed(stack, open_page, relay, clock):
    page = open_page(fake_timers=True)
    with page.expect_response(lambda r: r.url.endswith("/admin/api/presence") and r.status == 204):
        sign_in(page, stack)

    shopper_writes(stack, "Is the green parka still in stock?")
    assert alerts(stack) == []  # someone is watching the inbox

    # Five minutes on, the page has said so again (every half minute): still watched.
    clock.advance(timedelta(minutes=5))
    with page.expect_response(lambda r: r.url.endswith("/admin/api/presence") and r.status == 204):
        page.clock.run_for(31_000)
    watched = shopper_writes(stack, "And in size L?")
    assert alerts(stack) == []

    page.context.close()  # the merchant closes the tab
    clock.advance(timedelta(minutes=2))  # longer than a page is trusted without a word (90 s)
    shopper_writes(stack, "Hello? Anyone there?", visitor_id=watched["visitor_id"])
    assert len(alerts(stack)) == 1  # queued now that nobody watches
    assert stack.services.notify.outbox.run_due() == {}  # the batching window is still open
    clock.advance(timedelta(minutes=1))
    assert stack.services.notify.outbox.run_due() == {"sent": 1}
    [mail] = relay.received
    assert mail.rcpt_tos == [OWNER]
    text = mail.message.get_body(("plain",)).get_content()
    assert "Hello? Anyone there?" in text
    assert "Is the green parka still in stock?" not in text  # that one was seen on the page
    assert f"/app/conversations/{watched['conversation_id']}" in text


def test_a_tab_in_the_background_stops_watching_and_says_so_again_when_back(stack, open_page, clock):
    page = open_page(fake_timers=True)
    presence = []
    page.on("request", lambda r: r.url.endswith("/admin/api/presence") and presence.append(r.post_data_json))
    with page.expect_response(lambda r: r.url.endswith("/admin/api/presence")):
        sign_in(page, stack)
    assert presence == [{"conversation_id": None}]  # the inbox: every conversation in view

    page.evaluate("window.__setHidden(true)")
    page.clock.run_for(95_000)
    assert len(presence) == 1  # nothing said while hidden
    clock.advance(timedelta(minutes=2))
    shopper_writes(stack, "Do you deliver on Saturdays?")
    assert len(alerts(stack)) == 1  # a hidden tab is not someone watching

    with page.expect_response(lambda r: r.url.endswith("/admin/api/presence")):
        page.evaluate("window.__setHidden(false)")  # back: says so at once
    assert len(presence) == 2


def test_the_conversation_page_names_its_conversation_in_presence(stack, open_page):
    sent = shopper_writes(stack, "Where is my order?")
    page = open_page()
    with page.expect_request(lambda r: r.url.endswith("/admin/api/presence")) as beat:
        sign_in(page, stack, f"/app/conversations/{sent['conversation_id']}")
    assert beat.value.post_data_json == {"conversation_id": sent["conversation_id"]}


# ---- unread: the title, the icon, the Inbox tab ------------------------------------------------


def favicon(page) -> dict:
    return page.evaluate(
        """() => { const link = document.querySelector('link[rel="icon"]');
                   return { href: link.getAttribute('href'), unread: link.dataset.unread || '0' }; }"""
    )


def test_the_tab_title_and_icon_count_conversations_with_unread_messages(stack, open_page, clock):
    first = shopper_writes(stack, "Hi! Do you have gift cards?")
    page = open_page()
    sign_in(page, stack)
    expect(page).to_have_title("(1) Inbox · Parley")
    icon = favicon(page)
    assert icon["unread"] == "1" and icon["href"].startswith("data:image/png;base64,")
    expect(page.locator("[data-unread-count]")).to_have_text("1")

    # Live: a second shopper, and the first one again (still one conversation for them).
    second = shopper_writes(stack, "Can I change my delivery address?")
    expect(page).to_have_title("(2) Inbox · Parley")
    shopper_writes(stack, "Or a voucher?", visitor_id=first["visitor_id"])
    expect(row_of(page, first["conversation_id"]).locator(".unread-badge")).to_have_text("2")
    expect(page).to_have_title("(2) Inbox · Parley")
    assert favicon(page)["unread"] == "2"

    # What the merchant sees in the tab: the icon drawn with its count, looked at large.
    href = favicon(page)["href"]
    look = open_page()
    look.set_content(
        f'<body style="margin:0;background:#dfe3e8"><img src="{href}" width="64" height="64" style="margin:8px">'
        f'<img src="{href}" width="16" height="16" style="margin:8px"></body>'
    )
    shot(look, "favicon_badge", clip={"x": 0, "y": 0, "width": 120, "height": 80})
    shot(page, "inbox_title_count")

    # Reading one conversation takes it off the count, on that page and back in the inbox.
    page.locator(f'#rows .row[data-id="{second["conversation_id"]}"] .row-link').click()
    expect(page).to_have_title("(1) Conversation · Parley")
    assert favicon(page)["unread"] == "1"


def test_the_count_can_be_switched_off_for_this_browser(stack, open_page):
    shopper_writes(stack, "Do you ship to Finland?")
    page = open_page()
    sign_in(page, stack, "/app/settings")
    expect(page.locator("#notify-form")).to_be_visible()
    expect(page.locator("#pref-badge")).to_be_checked()
    page.locator("#pref-badge").uncheck()
    sign_in(page, stack)
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
    expect(page).to_have_title("Inbox · Parley")
    assert favicon(page)["unread"] == "0"
    expect(page.locator("[data-unread-count]")).to_be_hidden()
    # Another browser (another person) keeps its own choice.
    other = open_page()
    sign_in(other, stack)
    expect(other).to_have_title("(1) Inbox · Parley")


# ---- sound and browser notifications --------------------------------------------------------------


def test_the_sound_waits_for_a_click_and_then_chimes_on_a_shopper_message(stack, open_page):
    page = open_page()
    sign_in(page, stack, "/app/settings")
    expect(page.locator("#notify-form")).to_be_visible()
    page.locator("#pref-sound").check()  # the click itself lets the page make sound: a sample plays
    page.wait_for_function("window.__tones === 2")

    # A fresh page with the sound on: nothing may play before the merchant clicks on it.
    sign_in(page, stack)
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
    assert page.evaluate("window.__tones") == 0
    first = shopper_writes(stack, "Is anyone there?")
    expect(row_of(page, first["conversation_id"])).to_be_visible()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__tones") == 0  # no autoplay
    page.locator("#search").click()
    shopper_writes(stack, "Hello again")
    page.wait_for_function("window.__tones === 2")  # two notes


def test_a_browser_notification_is_asked_for_when_switched_on_and_shown_while_the_tab_is_hidden(stack, open_page):
    page = open_page(permissions=["notifications"])
    sign_in(page, stack, "/app/settings")
    expect(page.locator("#notify-form")).to_be_visible()
    expect(page.locator("#pref-desktop")).not_to_be_checked()  # granted by the browser, but not switched on
    page.locator("#pref-desktop").check()
    expect(page.locator("#desktop-status")).to_have_text(re.compile("^On: a notification appears"))
    assert page.evaluate("JSON.parse(localStorage.getItem('parley.notify')).desktop") is True
    shot(page, "settings_desktop_on", full_page=True)

    sign_in(page, stack)
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
    looking = shopper_writes(stack, "Visible tab: no pop-up")
    expect(row_of(page, looking["conversation_id"])).to_be_visible()
    page.evaluate("window.__setHidden(true)")
    sent = shopper_writes(stack, "Kas teil on see jope sinisena?", locale="et")
    page.wait_for_function("window.__shown.length === 1")
    [shown] = page.evaluate("window.__shown")
    assert shown["body"] == "Kas teil on see jope sinisena?"
    assert shown["tag"] == f"parley-{sent['conversation_id']}"
    assert shown["title"].endswith("wrote")


def test_a_refused_notification_permission_leaves_it_off_and_says_how_to_allow_it(stack, open_page):
    page = open_page()  # headless Chromium answers a permission request with "denied"
    sign_in(page, stack, "/app/settings")
    expect(page.locator("#notify-form")).to_be_visible()
    page.locator("#pref-desktop").click()  # the browser's "no" unticks it again at once
    expect(page.locator("#desktop-status")).to_contain_text("blocks notifications")
    expect(page.locator("#pref-desktop")).not_to_be_checked()
    assert page.evaluate("JSON.parse(localStorage.getItem('parley.notify')).desktop") is False
    page.locator("#desktop-status").scroll_into_view_if_needed()
    shot(page, "settings_desktop_denied")


# ---- Settings → Notifications ---------------------------------------------------------------------


def test_notification_settings_are_saved_refused_per_field_and_show_bounces(stack, open_page):
    with stack.services.db.transaction() as session:
        put_setting(session, stack.shop_id, "notify.alert_bounces", [OWNER], MORNING)
    page = open_page()
    sign_in(page, stack, "/app/settings")
    form = page.locator("#notify-form")
    expect(form).to_be_visible()
    expect(page.locator("#alert_emails")).to_have_value(OWNER)
    expect(page.locator("#alert-bounces")).to_contain_text(f"{OWNER}: mail to this address bounced")
    form.scroll_into_view_if_needed()
    shot(page, "settings_bounce")

    page.locator("#alert_emails").fill(f"{OWNER}\nnot-an-address")
    page.locator("#notify-save").click()
    error = page.locator('[data-error-for="alert_emails"]')
    expect(error).to_have_text("not-an-address is not an e-mail address, like team@example.com")
    expect(page.locator("#alert_emails")).to_have_attribute("aria-invalid", "true")
    shot(page, "settings_error")
    assert notification_settings(stack)["notifications"]["alert_emails"] == [OWNER]  # nothing changed

    page.locator("#alert_emails").fill("team@parley-demo.test\nnight@parley-demo.test")
    page.locator("#alert_on").select_option("new_conversation")
    page.locator("#alert_batch_minutes").fill("0")
    page.locator("#notify-save").click()
    expect(page.locator('[data-error-for="alert_batch_minutes"]')).to_have_text(
        "The alert batching window must be a whole number of minutes from 1 to 60"
    )
    expect(error).to_be_hidden()
    page.locator("#alert_batch_minutes").fill("5")
    page.locator("#quiet_from").fill("22:00")
    page.locator("#notify-save").click()
    expect(page.locator('[data-error-for="quiet_to"]')).to_have_text("Quiet hours need a start and an end, or neither.")
    page.locator("#quiet_to").fill("07:30")
    page.locator("#first_response_target_minutes").fill("45")
    page.locator("#notify-save").click()
    expect(page.locator("#alert-bounces")).to_be_hidden()  # a new list starts clean

    page.reload()
    expect(page.locator("#alert_emails")).to_have_value("team@parley-demo.test\nnight@parley-demo.test")
    expect(page.locator("#alert_on")).to_have_value("new_conversation")
    expect(page.locator("#alert_batch_minutes")).to_have_value("5")
    expect(page.locator("#quiet_from")).to_have_value("22:00")
    expect(page.locator("#quiet_to")).to_have_value("07:30")
    expect(page.locator("#first_response_target_minutes")).to_have_value("45")
    saved = notification_settings(stack)["notifications"]
    assert saved["quiet_from"] == "22:00" and saved["first_response_target_minutes"] == 45

    phone = open_page(viewport=PHONE)
    sign_in(phone, stack, "/app/settings")
    expect(phone.locator("#notify-form")).to_be_visible()
    phone.locator("#notify-form").scroll_into_view_if_needed()
    for selector in ("#notify-form .field", "#notify-form .notify-toggles label"):
        boxes = element_boxes(phone, selector)
        assert boxes and not overlapping(boxes), selector
        assert all(b["right"] <= PHONE["width"] for b in boxes), selector
    shot(phone, "settings_phone", full_page=True)


# ---- due times, the sort, e-mail replies ----------------------------------------------------------


def set_due(stack, conversation_id: str, due: datetime | None) -> None:
    with stack.services.db.transaction() as session:
        conversation = session.get(Conversation, conversation_id)
        conversation.due_at = due
        session.add(conversation)


def test_the_inbox_says_when_each_first_answer_is_due_and_sorts_by_it(stack, open_page, clock):
    # Parley's clock stands at MORNING while the browser's reads the real time: the page
    # counts from what the server says is left, not from its own (possibly wrong) clock.
    now = clock()
    later = shopper_writes(stack, "Due later: a question about returns")
    overdue = shopper_writes(stack, "Overdue: my parcel has not arrived")
    soon = shopper_writes(stack, "Due soon: do you gift-wrap?")
    answered = shopper_writes(stack, "Answered already")
    set_due(stack, later["conversation_id"], now + timedelta(minutes=40, seconds=30))
    set_due(stack, overdue["conversation_id"], now - timedelta(minutes=5, seconds=20))
    set_due(stack, soon["conversation_id"], now + timedelta(minutes=12, seconds=30))
    set_due(stack, answered["conversation_id"], None)

    page = open_page()
    sign_in(page, stack)
    expect(row_of(page, soon["conversation_id"]).locator("[data-due]")).to_have_text("due in 12 min")
    expect(row_of(page, overdue["conversation_id"]).locator("[data-due]")).to_have_text("overdue 5 min")
    expect(row_of(page, overdue["conversation_id"]).locator("[data-due]")).to_have_class(re.compile("badge-critical"))
    expect(row_of(page, answered["conversation_id"]).locator("[data-due]")).to_have_count(0)

    with page.expect_response(lambda r: "/admin/api/inbox" in r.url and "sort=due" in r.url):
        page.locator("#sort").select_option("due")
    expect(page).to_have_url(re.compile(r"sort=due"))
    expected = [overdue["conversation_id"], soon["conversation_id"], later["conversation_id"]]
    # Other tests of this module leave conversations of their own: ours, in order among them,
    # once the sorted page is drawn.
    want = [*expected, answered["conversation_id"]]
    page.wait_for_function(
        """(want) => {
            const ids = [...document.querySelectorAll('#rows .row')].map((r) => r.dataset.id);
            return JSON.stringify(ids.filter((id) => want.includes(id))) === JSON.stringify(want);
        }""",
        arg=want,
    )
    order = page.locator("#rows .row").evaluate_all("(rows) => rows.map((r) => r.dataset.id)")
    assert [i for i in order if i in want] == want
    boxes = element_boxes(page, "#rows .row-meta > *")
    assert boxes and not overlapping(boxes)
    shot(page, "inbox_due_sorted")

    phone = open_page(viewport=PHONE)
    sign_in(phone, stack, "/app?sort=due")
    expect(phone.locator("#sort")).to_have_value("due")
    expect(phone.locator("#rows .row").first).to_have_attribute("data-id", expected[0])
    boxes = element_boxes(phone, ".inbox-bar > *")
    assert boxes and not overlapping(boxes) and all(b["right"] <= PHONE["width"] for b in boxes)
    shot(phone, "inbox_due_phone")


def test_a_shoppers_e_mail_reply_is_marked_in_the_thread(stack, open_page):
    sent = shopper_writes(stack, "שלום, האם יש לכם את המעיל בכחול?", locale="he")
    shopper_writes(stack, "תודה! ואם אזמין היום, מתי זה יגיע?", visitor_id=sent["visitor_id"], channel="email")
    page = open_page(locale="he-IL")
    sign_in(page, stack, f"/app/conversations/{sent['conversation_id']}")
    marked = page.locator(".msg.from-shopper .channel-email")
    expect(marked).to_have_count(1)
    expect(marked).to_have_text("by e-mail")
    expect(page.locator(".msg.from-shopper").last).to_contain_text("מתי זה יגיע")
    boxes = element_boxes(page, ".msg.from-shopper .msg-meta > *")
    assert boxes and not overlapping(boxes)
    shot(page, "thread_by_email_hebrew")


# ---- the inbox redraws the row an event names ----------------------------------------------------


def test_a_message_redraws_its_row_alone_and_only_a_new_conversation_reloads_the_list(stack, open_page):
    quiet = shopper_writes(stack, "First shopper")
    busy = shopper_writes(stack, "Second shopper")
    page = open_page()
    sign_in(page, stack)
    expect(row_of(page, quiet["conversation_id"])).to_be_visible()
    page.evaluate("document.querySelectorAll('#rows .row').forEach((row) => { row.__kept = true; })")
    asked = []
    page.on("request", lambda r: "/admin/api/inbox" in r.url and asked.append(r.url.split("/admin/api/")[1]))

    shopper_writes(stack, "A newer message from the first shopper", visitor_id=quiet["visitor_id"])
    row = row_of(page, quiet["conversation_id"])
    expect(row.locator(".row-text")).to_have_text("A newer message from the first shopper")
    expect(page.locator("#rows .row").first).to_have_attribute("data-id", quiet["conversation_id"])
    assert page.evaluate(
        f"""document.querySelector('#rows .row[data-id="{busy["conversation_id"]}"]').__kept === true"""
    )  # the other row was not redrawn
    assert asked == [f"inbox/rows?ids={quiet['conversation_id']}"]
    expect(page.locator('[data-count="open"]')).to_have_text("2")

    # Resolved elsewhere: it leaves the open tab, and the counts follow without a reload.
    stack.services.chat.set_status(stack.shop_id, busy["conversation_id"], "resolved")
    expect(row_of(page, busy["conversation_id"])).to_have_count(0)
    expect(page.locator('[data-count="open"]')).to_have_text("1")
    expect(page.locator('[data-count="resolved"]')).to_have_text(re.compile(r"\d"))
    assert all(url.startswith("inbox/rows") for url in asked)

    fresh = shopper_writes(stack, "A new shopper altogether")
    expect(row_of(page, fresh["conversation_id"])).to_be_visible()
    assert any(url.startswith("inbox?") for url in asked)  # a row the list did not have: the list again
