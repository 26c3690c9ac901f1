"""A reply the shopper has not seen goes out by e-mail, through a real SMTP server: in
their language, threaded, with a one-click unsubscribe and a resume link that hands the
conversation to another device; nothing when they read it in the chat, nothing after
they unsubscribed; expired, revoked and forged links get a readable page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from app.models import Outbox, ResumeLink, Visitor
from tests.support.shoppers import API, auth, start
from tests.support.shops import SHOP, bearer, install

NOON = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(mail_app, standin, clock):
    clock.set(NOON)
    services = mail_app.extensions["parley"]
    shop_id = install(services, SHOP)
    client = mail_app.test_client()
    return client, services, shop_id


def shopper_with_address(client, standin, locale: str = "et-EE", email: str = "mari@example.com"):
    session = client.post(
        "/proxy/session?" + "&".join(f"{k}={v}" for k, v in standin.proxy_query(SHOP)), json={"locale": locale}
    ).get_json()
    sent = client.post(
        f"{API}/messages", json={"client_id": "s1", "body": "Kas saadate Tartusse?"}, headers=auth(session)
    )
    assert sent.status_code == 201
    given = client.post(f"{API}/contact", json={"email": email, "consent": True}, headers=auth(session))
    assert given.status_code == 200, given.data
    return session, sent.get_json()["conversation"]["id"]


def agent_says(client, standin, conversation_id: str, body: str, client_id: str):
    answer = client.post(
        f"/admin/api/conversations/{conversation_id}/messages",
        json={"client_id": client_id, "body": body},
        headers=bearer(standin),
    )
    assert answer.status_code == 201
    return answer.get_json()["message"]


def test_an_unseen_reply_is_e_mailed_in_the_shoppers_language_threaded_with_a_resume_link(world, standin, smtp, clock):
    client, services, _ = world
    _session, conversation_id = shopper_with_address(client, standin)
    agent_says(client, standin, conversation_id, "Jah, 2–3 päevaga.", "a1")
    clock.advance(timedelta(minutes=1))
    agent_says(client, standin, conversation_id, "Tasuta üle 50 €.", "a2")
    assert services.notify.outbox.run_due() == {}  # the shop waits 3 minutes by default
    clock.advance(timedelta(minutes=3))
    assert services.notify.outbox.run_due() == {"sent": 1}

    [mail] = smtp.received
    message = mail.message
    assert mail.rcpt_tos == ["mari@example.com"]
    assert message["Subject"] == "fjord-gear.myshopify.com vastas sinu küsimusele"
    text = message.get_body(("plain",)).get_content()
    assert "Jah, 2–3 päevaga." in text and "Tasuta üle 50 €." in text and "Kas saadate Tartusse?" in text
    html = message.get_body(("html",)).get_content()
    assert 'lang="et"' in html and "Jätka vestlust" in html
    thread = f"<conversation.{conversation_id.replace('-', '')}@mail.parley.test>"
    assert (message["In-Reply-To"], message["References"]) == (thread, thread)
    reply_to = parseaddr(message["Reply-To"])[1]
    assert services.notify.tokens.conversation_of(reply_to) == conversation_id
    assert reply_to.endswith("@mail.parley.test")
    # RFC 8058: an https (here the app's own) URI and the one-click POST marker.
    unsubscribe = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert unsubscribe.startswith("http://parley.test/u/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    resume_url = re.search(r"http://parley\.test/r/\S+", text).group(0)

    # The link, opened on another device: on to the storefront, where the widget takes over.
    opened = client.get(urlsplit(resume_url).path)
    assert opened.status_code == 302
    target = urlsplit(opened.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{standin.url}/store/{SHOP}/"
    token = parse_qs(target.query)["parley_resume"][0]
    elsewhere = start(client, standin)  # a fresh visitor: the other device
    claimed = client.post(f"{API}/resume", json={"token": token}, headers=auth(elsewhere))
    assert claimed.status_code == 200, claimed.data
    assert claimed.get_json()["conversation_id"] == conversation_id
    history = client.get(f"{API}/messages", headers={"Authorization": f"Bearer {claimed.get_json()['visitor_token']}"})
    assert [m["body"] for m in history.get_json()["messages"]] == [
        "Kas saadate Tartusse?",
        "Jah, 2–3 päevaga.",
        "Tasuta üle 50 €.",
    ]


def test_a_reply_read_in_the_chat_is_not_e_mailed(world, standin, smtp, clock):
    client, services, _ = world
    session, conversation_id = shopper_with_address(client, standin)
    reply = agent_says(client, standin, conversation_id, "Yes!", "a1")
    assert client.post(f"{API}/read", json={"up_to": reply["id"]}, headers=auth(session)).status_code == 204
    clock.advance(timedelta(minutes=5))
    assert services.notify.outbox.run_due() == {"cancelled": 1}
    assert smtp.received == []


def test_internal_notes_and_shoppers_without_an_address_get_no_e_mail(world, standin, smtp, clock):
    client, services, _ = world
    session = start(client, standin)
    sent = client.post(f"{API}/messages", json={"client_id": "x", "body": "hi"}, headers=auth(session)).get_json()
    agent_says(client, standin, sent["conversation"]["id"], "no address to write to", "a1")
    _, conversation_id = shopper_with_address(client, standin, email="anna@example.com")
    client.post(
        f"/admin/api/conversations/{conversation_id}/messages",
        json={"client_id": "n1", "body": "internal", "internal": True},
        headers=bearer(standin),
    )
    with services.db.session() as session_:
        assert session_.exec(select(Outbox).where(Outbox.kind == "reply")).all() == []


def test_unsubscribing_takes_one_click_and_stops_what_is_queued(world, standin, smtp, clock):
    client, services, _ = world
    _session, conversation_id = shopper_with_address(client, standin)
    agent_says(client, standin, conversation_id, "first", "a1")
    clock.advance(timedelta(minutes=4))
    services.notify.outbox.run_due()
    url = re.fullmatch(r"<(.+)>", smtp.received[0].message["List-Unsubscribe"]).group(1)
    path = urlsplit(url).path
    asked = client.get(path)  # a link scanner's GET changes nothing
    assert asked.status_code == 200 and b'method="post"' in asked.data
    with services.db.session() as s:
        assert s.exec(select(Visitor.unsubscribed_at).where(Visitor.contact_email == "mari@example.com")).one() is None
    agent_says(client, standin, conversation_id, "second, queued before the click", "a2")
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Sellest vestlusest sulle enam kirju ei tule." in done.get_data(as_text=True)
    clock.advance(timedelta(minutes=10))
    services.notify.outbox.run_due()
    agent_says(client, standin, conversation_id, "third, after", "a3")
    clock.advance(timedelta(minutes=10))
    services.notify.outbox.run_due()
    assert len(smtp.received) == 1
    assert client.get("/u/forged-token").status_code == 404


def test_an_expired_link_offers_a_fresh_one_and_a_forged_one_says_it_is_not_ours(world, standin, smtp, clock):
    client, services, _ = world
    _session, conversation_id = shopper_with_address(client, standin)
    agent_says(client, standin, conversation_id, "here you go", "a1")
    clock.advance(timedelta(minutes=4))
    services.notify.outbox.run_due()
    resume_path = urlsplit(
        re.search(r"http://parley\.test/r/\S+", smtp.received[0].message.get_body(("plain",)).get_content()).group(0)
    ).path

    clock.advance(timedelta(days=31))
    expired = client.get(resume_path)
    page = expired.get_data(as_text=True)
    assert expired.status_code == 410
    assert "See link ei ava enam vestlust." in page and f'action="{resume_path}/renew"' in page
    assert expired.headers["Referrer-Policy"] == "no-referrer"
    renewed = client.post(f"{resume_path}/renew")
    assert renewed.status_code == 200 and "Uus link on teel" in renewed.get_data(as_text=True)
    client.post(f"{resume_path}/renew")  # asking twice in a row queues one
    assert services.notify.outbox.run_due() == {"sent": 1}
    fresh = re.search(r"http://parley\.test/r/\S+", smtp.received[-1].message.get_body(("plain",)).get_content()).group(
        0
    )
    assert client.get(urlsplit(fresh).path).status_code == 302

    forged = client.get("/r/not-a-token-we-made")
    assert forged.status_code == 404 and b"renew" not in forged.data


def test_a_revoked_link_no_longer_hands_over_the_conversation(world, standin, smtp, clock):
    client, services, _shop_id = world
    _session, conversation_id = shopper_with_address(client, standin)
    agent_says(client, standin, conversation_id, "hi", "a1")
    clock.advance(timedelta(minutes=4))
    services.notify.outbox.run_due()
    with services.db.transaction() as s:
        [link] = s.exec(select(ResumeLink)).all()
        token = services.notify.tokens.resume_token(link.id)
        visitor_id = link.visitor_id
        assert services.notify.shoppers.revoke_links(s, visitor_id, clock()) == 1
    assert client.get(f"/r/{token}").status_code == 410
    elsewhere = start(client, standin)
    refused = client.post(f"{API}/resume", json={"token": token}, headers=auth(elsewhere))
    assert (refused.status_code, refused.get_json()["error"]) == (410, "revoked_link")
    assert client.post(f"{API}/resume", json={"token": "forged"}, headers=auth(elsewhere)).status_code == 404


@pytest.mark.parametrize(
    "body, status, error",
    [
        ({"email": "mari@example.com"}, 400, "consent_required"),
        ({"email": "not an address", "consent": True}, 400, "invalid_email"),
        ({"email": "x" * 400 + "@example.com", "consent": True}, 400, "invalid_email"),
        ({"email": ["mari@example.com"], "consent": True}, 400, "invalid_email"),
    ],
)
def test_a_bad_address_or_no_consent_gets_400_and_stores_nothing(world, standin, body, status, error):
    client, services, _ = world
    session = start(client, standin)
    answer = client.post(f"{API}/contact", json=body, headers=auth(session))
    assert (answer.status_code, answer.get_json()["error"]) == (status, error)
    with services.db.session() as s:
        assert s.exec(select(Visitor.contact_email)).all() == [None]
