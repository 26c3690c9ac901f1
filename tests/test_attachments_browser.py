"""Pictures in the widget, in Debian's Chromium against the real stack (the stand-in's demo
storefront, the real app embed, Parley behind the signed app proxy):

- the shopper picks a photo (the file input that offers the camera on phones); it shows at
  once with its upload progress, and what Parley keeps and serves back carries no GPS tag;
- an agent's picture arrives live, laid out at its proportions before it loads, and opens
  large on a tap;
- a file that is not a picture is refused, the reason said in the shopper's language
  (Hebrew, right to left), and nothing is stored;
- a long thread of pictures on a 390x844 phone: nothing overlaps, nothing spills.

Screenshots (prefix pictures_) go to $PARLEY_ARTIFACTS/screenshots/.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlmodel import select

from app.media.attachments import check
from app.models import Attachment, Conversation, Message
from tests.support.browser import (
    artifacts_dir,
    element_boxes,
    launch_chromium,
    overlapping,
    start_stack,
    widget_strings,
)

TIMEOUT_MS = 15_000
TICKS = ".parley-log .parley-from-shopper .parley-tick"
PICTURES = ".parley-log .parley-picture img"


def photo_with_gps(width: int = 800, height: int = 600, colour=(200, 120, 40)) -> bytes:
    """A JPEG as a phone makes it: the camera's name and the GPS position in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "Parley Browser Camera"
    exif.get_ifd(0x8825).update({1: "N", 2: (59.0, 26.0, 12.5), 3: "E", 4: (24.0, 45.0, 6.1)})
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack, stop = start_stack(tmp_path_factory.mktemp("pictures"))
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


@pytest.fixture
def new_page(browser):
    contexts, errors = [], []

    def make(width: int = 1280, height: int = 860, locale: str = "en-US"):
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, reduced_motion="reduce"
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / f"pictures_{name}.png"), animations="disabled")


def open_chat(page, url: str) -> None:
    page.goto(url)
    page.click(".parley-launcher")
    expect(page.locator("#parley-panel")).to_be_visible()


def ask(page, text: str) -> None:
    ticks = page.locator(TICKS).count()
    page.fill("#parley-input", text)
    page.press("#parley-input", "Enter")
    expect(page.locator(TICKS)).to_have_count(ticks + 1)


def attach(page, raw: bytes, name: str = "photo.jpg", mime: str = "image/jpeg") -> None:
    page.set_input_files("#parley-panel input[type=file]", files=[{"name": name, "mimeType": mime, "buffer": raw}])


def conversation_of(stack, body: str) -> Conversation:
    with stack.services.db.session() as session:
        message = session.exec(select(Message).where(Message.body == body)).one()
        return session.get(Conversation, message.conversation_id)


def agent_sends_picture(stack, conversation: Conversation, raw: bytes, client_id: str) -> None:
    services = stack.services
    services.attachments.send(
        check(raw, "en"),
        "agent",
        lambda: services.chat.send_agent_message(stack.shop_id, conversation.id, "42", "📷", client_id),
    )


def all_loaded(page) -> None:
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)", arg=PICTURES
    )


def served_bytes(page, index: int) -> bytes:
    """The picture as the widget's own <img> fetched it from Parley."""
    encoded = page.evaluate(
        """async ([selector, index]) => {
            const img = document.querySelectorAll(selector)[index];
            const blob = await (await fetch(img.currentSrc || img.src)).blob();
            const bytes = new Uint8Array(await blob.arrayBuffer());
            let text = '';
            for (const byte of bytes) text += String.fromCharCode(byte);
            return btoa(text);
        }""",
        [PICTURES, index],
    )
    return base64.b64decode(encoded)


def test_a_photo_goes_up_from_the_widget_and_comes_back_without_its_gps_position(stack, new_page):
    page = new_page()
    open_chat(page, stack.storefront_url)
    ask(page, "Here is the size label, which size is it? [pictures-1]")
    expect(page.locator(".parley-attach")).to_have_attribute("aria-label", widget_strings("en.default")["attach"])
    attach(page, photo_with_gps())
    expect(page.locator(TICKS)).to_have_count(2)  # stored: the picture message has its tick
    conversation = conversation_of(stack, "Here is the size label, which size is it? [pictures-1]")
    with stack.services.db.session() as session:
        (stored,) = session.exec(select(Attachment).where(Attachment.conversation_id == conversation.id)).all()
    assert (stored.uploaded_by, stored.width, stored.height) == ("shopper", 800, 600)

    # After a reload the picture comes from Parley: cleaned, the GPS position gone.
    page.reload()
    expect(page.locator("#parley-panel")).to_be_visible()  # left open: the widget reopens it
    expect(page.locator(PICTURES)).to_have_count(1)
    all_loaded(page)
    served = served_bytes(page, 0)
    assert served == stored.data
    with Image.open(io.BytesIO(served)) as image:
        assert image.getexif().get_ifd(0x8825) == {} and dict(image.getexif()) == {}
    assert b"Parley Browser Camera" not in served
    img = page.locator(PICTURES).first
    assert img.get_attribute("alt") == widget_strings("en.default")["picture"]

    # The agent answers with a picture: it arrives live, its box the picture's proportions.
    agent_sends_picture(stack, conversation, photo_with_gps(600, 900, (30, 90, 160)), "agent-pic-1")
    agent = page.locator(".parley-log .parley-from-agent .parley-picture img")
    expect(agent).to_have_count(1)
    all_loaded(page)
    # Its size is known before it loads (no jump when it does): 220 wide, its height capped.
    assert (agent.get_attribute("width"), agent.get_attribute("height")) == ("600", "900")
    box = agent.bounding_box()
    assert (box["width"], box["height"]) == (pytest.approx(220, abs=1), pytest.approx(300, abs=1))
    mine = page.locator(".parley-log .parley-from-shopper .parley-picture img").bounding_box()
    assert (mine["width"], mine["height"]) == (pytest.approx(220, abs=1), pytest.approx(165, abs=1))
    shot(page, "thread_desktop")

    # A tap opens it large; Escape closes it and the panel stays.
    page.locator(".parley-log .parley-from-agent .parley-picture-open").click()
    lightbox = page.locator(".parley-lightbox")
    expect(lightbox).to_be_visible()
    expect(page.locator(".parley-lightbox-img")).to_have_attribute("src", agent.get_attribute("src"))
    shot(page, "opened")
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    expect(page.locator("#parley-panel")).to_be_visible()


def test_a_file_that_is_no_picture_is_refused_in_hebrew_and_nothing_is_stored(stack, new_page):
    page = new_page(locale="he-IL")
    open_chat(page, stack.storefront_url + "?locale=he")
    expect(page.locator("#parley-panel")).to_have_attribute("dir", "rtl")
    ask(page, "שלום, יש לי שאלה [pictures-2]")
    conversation = conversation_of(stack, "שלום, יש לי שאלה [pictures-2]")
    attach(page, b"<html><script>alert(1)</script></html>", name="label.jpg")
    failed = page.locator(".parley-log .parley-state-failed")
    expect(failed).to_have_count(1)
    expect(failed.locator(".parley-meta")).to_contain_text(widget_strings("he")["error_image_not_an_image"])
    expect(failed.locator(".parley-link")).to_have_count(0)  # a refused file is not retried
    expect(failed.locator(".parley-bubble")).to_have_text("label.jpg")  # named, not shown broken
    with stack.services.db.session() as session:
        count = select(sa.func.count()).select_from(Attachment).where(Attachment.conversation_id == conversation.id)
        assert session.exec(count).one() == 0
        assert len(session.exec(select(Message).where(Message.conversation_id == conversation.id)).all()) == 1
    # A picture that is one: sent beside the refusal, in the same thread.
    attach(page, photo_with_gps())
    expect(page.locator(TICKS)).to_have_count(2)
    all_loaded(page)
    boxes = element_boxes(page, ".parley-log .parley-msg")
    assert overlapping(boxes) == []
    shot(page, "refused_hebrew")


def test_a_long_thread_of_pictures_on_a_phone(stack, new_page):
    page = new_page(390, 844)
    open_chat(page, stack.storefront_url)
    ask(page, "Three photos of the parcel coming [pictures-3]")
    conversation = conversation_of(stack, "Three photos of the parcel coming [pictures-3]")
    # While it goes up, the photo shows from the file with "Sending…" under it.
    held, uploads = [], re.compile(r".*/api/storefront/v1/attachments$")
    page.route(uploads, lambda route: held.append(route))
    attach(page, photo_with_gps(1200, 800, (180, 40, 40)), name="parcel-0.jpg")
    uploading = page.locator(".parley-log .parley-from-shopper").last
    expect(uploading.locator(".parley-meta")).to_contain_text(widget_strings("en.default")["sending"])
    page.wait_for_function(
        "s => { const i = [...document.querySelectorAll(s)].pop(); return i && i.complete && i.naturalWidth > 0; }",
        arg=PICTURES,
    )
    shot(page, "uploading_phone")
    held[0].continue_()
    page.unroute(uploads)
    expect(page.locator(TICKS)).to_have_count(2)
    for n, (size, colour) in enumerate([((700, 1400), (40, 140, 60)), ((900, 900), (60, 60, 170))], start=1):
        attach(page, photo_with_gps(*size, colour), name=f"parcel-{n}.jpg")
        expect(page.locator(TICKS)).to_have_count(2 + n)
    for n in range(3):
        agent_sends_picture(stack, conversation, photo_with_gps(640, 480, (120, 20 * n, 90)), f"agent-long-{n}")
        stack.services.chat.send_agent_message(
            stack.shop_id, conversation.id, "42", f"And here is the replacement, photo {n + 1}.", f"agent-text-{n}"
        )
    expect(page.locator(PICTURES)).to_have_count(6)
    all_loaded(page)
    panel = page.locator("#parley-panel").bounding_box()
    assert panel["width"] == pytest.approx(390, abs=1)
    pictures = element_boxes(page, PICTURES)
    for picture in pictures:
        assert picture["width"] <= 220.5 and picture["height"] <= 300.5
        assert picture["left"] >= 0 and picture["right"] <= 390
    assert overlapping(element_boxes(page, ".parley-log .parley-msg")) == []
    # The composer keeps the attach button, the draft and Send on one row, none on another.
    row = element_boxes(page, ".parley-composer .parley-attach, .parley-composer .parley-input, .parley-send")
    assert len(row) == 3 and overlapping(row) == []
    shot(page, "long_thread_phone")
    page.locator(".parley-scroll").evaluate("el => el.scrollTop = 0")
    shot(page, "long_thread_phone_top")


# -- the Support page ---------------------------------------------------------------------------


def sign_in(page, stack, next_page: str) -> None:
    page.goto(f"{stack.parley_url}/demo/support?next={next_page}")
    expect(page.locator("#thread")).to_be_visible()


def shopper_sends_picture(stack, body: str, raw: bytes) -> Conversation:
    from app.models import Shop

    services = stack.services
    with services.db.session() as session:
        shop = session.get(Shop, stack.shop_id)
    started = services.sessions.start(shop, None, "en")
    services.chat.send_shopper_message(stack.shop_id, started["visitor_id"], "q-" + body[-8:], body)
    services.attachments.send(
        check(raw, "en"),
        "shopper",
        lambda: services.chat.send_shopper_message(stack.shop_id, started["visitor_id"], "p-" + body[-8:], "📷"),
    )
    return conversation_of(stack, body)


def test_the_agent_sees_the_shoppers_picture_and_sends_one_back(stack, new_page):
    conversation = shopper_sends_picture(stack, "The parcel came like this [pictures-4]", photo_with_gps(1000, 750))
    page = new_page()
    sign_in(page, stack, f"/app/conversations/{conversation.id}")
    theirs = page.locator("#thread .msg.from-shopper .thread-picture")
    expect(theirs).to_have_count(1)
    page.wait_for_function(
        "() => { const i = document.querySelector('#thread .thread-picture'); return i && i.complete && i.naturalWidth === 1000; }"
    )
    box = theirs.bounding_box()
    assert (box["width"], box["height"]) == (pytest.approx(240, abs=1), pytest.approx(180, abs=1))

    # The agent attaches one: it is stored, cleaned, and shown on the agent's side.
    page.set_input_files(
        "#attach-picture",
        files=[{"name": "label.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps(600, 800, (20, 120, 200))}],
    )
    mine = page.locator("#thread .msg.from-agent:not(.pending) .thread-picture")
    expect(mine).to_have_count(1)
    with stack.services.db.session() as session:
        stored = session.exec(
            select(Attachment).where(Attachment.conversation_id == conversation.id, Attachment.uploaded_by == "agent")
        ).one()
    assert (stored.width, stored.height) == (600, 800) and b"Parley Browser Camera" not in stored.data
    page.wait_for_function(
        "() => [...document.querySelectorAll('#thread .thread-picture')].every(i => i.complete && i.naturalWidth > 0)"
    )
    shot(page, "support_thread")

    # A file that is not a picture: refused, the reason in the thread, nothing stored.
    page.set_input_files(
        "#attach-picture", files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"%PDF-1.7 not a picture"}]
    )
    failed = page.locator("#thread .msg.failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("notes.png")
    expect(failed.locator("[role=alert]")).to_have_text(
        "That file is not a picture we can show (JPEG, PNG, WebP or GIF), or it is damaged."
    )
    with stack.services.db.session() as session:
        count = select(sa.func.count()).select_from(Attachment).where(Attachment.conversation_id == conversation.id)
        assert session.exec(count).one() == 2
    shot(page, "support_refused")


def test_the_support_thread_with_pictures_on_a_phone(stack, new_page):
    conversation = shopper_sends_picture(stack, "Which one is the right size? [pictures-5]", photo_with_gps(700, 1400))
    agent_sends_picture(stack, conversation, photo_with_gps(1200, 600, (90, 30, 120)), "agent-support-phone")
    page = new_page(390, 844)
    sign_in(page, stack, f"/app/conversations/{conversation.id}")
    pictures = page.locator("#thread .thread-picture")
    expect(pictures).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#thread .thread-picture')].every(i => i.complete && i.naturalWidth > 0)"
    )
    for picture in element_boxes(page, "#thread .thread-picture"):
        assert picture["left"] >= 0 and picture["right"] <= 390 and picture["height"] <= 320.5
    assert overlapping(element_boxes(page, "#thread .msg")) == []
    page.locator("#thread .msg").last.scroll_into_view_if_needed()
    shot(page, "support_phone")
