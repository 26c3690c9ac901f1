"""The Support page's notification API (issue 13) on SQLite and PostgreSQL: the inbox sorted
by when each first answer is due, a page at a time with a keyset cursor (nothing skipped,
nothing twice, the answered ones last); the unread count the title shows; the rows a live
inbox asks for after an event (this shop's only); bounces in the settings answer; an emptied
alert list staying empty; and the Saleor alert link being an absolute Dashboard URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.chat.shop_settings import put_setting
from app.models import Conversation, Platform, Shop
from tests.support.shoppers import shopper_writes
from tests.support.shops import SHOP, bearer, install

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def get(client, standin, path: str):
    return client.get(path, headers=bearer(standin))


def due(services, conversation_id: str, when: datetime | None) -> None:
    with services.db.transaction() as session:
        conversation = session.get(Conversation, conversation_id)
        conversation.due_at = when
        session.add(conversation)


def test_the_inbox_sorted_by_due_time_pages_through_every_conversation_once(app, client, standin, clock):
    clock.set(NOON)
    services = app.extensions["parley"]
    install(services)
    ids = [shopper_writes(client, standin, SHOP, f"question {n}")["conversation"]["id"] for n in range(7)]
    # Two share a due time (the id breaks the tie); two have nothing due (answered).
    plan = [30, -5, 12, None, 12, None, 60]
    for conversation_id, minutes in zip(ids, plan, strict=True):
        due(services, conversation_id, None if minutes is None else NOON + timedelta(minutes=minutes))

    seen, cursor = [], None
    while True:
        query = "tab=open&sort=due&limit=2" + (f"&cursor={cursor}" if cursor else "")
        answer = get(client, standin, f"/admin/api/inbox?{query}")
        assert answer.status_code == 200, answer.get_json()
        page = answer.get_json()
        seen += page["conversations"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    order = [row["id"] for row in seen]
    tied = sorted([ids[2], ids[4]])
    undue = sorted([ids[3], ids[5]])
    assert order == [ids[1], *tied, ids[0], ids[6], *undue]
    first = seen[0]
    assert datetime.fromisoformat(first["due_at"]) == NOON - timedelta(minutes=5)
    assert first["due_seconds"] == -300
    assert seen[-1]["due_at"] is None and seen[-1]["due_seconds"] is None


def test_a_sort_the_inbox_does_not_know_is_a_400(app, client, standin):
    install(app.extensions["parley"])
    answer = get(client, standin, "/admin/api/inbox?sort=cart")
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "invalid_sort", "message": "sort must be one of recent, due"}


def test_unread_counts_open_conversations_with_unread_messages(app, client, standin):
    services = app.extensions["parley"]
    shop_id = install(services)
    assert get(client, standin, "/admin/api/notifications/unread").get_json() == {"conversations": 0, "messages": 0}
    first = shopper_writes(client, standin, SHOP, "one")
    shopper_writes(client, standin, SHOP, "two")
    resolved = shopper_writes(client, standin, SHOP, "three")
    services.chat.set_status(shop_id, resolved["conversation"]["id"], "resolved")
    assert get(client, standin, "/admin/api/notifications/unread").get_json() == {"conversations": 2, "messages": 2}
    read = client.post(
        f"/admin/api/conversations/{first['conversation']['id']}/read",
        json={"up_to": first["message"]["id"]},
        headers=bearer(standin),
    )
    assert read.status_code == 204
    assert get(client, standin, "/admin/api/notifications/unread").get_json() == {"conversations": 1, "messages": 1}


def test_inbox_rows_answers_this_shops_rows_only_and_refuses_a_bad_list(app, client, standin):
    services = app.extensions["parley"]
    install(services)
    install(services, "other-shop.myshopify.com")
    standin.add_shop("other-shop.myshopify.com")
    mine = shopper_writes(client, standin, SHOP, "mine")["conversation"]["id"]
    theirs = shopper_writes(client, standin, "other-shop.myshopify.com", "theirs")["conversation"]["id"]
    answer = get(client, standin, f"/admin/api/inbox/rows?ids={mine},{theirs},nothing")
    assert answer.status_code == 200
    [row] = answer.get_json()["conversations"]
    assert row["id"] == mine and row["preview"] == "mine" and row["unread"] == 1
    for bad in ("", "?ids=", "?ids=" + ",".join(["x"] * 21), "?ids=" + "y" * 37):
        refused = get(client, standin, f"/admin/api/inbox/rows{bad}")
        assert refused.status_code == 400
        assert refused.get_json()["error"] == "invalid_ids"


def test_the_settings_answer_shows_bounces_and_an_emptied_list_stays_empty(app, client, standin, clock):
    clock.set(NOON)
    services = app.extensions["parley"]
    shop_id = install(services)
    with services.db.transaction() as session:
        put_setting(session, shop_id, "notification_email", "old@fjord.test", NOON)  # the older single address
        put_setting(session, shop_id, "notify.alert_bounces", ["old@fjord.test"], NOON)
    shown = get(client, standin, "/admin/api/notifications").get_json()
    assert shown["notifications"]["alert_emails"] == ["old@fjord.test"]
    assert shown["bounces"] == ["old@fjord.test"]

    emptied = client.put("/admin/api/notifications", json={"alert_emails": []}, headers=bearer(standin))
    assert emptied.status_code == 200
    assert emptied.get_json()["notifications"]["alert_emails"] == []
    assert emptied.get_json()["bounces"] == []
    assert get(client, standin, "/admin/api/notifications").get_json()["notifications"]["alert_emails"] == []


def test_a_saleor_alert_links_into_the_dashboard_with_an_absolute_url(app):
    saleor = app.extensions["parley"].saleor
    shop = Shop(platform=Platform.saleor, domain="https://fjord.saleor.cloud/graphql/", app_id="QXBwOjE2", name="Fjord")
    link = saleor.admin_link(shop, "c0ffee00-1234")
    # saleor-dashboard src/extensions/urls.ts: /extensions/app/<encoded id><sub path>, under /dashboard.
    assert link == "https://fjord.saleor.cloud/dashboard/extensions/app/QXBwOjE2/conversations/c0ffee00-1234"
    assert saleor.admin_link(Shop(platform=Platform.saleor, domain="https://x.test/graphql/", app_id="a/b="), "c") == (
        "https://x.test/dashboard/extensions/app/a%2Fb%3D/conversations/c"
    )
    # Inside the Dashboard the redirect action takes a Dashboard path, as before.
    assert saleor.dashboard_path(shop, "c1") == "/apps/QXBwOjE2/app/conversations/c1"
    assert saleor.admin_link(Shop(platform=Platform.saleor, domain="not a url", app_id="x"), "c") is None


def test_a_saleor_shops_alert_e_mail_carries_the_absolute_dashboard_link(mail_app, smtp, clock, saleor_keys):
    from urllib.parse import quote

    from tests.support.saleor_tokens import API_A, APP_A, install_saleor, saleor_shopper_writes

    clock.set(NOON)
    services = mail_app.extensions["parley"]
    shop_id = install_saleor(services, API_A, APP_A, saleor_keys["a"])
    with services.db.transaction() as session:
        put_setting(session, shop_id, "notify.alert_emails", ["team@saleor-shop.test"], NOON)
    sent = saleor_shopper_writes(mail_app.test_client(), API_A, "Do you ship to Riga?")
    clock.advance(timedelta(minutes=4))
    assert services.notify.outbox.run_due() == {"sent": 1}
    [mail] = smtp.received
    text = mail.message.get_body(("plain",)).get_content()
    link = f"http://127.0.0.1:9/dashboard/extensions/app/{quote(APP_A, safe='')}/conversations/{sent['conversation']['id']}"
    assert link in text
