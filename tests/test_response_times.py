"""How long the team usually takes, from the shop's own answers: the median first response
of the same hour of the week, and nothing when there is too little to go on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.chat.response_times import MIN_SAMPLES, ReplyTimes, typical_reply_minutes
from app.models import Conversation, Visitor

TUESDAY_10 = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)


def seed(db, shop_id: int, started: datetime, minutes: float) -> None:
    with db.transaction() as session:
        visitor = Visitor(shop_id=shop_id)
        session.add(visitor)
        session.flush()
        session.add(
            Conversation(
                shop_id=shop_id,
                visitor_id=visitor.id,
                created_at=started,
                first_response_at=started + timedelta(minutes=minutes),
            )
        )


def test_the_median_of_the_same_hour_of_the_week_and_none_with_too_few(services, shop_id):
    db = services.db
    for week, minutes in enumerate([4, 6, 9, 12, 40]):  # five Tuesdays at 10:xx
        seed(db, shop_id, TUESDAY_10 - timedelta(weeks=week + 1, minutes=5), minutes)
    seed(db, shop_id, TUESDAY_10 - timedelta(days=1), 600)  # Monday: another hour of the week
    seed(db, shop_id, TUESDAY_10 - timedelta(weeks=20), 1)  # too old to count
    with db.session() as session:
        assert typical_reply_minutes(session, shop_id, TUESDAY_10) == 9
        assert typical_reply_minutes(session, shop_id, TUESDAY_10 + timedelta(hours=1)) is None
    assert MIN_SAMPLES == 5


def test_the_figure_is_remembered_for_a_while(services, shop_id):
    times = ReplyTimes(ttl=timedelta(minutes=15))
    with services.db.session() as session:
        assert times.minutes(session, shop_id, TUESDAY_10) is None
    for week in range(5):
        seed(services.db, shop_id, TUESDAY_10 - timedelta(weeks=week + 1), 7)
    with services.db.session() as session:
        assert times.minutes(session, shop_id, TUESDAY_10 + timedelta(minutes=5)) is None  # still the cached figure
        assert times.minutes(session, shop_id, TUESDAY_10 + timedelta(minutes=30)) == 7
