"""Insights on the shop's assistant and on first-response targets, with exact counts, through
/admin/api/insights on SQLite and PostgreSQL: answered, marked helpful, handed over (by
reason), resolved without a human, the answers most often handed over; and per channel
(chat, e-mail) the share of first responses within the target, after hours included."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.chat.shop_settings import put_setting
from app.models import Answer, AuthorKind, Conversation, ConversationStatus, Message, Visitor
from tests.support.shops import SHOP, bearer, install

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOVEMBER = "from=2026-11-01&to=2026-11-30"
WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) if day > 0 else datetime(2026, 10, 20, hour, tzinfo=UTC)


@pytest.fixture
def shop(services, clock):
    clock.set(NOW)
    shop_id = install(services, SHOP)
    with services.db.transaction() as session:
        put_setting(session, shop_id, "hours", {"timezone": "UTC", "weekly": WEEKDAYS}, NOW)
        answers = []
        for question in ("How long does shipping take?", "Can I return an item?"):
            answer = Answer(shop_id=shop_id, language="en", question=question, alternatives=[], answer="…")
            session.add(answer)
            session.flush()
            answers.append(answer.id)
    return shop_id, answers


def conversation(
    services,
    shop_id: int,
    started: datetime,
    *,
    channel: str = "chat",
    bot: list[dict] = (),
    agent_after: timedelta | None = None,
    handed_over: tuple[datetime, str] | None = None,
    waiting: bool = True,
) -> None:
    """One conversation as the chat leaves it: the shopper's first message, the assistant's
    messages (their meta), a person's first reply after `agent_after`."""
    with services.db.transaction() as session:
        visitor = Visitor(shop_id=shop_id)
        session.add(visitor)
        session.flush()
        talk = Conversation(shop_id=shop_id, visitor_id=visitor.id, created_at=started, last_message_at=started)
        session.add(talk)
        session.flush()

        def message(kind: AuthorKind, when: datetime, meta=None, via: str = "chat") -> None:
            session.add(
                Message(
                    shop_id=shop_id,
                    conversation_id=talk.id,
                    author_kind=kind,
                    body="…",
                    client_id=str(uuid.uuid4()),
                    channel=via,
                    meta=meta,
                    created_at=when,
                )
            )

        message(AuthorKind.shopper, started, via=channel)
        for n, meta in enumerate(bot):
            message(AuthorKind.bot, started + timedelta(seconds=n + 1), meta)
        if handed_over:
            talk.handed_over_at, talk.handoff_reason = handed_over
        if agent_after is not None:
            message(AuthorKind.agent, started + agent_after)
            talk.first_response_at = started + agent_after
            talk.status = ConversationStatus.open
        talk.waiting_since = started if waiting and agent_after is None else None
        session.add(talk)


def answered(answer_id, feedback=None) -> dict:
    return {"answer_id": answer_id, "confidence": 0.9, "in_reply_to": 1, "feedback": feedback}


def test_assistant_and_first_response_figures_with_exact_counts(client, services, standin, shop):
    shop_id, (shipping, returns) = shop
    # c1: answered, marked helpful, nobody of the team needed: resolved without a human.
    conversation(services, shop_id, at(2, 10), bot=[answered(shipping, "helpful")], waiting=False)
    # c2: answered, the shopper asked for a person, handed over, a person answered in 10 min.
    conversation(
        services,
        shop_id,
        at(3, 10),
        bot=[answered(shipping, "handover"), {"handover": "asked for a person"}],
        handed_over=(at(3, 10, 5), "asked for a person"),
        agent_after=timedelta(minutes=10),
    )
    # c3: not sure: handed over; a person answered in 20 min.
    conversation(
        services,
        shop_id,
        at(4, 10),
        bot=[{"handover": "not sure"}],
        handed_over=(at(4, 10, 1), "not sure"),
        agent_after=timedelta(minutes=20),
    )
    # c4: the order's status, marked helpful, but a person wrote too (45 min: late).
    conversation(
        services,
        shop_id,
        at(5, 10),
        bot=[{**answered("order_status", "helpful"), "order_status": "found", "orders": ["#1001"]}],
        agent_after=timedelta(minutes=45),
    )
    # c5: by e-mail, answered after 40 min: late.
    conversation(services, shop_id, at(6, 10), channel="email", agent_after=timedelta(minutes=40))
    # c6: answered by the assistant (no verdict), nobody of the team yet: waiting past its target.
    conversation(services, shop_id, at(9, 10), bot=[answered(returns)])
    # c7: by e-mail on a Saturday; the team answered at 09:20 on Monday: within (due 09:30).
    conversation(services, shop_id, at(7, 12), channel="email", agent_after=at(9, 9, 20) - at(7, 12))
    # Outside the period: counts nowhere.
    conversation(
        services, shop_id, at(0, 10), bot=[answered(shipping, "handover")], handed_over=(at(0, 11), "not sure")
    )

    response = client.get(f"/admin/api/insights?{NOVEMBER}", headers=bearer(standin))
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert body["assistant"] == {
        "answered": 4,
        "order_status": 1,
        "helpful": 2,
        "asked_for_person": 1,
        "handed_over": 2,
        "handover_reasons": {"asked for a person": 1, "not sure": 1},
        "conversations": 7,
        "resolved_without_human": 1,
        "resolved_share": 0.1429,
        "most_handed_over": [
            {
                "answer_id": shipping,
                "question": "How long does shipping take?",
                "language": "en",
                "given": 2,
                "handed_over": 1,
            }
        ],
    }
    assert body["first_response_target"] == {
        "minutes": 30,
        "channels": [
            {"channel": "chat", "answered": 3, "within": 2, "waiting_past": 1, "share": 0.6667},
            {"channel": "email", "answered": 2, "within": 1, "waiting_past": 0, "share": 0.5},
        ],
    }


def test_an_empty_period_has_no_shares_rather_than_a_division_by_zero(client, standin, shop):
    body = client.get("/admin/api/insights?from=2026-06-01&to=2026-06-30", headers=bearer(standin)).get_json()
    assert body["assistant"]["conversations"] == 0 and body["assistant"]["resolved_share"] is None
    assert [c["share"] for c in body["first_response_target"]["channels"]] == [None, None]
