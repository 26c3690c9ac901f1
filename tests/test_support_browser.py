"""The Support page as a merchant meets it, in Debian's Chromium (issue 11, points 3, 5, 6,
10, 11, 12, 14, 15 and 16): names and facts in the inbox, right-to-left previews, a long
thread, a phone, the reply box that never cuts a paste, toasts that keep clear of it, the
keyboard, Settings' languages, colour and hours, and Insights' charts. Geometry is
asserted where layout matters; every state is kept as a screenshot under
$PARLEY_ARTIFACTS/screenshots/ (support_*.png) to be looked at.

Shoppers write through the core (services.sessions / services.chat), so these tests look
at the merchant's page only; tests/test_browser.py drives the widget itself.
"""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from app.chat.shop_settings import get_settings
from app.chat.visitors import visitor_hue, visitor_label
from app.clock import utcnow
from app.models import CartSnapshot, Conversation, Message, OrderLink, Shop, Visitor
from tests.support.browser import artifacts_dir, launch_chromium, start_stack

TIMEOUT_MS = 15_000
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack, stop = start_stack(tmp_path_factory.mktemp("support-browser"))
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


@pytest.fixture
def errors() -> list[str]:
    return []


def page_in(browser, errors, viewport=DESKTOP, locale="en-US"):
    context = browser.new_context(viewport=viewport, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    context.route(re.compile(r"^https?://cdn\.shopify\.com/"), lambda route: route.abort())
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return context, page


@pytest.fixture
def admin(browser, errors):
    context, page = page_in(browser, errors)
    yield page
    context.close()
    assert not errors, errors


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def shot(page, name: str, **kwargs) -> None:
    page.screenshot(path=str(artifacts_dir() / f"{name}.png"), animations="disabled", **kwargs)


def sign_in(page, stack, next_page: str = "/app") -> None:
    page.goto(f"{stack.parley_url}/demo/support?next={next_page}")
    expect(page).to_have_url(re.compile(r"/app"))


def shopper_writes(stack, *bodies: str, locale="en", page=None, timezone=None, cart: Decimal | None = None) -> dict:
    """A fresh shopper starts a session as the widget does and writes; their conversation id and visitor."""
    with stack.services.db.session() as session:
        shop = session.get(Shop, stack.shop_id)
    started = stack.services.sessions.start(shop, None, locale, page=page, timezone=timezone)
    sent = None
    for body in bodies:
        sent = stack.services.chat.send_shopper_message(stack.shop_id, started["visitor_id"], str(uuid.uuid4()), body)
    assert sent is not None
    if cart is not None:
        with stack.services.db.transaction() as session:
            conversation = session.get(Conversation, sent.conversation.id)
            conversation.cart_value, conversation.cart_currency = cart, "EUR"
            session.add(conversation)
    return {"conversation_id": sent.conversation.id, "visitor_id": started["visitor_id"]}


def row_of(page, conversation_id: str):
    return page.locator(f'#rows .row[data-id="{conversation_id}"]')


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not on screen"
    return found


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


# ---- the inbox: names, facts, right-to-left, focus ----------------------------------------------


def test_the_inbox_names_each_shopper_and_says_what_the_shop_knows(stack, admin):
    estonian = shopper_writes(
        stack,
        "Kas see jope on ka sinisena saadaval?",
        locale="et-EE",
        page="https://fjordgear.com/products/rain-jacket?utm_source=mail",
        timezone="Europe/Tallinn",
        cart=Decimal("129.90"),
    )
    hebrew = shopper_writes(stack, "שלום, יש לכם מידה L בצבע כחול?", locale="he", timezone="Asia/Jerusalem")
    arabic = shopper_writes(
        stack, "مرحبا، هل يمكنني إرجاع المنتج خلال ثلاثين يوما؟", locale="ar", page="https://fjordgear.com/"
    )
    english = shopper_writes(stack, "Do you ship to Riga?", locale="en-GB", timezone="Europe/London")

    sign_in(admin, stack)
    expect(admin.locator("#rows")).to_have_attribute("aria-busy", "false")
    labels = {}
    for who in (estonian, hebrew, arabic, english):
        row = row_of(admin, who["conversation_id"])
        labels[who["conversation_id"]] = visitor_label(who["visitor_id"])
        expect(row.locator(".row-name")).to_have_text(labels[who["conversation_id"]])
    # Each anonymous shopper's avatar has the colour of their visitor id (distinct names and
    # colours over many ids: tests/test_support_inbox.py).
    for who in (estonian, hebrew, arabic, english):
        style = row_of(admin, who["conversation_id"]).locator(".avatar").get_attribute("style")
        assert style == f"--avatar-hue: {visitor_hue(who['visitor_id'])}"

    facts = row_of(admin, estonian["conversation_id"]).locator(".row-facts")
    expect(facts).to_contain_text("Estonian")
    expect(facts).to_contain_text("/products/rain-jacket")
    expect(facts).to_contain_text(re.compile(r"\d{1,2}:\d{2}.*local time"))
    expect(facts).to_contain_text("New")
    expect(facts).not_to_contain_text("utm_source")
    expect(row_of(admin, hebrew["conversation_id"]).locator(".row-facts")).to_contain_text("Hebrew")

    # Right-to-left previews start at the right edge, like the thread; English at the left.
    for who, direction in ((hebrew, "rtl"), (arabic, "rtl"), (english, "ltr"), (estonian, "ltr")):
        preview = row_of(admin, who["conversation_id"]).locator(".row-preview")
        assert preview.evaluate("el => getComputedStyle(el).direction") == direction
        edges = preview.evaluate("""el => {
            const range = document.createRange();
            range.selectNodeContents(el);
            const text = range.getBoundingClientRect(), own = el.getBoundingClientRect();
            return {textLeft: text.left, textRight: text.right, left: own.left, right: own.right};
        }""")
        if direction == "rtl":
            assert abs(edges["textRight"] - edges["right"]) < 2, edges
        else:
            assert abs(edges["textLeft"] - edges["left"]) < 2, edges
    for selector in (".row-name", ".row-text"):
        assert row_of(admin, hebrew["conversation_id"]).locator(selector).evaluate(
            "el => el.getAttribute('dir') || el.closest('[dir]').getAttribute('dir')"
        ) in ("auto", "rtl")
    shot(admin, "support_inbox_labels_and_rtl")

    # The conversation's header says the same name and facts.
    row_of(admin, estonian["conversation_id"]).locator("a").click()
    expect(admin.locator("#customer-name")).to_have_text(labels[estonian["conversation_id"]])
    expect(admin.locator("#thread-facts")).to_contain_text("Estonian")
    expect(admin.locator("#thread-facts a.fact-page")).to_have_attribute(
        "href", "https://fjordgear.com/products/rain-jacket"
    )
    expect(admin.locator("#thread .msg.from-shopper .msg-meta")).to_contain_text(labels[estonian["conversation_id"]])


def test_the_focus_ring_on_an_inbox_row_is_not_clipped(stack, admin):
    shopper_writes(stack, "Focus ring check")
    sign_in(admin, stack)
    expect(admin.locator("#rows")).to_have_attribute("aria-busy", "false")
    link = admin.locator("#rows .row-link").first
    # Tab, as any keyboard user gets there (the focus ring is the keyboard's).
    admin.locator("#search").click()
    for _ in range(12):
        admin.keyboard.press("Tab")
        if link.evaluate("el => el === document.activeElement"):
            break
    expect(link).to_be_focused()
    assert link.evaluate("el => el.matches(':focus-visible')")
    ring = link.evaluate("""el => {
        const style = getComputedStyle(el), own = el.getBoundingClientRect();
        const card = el.closest('.inbox').getBoundingClientRect();
        const reach = parseFloat(style.outlineWidth) + parseFloat(style.outlineOffset);
        return {style: style.outlineStyle, width: parseFloat(style.outlineWidth), reach,
                left: own.left - reach, right: own.right + reach, top: own.top - reach, bottom: own.bottom + reach,
                cardLeft: card.left, cardRight: card.right, cardTop: card.top, cardBottom: card.bottom,
                clips: getComputedStyle(el.closest('.inbox')).overflow};
    }""")
    assert ring["style"] != "none" and ring["width"] >= 2
    # The card clips what leaves it (its rounded corners); the whole ring stays inside.
    assert ring["clips"] == "hidden"
    assert ring["left"] >= ring["cardLeft"] and ring["right"] <= ring["cardRight"], ring
    assert ring["top"] >= ring["cardTop"] - 0.5, ring
    shot(admin, "support_inbox_focus_ring", clip={"x": 0, "y": 0, "width": 1280, "height": 500})


def test_arrows_move_through_the_inbox_and_escape_comes_back(stack, admin):
    first = shopper_writes(stack, "keyboard one")
    second = shopper_writes(stack, "keyboard two")
    sign_in(admin, stack)
    expect(admin.locator("#rows")).to_have_attribute("aria-busy", "false")
    links = admin.locator("#rows .row-link")
    admin.locator("body").press("ArrowDown")
    expect(links.nth(0)).to_be_focused()
    admin.keyboard.press("j")
    expect(links.nth(1)).to_be_focused()
    admin.keyboard.press("ArrowUp")
    expect(links.nth(0)).to_be_focused()
    assert row_of(admin, second["conversation_id"]).locator("a").evaluate("el => el === document.activeElement")
    admin.keyboard.press("/")
    expect(admin.locator("#search")).to_be_focused()

    # Enter opens; Alt+↓ goes to the next conversation of the list, Alt+↑ back; Esc to the inbox.
    admin.locator("#search").press("ArrowDown")
    expect(links.nth(0)).to_be_focused()
    admin.keyboard.press("Enter")
    expect(admin).to_have_url(re.compile(f"/app/conversations/{second['conversation_id']}"))
    expect(admin.locator("#thread .bubble")).to_have_text(["keyboard two"])
    admin.locator("#reply").press("Alt+ArrowDown")
    expect(admin).to_have_url(re.compile(f"/app/conversations/{first['conversation_id']}"))
    expect(admin.locator("#thread .bubble")).to_have_text(["keyboard one"])
    admin.locator("#reply").press("Alt+ArrowUp")
    expect(admin).to_have_url(re.compile(f"/app/conversations/{second['conversation_id']}"))
    admin.locator("#reply").fill("A draft that must survive")
    admin.locator("#reply").press("Escape")
    expect(admin).to_have_url(re.compile(r"/app(\?|$)"))
    expect(admin.locator("#rows")).to_have_attribute("aria-busy", "false")
    row_of(admin, second["conversation_id"]).locator("a").click()
    expect(admin.locator("#reply")).to_have_value("A draft that must survive")

    # Reply and Note are a radio group: arrows move between them.
    expect(admin.locator("#reply")).to_be_focused()  # the page has finished starting
    reply_mode = admin.locator('[data-mode="reply"]')
    reply_mode.focus()
    admin.keyboard.press("ArrowRight")
    expect(admin.locator('[data-mode="note"]')).to_have_attribute("aria-checked", "true")
    expect(admin.locator('[data-mode="note"]')).to_be_focused()
    expect(admin.locator("#composer")).to_have_class(re.compile("note-mode"))
    admin.keyboard.press("ArrowLeft")
    expect(reply_mode).to_have_attribute("aria-checked", "true")
    assert (
        reply_mode.get_attribute("tabindex") == "0"
        and admin.locator('[data-mode="note"]').get_attribute("tabindex") == "-1"
    )


# ---- the reply box: a long paste, and toasts that keep clear of it ---------------------------------


def test_a_long_paste_is_kept_whole_and_said_to_be_too_long(stack, admin):
    who = shopper_writes(stack, "Please send the full terms")
    sign_in(admin, stack, f"/app/conversations/{who['conversation_id']}")
    expect(admin.locator("#thread .bubble")).to_have_count(1)
    posts: list[str] = []
    admin.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/messages") else None)
    pasted = ("Our terms, paragraph by paragraph. " * 300)[:10_000]
    admin.locator("#reply").focus()
    admin.keyboard.insert_text(pasted)  # as a paste arrives: through the browser's editing
    reply = admin.locator("#reply")
    assert reply.evaluate("el => el.value.length") == 10_000  # nothing cut
    count = admin.locator("#composer-count")
    expect(count).to_have_text("5,000 characters too long: a message can hold 5,000. Shorten it or send it in parts.")
    expect(admin.locator("#send")).to_be_disabled()
    reply.press("Enter")
    admin.wait_for_timeout(300)
    assert posts == [] and reply.evaluate("el => el.value.length") == 10_000
    shot(admin, "support_reply_too_long")
    # Shortened, it goes.
    reply.fill(pasted[:4_000])
    expect(count).to_have_text("")
    expect(admin.locator("#send")).to_be_enabled()
    reply.press("Enter")
    expect(admin.locator("#thread .msg.from-agent:not(.pending) .bubble")).to_have_count(1)
    with stack.services.db.session() as session:
        bodies = session.exec(
            select(Message.body).where(
                Message.conversation_id == who["conversation_id"], Message.author_kind == "agent"
            )
        ).all()
    assert [len(b) for b in bodies] == [len(pasted[:4_000].strip())]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_toasts_never_cover_the_reply_box(stack, browser, errors, viewport):
    who = shopper_writes(stack, "Toast check")
    context, page = page_in(browser, errors, viewport)
    try:
        sign_in(page, stack, f"/app/conversations/{who['conversation_id']}")
        expect(page.locator("#thread .bubble")).to_have_count(1)
        page.locator("#assign").click()
        toast = page.locator("#toasts .toast").first
        expect(toast).to_have_text("Assigned to you")
        page.locator("#resolve").click()
        expect(page.locator("#toasts .toast")).to_have_count(2)
        composer = box(page.locator("#composer"))
        for n in range(2):
            assert not overlaps(box(page.locator("#toasts .toast").nth(n)), composer), (n, composer)
        shot(page, f"support_toasts_{viewport['width']}")
    finally:
        context.close()
    assert not errors, errors


# ---- a long thread, and a phone ---------------------------------------------------------------------


def long_thread(stack) -> dict:
    texts = []
    for n in range(30):
        if n == 7:
            texts.append(("Here is everything about the order. " * 60)[:2_000])
        elif n % 5 == 1:
            texts.append("שלום! האם אפשר להחליף את המידה? " + str(n))
        elif n % 5 == 3:
            texts.append("مرحبا، متى يصل الطلب؟ " + str(n))
        else:
            texts.append(f"Message {n}: " + "short" * (n % 4 + 1))
    who = shopper_writes(stack, texts[0], locale="he", timezone="Asia/Jerusalem", page="https://fjordgear.com/cart")
    for n, text in enumerate(texts[1:], start=1):
        if n % 2:
            stack.services.chat.send_agent_message(stack.shop_id, who["conversation_id"], "1", text, str(uuid.uuid4()))
        else:
            stack.services.chat.send_shopper_message(stack.shop_id, who["visitor_id"], str(uuid.uuid4()), text)
    # The shopper has the last word: they are waiting.
    stack.services.chat.send_shopper_message(stack.shop_id, who["visitor_id"], str(uuid.uuid4()), "Are you there?")
    return who


def test_a_long_mixed_thread_reads_without_overlap(stack, admin):
    who = long_thread(stack)
    sign_in(admin, stack, f"/app/conversations/{who['conversation_id']}")
    bubbles = admin.locator("#thread .msg .bubble")
    expect(bubbles).to_have_count(31)
    boxes = bubbles.evaluate_all(
        "els => els.map(el => { const r = el.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height, scroll: el.scrollHeight}; })"
    )
    for a, b in itertools.pairwise(boxes):
        assert a["y"] + a["height"] <= b["y"] + 0.5, (a, b)
    assert all(b["height"] >= b["scroll"] - 1 for b in boxes)
    rtl = admin.locator("#thread .msg .bubble", has_text="שלום").first
    assert rtl.evaluate("el => getComputedStyle(el).direction") == "rtl"
    shot(admin, "support_long_thread")
    admin.locator("#thread-scroll").evaluate("el => el.scrollTop = 0")
    shot(admin, "support_long_thread_top")


def test_on_a_phone_the_header_keeps_its_words_together_and_the_shop_name_whole(stack, browser, errors):
    who = long_thread(stack)
    context, page = page_in(browser, errors, PHONE)
    try:
        sign_in(page, stack, f"/app/conversations/{who['conversation_id']}")
        expect(page.locator("#thread .bubble")).to_have_count(31)
        meta = page.locator("#thread-meta")
        expect(meta).to_contain_text("waiting")
        # "waiting under a minute" on one line, not a word per line.
        line_height = meta.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
        assert box(meta)["height"] <= line_height * 2 + 1, box(meta)
        assert box(page.locator(".thread-head .who"))["width"] >= 200
        waiting = meta.evaluate("""el => {
            const at = el.textContent.indexOf('waiting');
            const range = document.createRange();
            range.setStart(el.firstChild, at);
            range.setEnd(el.firstChild, el.textContent.length);
            return range.getClientRects().length;
        }""")
        assert waiting == 1
        brand = page.locator(".brand")
        expect(brand).to_contain_text("Parley Demo Store")
        assert brand.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the shop name is cut"
        # Nothing of the header spills sideways off the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "support_phone_390_thread")
        page.locator("#back").click()
        expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")
        shot(page, "support_phone_390_inbox")
    finally:
        context.close()
    assert not errors, errors


# ---- Settings: the colour, languages, hours --------------------------------------------------------


def test_settings_say_which_colour_wins_and_take_a_greeting_per_language(stack, admin):
    sign_in(admin, stack, "/app/settings")
    expect(admin.locator("#settings-form")).to_be_visible()
    expect(admin.locator("#accent-help")).to_have_text(
        "A colour set here wins over the one chosen for the Parley app embed in the theme editor. "
        "Left empty, the theme editor's colour is used."
    )
    admin.fill("#accent", "#aa3300")
    admin.fill("#greeting", "Hello!")
    admin.locator(".localized-languages summary").first.click()
    admin.fill("#greeting-et", "Tere! Kuidas saame aidata?")
    expect(admin.locator("#greeting-he")).to_have_attribute("dir", "rtl")
    admin.fill("#greeting-he", "שלום! איך נוכל לעזור?")
    admin.fill("#greeting-ru", "Я" * 301)
    expect(admin.locator("#greeting-ru-count")).to_have_text("1 character too long (at most 300)")
    admin.click("#save")
    error = admin.locator('[data-error-for="greeting.ru"]')
    expect(error).to_have_text("The greeting for Russian can hold at most 300 characters")
    expect(admin.locator("#greeting-ru")).to_be_focused()
    shot(admin, "support_settings_language_error")

    admin.fill("#greeting-ru", "Здравствуйте!")
    admin.click("#save")
    expect(admin.locator("#toasts")).to_contain_text("Settings saved")
    with stack.services.db.session() as session:
        saved = get_settings(session, stack.shop_id)
    assert saved["accent"] == "#aa3300"
    assert saved["greeting"] == {
        "default": "Hello!",
        "et": "Tere! Kuidas saame aidata?",
        "he": "שלום! איך נוכל לעזור?",
        "ru": "Здравствуйте!",
    }
    with stack.services.db.session() as session:
        shop = session.get(Shop, stack.shop_id)
    assert stack.services.sessions.start(shop, None, "et")["settings"]["greeting"] == "Tere! Kuidas saame aidata?"
    assert stack.services.sessions.start(shop, None, "pl")["settings"]["greeting"] == "Hello!"

    # Emptied, the colour goes back to the theme's.
    admin.click("#accent-clear")
    with admin.expect_response(lambda r: r.url.endswith("/admin/api/settings") and r.request.method == "PUT") as saving:
        admin.click("#save")
    assert saving.value.ok and saving.value.json()["settings"]["accent"] is None
    expect(admin.locator("#accent")).to_have_value("")
    with stack.services.db.session() as session:
        assert get_settings(session, stack.shop_id)["accent"] is None


def test_no_hours_reads_as_always_open_and_a_night_shift_can_be_entered(stack, admin):
    sign_in(admin, stack, "/app/settings")
    expect(admin.locator("#settings-form")).to_be_visible()
    admin.check("#hours-always")
    admin.click("#save")
    expect(admin.locator("#toasts")).to_contain_text("Settings saved")
    admin.reload()
    expect(admin.locator("#settings-form")).to_be_visible()
    # No hours: "Always open", not seven days of "Closed".
    expect(admin.locator("#hours-always")).to_be_checked()
    expect(admin.locator("#hours")).to_be_hidden()
    expect(admin.locator("#hours-help")).to_have_text("The widget says the team is online at any time of day.")
    visible_closed = admin.locator("#hours .closed:visible")
    expect(visible_closed).to_have_count(0)
    shot(admin, "support_settings_always_open")

    admin.check("#hours-set")
    friday = admin.locator('[data-day="fri"]')
    friday.locator('[data-part="start"]').fill("22:00")
    friday.locator('[data-part="end"]').fill("02:00")
    expect(friday.locator(".overnight")).to_be_visible()
    expect(admin.locator('[data-day="sat"] .closed')).to_be_visible()
    admin.click("#save")
    expect(admin.locator("#toasts")).to_contain_text("Settings saved")
    with stack.services.db.session() as session:
        weekly = get_settings(session, stack.shop_id)["hours"]["weekly"]
    assert weekly["fri"] == [["22:00", "02:00"]] and weekly["mon"] == [["09:00", "17:00"]] and weekly["sat"] == []
    shot(admin, "support_settings_night_shift", full_page=True)

    # Set hours with every day closed would mean "always open" to the widget: the page says so.
    removes = admin.locator("#hours .interval button")
    while removes.count():
        removes.first.click()
    admin.click("#save")
    expect(admin.locator('[data-error-for="hours"]')).to_have_text(
        "Add opening hours to at least one day, or choose “Always open”."
    )
    shot(admin, "support_settings_hours_error")
    admin.check("#hours-always")
    admin.click("#save")
    expect(admin.locator("#toasts")).to_contain_text("Settings saved")


# ---- Insights ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def month(stack) -> None:
    """Thirty days of conversations and orders, seeded once for the module."""
    now = utcnow()
    with stack.services.db.transaction() as session:
        for day in range(30):
            at = now - timedelta(days=29 - day, hours=1)
            for n in range((day * 7) % 6):
                visitor = Visitor(shop_id=stack.shop_id, created_at=at, last_seen_at=at)
                session.add(visitor)
                session.flush()
                conversation = Conversation(
                    shop_id=stack.shop_id, visitor_id=visitor.id, created_at=at, last_message_at=at
                )
                session.add(conversation)
                session.flush()
                if n == 0 and day % 3 == 0:
                    session.add(
                        OrderLink(
                            shop_id=stack.shop_id,
                            conversation_id=conversation.id,
                            order_id=f"o-{uuid.uuid4()}",
                            rule="conversation",
                            total=Decimal(40 + day * 13) + Decimal("0.90"),
                            refunded=Decimal(0),
                            currency="EUR",
                            financial_status="paid",
                            ordered_at=at,
                        )
                    )
                if n == 1 and day == 29:
                    # A cart still open: younger than the window, not yet abandoned.
                    session.add(
                        CartSnapshot(
                            shop_id=stack.shop_id,
                            conversation_id=conversation.id,
                            currency="EUR",
                            total=Decimal("25"),
                            item_count=1,
                            lines=[{"title": "Scarf", "quantity": 1, "price": "25.00", "line_price": "25.00"}],
                            created_at=at,
                        )
                    )


def visible_chart_text(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('.chart svg text')]
        .filter(t => t.getAttribute('visibility') !== 'hidden')
        .map(t => { const r = t.getBoundingClientRect(); return {
            text: t.textContent, cls: t.getAttribute('class'), size: parseFloat(getComputedStyle(t).fontSize),
            scale: t.getScreenCTM().a, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
            at: t.x.baseVal.numberOfItems ? t.x.baseVal.getItem(0).value : null,
            chart: t.closest('.chart').id }; })""")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_insights_charts_read_at_a_glance(stack, month, browser, errors, viewport):
    context, page = page_in(browser, errors, {**viewport, "height": 1600})
    try:
        sign_in(page, stack, "/app/insights")
        expect(page.locator("#insights")).to_have_attribute("aria-busy", "false")
        expect(page.locator("#chart-conversations svg rect")).to_have_count(30)
        labels = visible_chart_text(page)
        # Real 12 px text, whatever the card's width.
        assert all(label["size"] >= 12 and abs(label["scale"] - 1) < 0.01 for label in labels), labels
        y_labels = [label for label in labels if label["cls"] == "y-label" and label["chart"] == "chart-conversations"]
        assert len(y_labels) >= 3  # more than 0 and the maximum
        values = [label for label in labels if label["cls"] == "bar-value"]
        assert values, "no bar carries its value"
        for chart in ("chart-conversations", "chart-revenue"):
            shown = [
                label
                for label in labels
                if label["chart"] == chart and label["cls"] in ("x-label", "bar-value", "y-label")
            ]
            for i, a in enumerate(shown):
                for b in shown[i + 1 :]:
                    touching = (
                        a["left"] < b["right"]
                        and b["left"] < a["right"]
                        and a["top"] < b["bottom"]
                        and b["top"] < a["bottom"]
                    )
                    assert not touching, (a, b)
        dates = [label for label in labels if label["cls"] == "x-label" and label["chart"] == "chart-conversations"]
        lefts = sorted(d["at"] for d in dates)
        gaps = [b - a for a, b in itertools.pairwise(lefts)]
        assert len(dates) >= 2 and max(gaps) - min(gaps) < 3, gaps  # evenly spaced
        # The card's title once, not again inside the chart.
        assert page.locator(".charts").get_by_text("Conversations started", exact=True).count() == 1
        abandoned = page.locator(".figure", has_text="Abandoned carts")
        expect(abandoned).not_to_contain_text("—")
        expect(abandoned).to_contain_text("1 cart still open")
        shot(page, f"support_insights_{viewport['width']}", full_page=True)
    finally:
        context.close()
    assert not errors, errors
