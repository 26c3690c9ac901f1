"""The shop's answers as stored: written, listed, changed, removed, imported and
re-imported, with a clear 4xx for every bad input and nothing stored lost. On SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.answers.assistant import Assistant, language_of
from app.answers.decide import Action
from app.answers.importer import ImportRecord, import_answers
from app.answers.store import (
    answer_json,
    create_answer,
    delete_answer,
    enabled_answers,
    list_answers,
    update_answer,
)
from app.errors import ParleyError
from app.models import Answer, Shop

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DELIVERY = {"language": "en", "question": "How long does delivery take?", "answer": "2–3 working days."}


@pytest.fixture
def shops(db):
    with db.transaction() as session:
        mine, other = Shop(domain="mine.myshopify.com"), Shop(domain="other.myshopify.com")
        session.add_all([mine, other])
        session.flush()
        return mine.id, other.id


def test_an_answer_is_written_listed_changed_and_removed(db, shops):
    shop_id, _ = shops
    with db.transaction() as session:
        created = create_answer(
            session,
            shop_id,
            {**DELIVERY, "alternatives": ["Delivery times", " ", "Delivery times"], "answer": "<b>2–3</b> days"},
            NOW,
        )
        answer_id = created.id
    with db.session() as session:
        [stored] = list_answers(session, shop_id, "en")
        assert answer_json(stored) | {"id": None} == {
            "id": None,
            "language": "en",
            "question": "How long does delivery take?",
            "alternatives": ["Delivery times"],
            "answer": "2–3 days",
            "source": "manual",
            "source_id": None,
            "enabled": True,
            "created_at": "2026-12-01T12:00:00Z",
            "updated_at": "2026-12-01T12:00:00Z",
        }
    with db.transaction() as session:
        changed = update_answer(
            session, shop_id, answer_id, {"answer": "Next day.", "enabled": False}, NOW + timedelta(1)
        )
        assert (changed.answer, changed.enabled, changed.question) == (
            "Next day.",
            False,
            "How long does delivery take?",
        )
    with db.session() as session:
        assert enabled_answers(session, shop_id, "en") == []
        assert list_answers(session, shop_id, "et") == []
    with db.transaction() as session:
        delete_answer(session, shop_id, answer_id)
    with db.session() as session:
        assert list_answers(session, shop_id) == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ("not an object", "body", "Send the answer as a JSON object"),
        ({**DELIVERY, "language": "English"}, "language", 'The language must be a language code like "en" or "et"'),
        ({**DELIVERY, "question": "   "}, "question", "Write the question shoppers ask"),
        ({**DELIVERY, "question": "<p></p>"}, "question", "Write the question shoppers ask"),
        ({**DELIVERY, "question": "x" * 301}, "question", "The question is too long: keep it under 300 characters"),
        ({**DELIVERY, "answer": 42}, "answer", "Write the answer the assistant gives"),
        ({**DELIVERY, "answer": "<script>x</script>"}, "answer", "Write the answer the assistant gives"),
        ({**DELIVERY, "answer": "x" * 4001}, "answer", "The answer is too long: keep it under 4000 characters"),
        ({**DELIVERY, "alternatives": "Delivery"}, "alternatives", "Other ways to ask must be a list of questions"),
        (
            {**DELIVERY, "alternatives": [f"q{n}" for n in range(21)]},
            "alternatives",
            "Give at most 20 other ways to ask",
        ),
        ({**DELIVERY, "enabled": "yes"}, "enabled", "enabled must be true or false"),
        ({**DELIVERY, "colour": "red"}, "colour", "colour is not a part of an answer"),
        (
            {"question": "How long?", "answer": "2 days"},
            "language",
            'The language must be a language code like "en" or "et"',
        ),
    ],
)
def test_bad_input_gets_a_clear_400_and_stores_nothing(db, shops, data, field, message):
    shop_id, _ = shops
    with pytest.raises(ParleyError) as refused, db.transaction() as session:
        create_answer(session, shop_id, data, NOW)
    assert (refused.value.status, refused.value.code, refused.value.field) == (400, "invalid_answer", field)
    assert refused.value.message == message
    with db.session() as session:
        assert list_answers(session, shop_id) == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"question": None}, "question", "Write the question shoppers ask"),
        ({"answer": ""}, "answer", "Write the answer the assistant gives"),
        ({"source": "shopify_page"}, "source", "source is not a part of an answer"),
        ([], "body", "Send the answer as a JSON object"),
    ],
)
def test_a_bad_change_keeps_the_answer_as_it_was(db, shops, data, field, message):
    shop_id, _ = shops
    with db.transaction() as session:
        answer_id = create_answer(session, shop_id, DELIVERY, NOW).id
    with pytest.raises(ParleyError) as refused, db.transaction() as session:
        update_answer(session, shop_id, answer_id, data, NOW)
    assert (refused.value.status, refused.value.field, refused.value.message) == (400, field, message)
    with db.session() as session:
        [kept] = list_answers(session, shop_id)
        assert (kept.question, kept.answer) == (DELIVERY["question"], DELIVERY["answer"])


def test_another_shops_answer_is_not_found(db, shops):
    shop_id, other_id = shops
    with db.transaction() as session:
        answer_id = create_answer(session, other_id, DELIVERY, NOW).id
    for attempt in (
        lambda session: update_answer(session, shop_id, answer_id, {"answer": "mine now"}, NOW),
        lambda session: delete_answer(session, shop_id, answer_id),
        lambda session: delete_answer(session, shop_id, 999999),
    ):
        with pytest.raises(ParleyError) as refused, db.transaction() as session:
            attempt(session)
        assert (refused.value.status, refused.value.code) == (404, "answer_not_found")
    with db.session() as session:
        assert [a.answer for a in list_answers(session, other_id)] == [DELIVERY["answer"]]


def test_listing_in_a_malformed_language_is_a_400(db, shops):
    with pytest.raises(ParleyError) as refused, db.session() as session:
        list_answers(session, shops[0], "en-GB; drop")
    assert (refused.value.status, refused.value.code) == (400, "invalid_language")


POLICIES = [
    ImportRecord("shopify_policy", "refund", "en", "Refund policy", "<p>Return within <b>30 days</b>.</p>"),
    ImportRecord("shopify_policy", "shipping", "en", "Shipping policy", "We ship in 2 days."),
    ImportRecord("shopify_page", "gid://shopify/Page/1", "en", "Sizes", "Our knitwear runs large."),
]


def test_a_re_import_reports_what_changed(db, shops):
    shop_id, _ = shops
    with db.transaction() as session:
        create_answer(session, shop_id, DELIVERY, NOW)  # the merchant's own: never touched
        first = import_answers(session, shop_id, POLICIES, NOW, sources=["shopify_policy", "shopify_page"])
    assert first.as_json() == {
        "added": ["Refund policy", "Shipping policy", "Sizes"],
        "updated": [],
        "unchanged": [],
        "removed": [],
        "skipped": [],
        "shortened": [],
    }
    with db.transaction() as session:
        [refund] = [a for a in list_answers(session, shop_id) if a.source_id == "refund"]
        assert refund.answer == "Return within 30 days."
        update_answer(session, shop_id, refund.id, {"alternatives": ["Can I send it back?"]}, NOW)
    again = [
        ImportRecord("shopify_policy", "refund", "en", "Refund policy", "<p>Return within <b>60 days</b>.</p>"),
        POLICIES[1],
        ImportRecord("shopify_policy", "privacy", "en", "Privacy policy", ""),
        ImportRecord("shopify_policy", "terms", "en", "Terms of service", "Terms. " * 1000),
    ]
    with db.transaction() as session:
        second = import_answers(session, shop_id, again, NOW + timedelta(1), sources=["shopify_policy", "shopify_page"])
    assert second.as_json() == {
        "added": ["Terms of service"],
        "updated": ["Refund policy"],
        "unchanged": ["Shipping policy"],
        "removed": ["Sizes"],
        "skipped": [{"title": "Privacy policy", "reason": "has no text"}],
        "shortened": ["Terms of service"],
    }
    with db.session() as session:
        stored = {a.source_id: a for a in list_answers(session, shop_id)}
        assert set(stored) == {None, "refund", "shipping", "terms"}
        assert stored[None].answer == DELIVERY["answer"]
        assert stored["refund"].answer == "Return within 60 days."
        assert stored["refund"].alternatives == ["Can I send it back?"]  # the merchant's phrasings kept
        assert len(stored["terms"].answer) <= 4000 and stored["terms"].answer.endswith("…")
    with db.transaction() as session:
        third = import_answers(session, shop_id, again, NOW + timedelta(2), sources=["shopify_policy", "shopify_page"])
    assert (third.added, third.updated, third.removed) == ([], [], [])
    assert third.unchanged == ["Refund policy", "Shipping policy", "Terms of service"]


def test_an_import_from_an_unknown_source_is_refused(db, shops):
    with pytest.raises(ParleyError) as refused, db.transaction() as session:
        import_answers(session, shops[0], [ImportRecord("manual", "x", "en", "t", "b")], NOW)
    assert (refused.value.status, refused.value.code) == (400, "invalid_source")


def test_records_named_twice_or_without_an_id_are_skipped(db, shops):
    records = [POLICIES[0], POLICIES[0], ImportRecord("saleor_page", "", "en", "No id", "text")]
    with db.transaction() as session:
        report = import_answers(session, shops[0], records, NOW, sources=["shopify_policy", "saleor_page"])
    assert report.added == ["Refund policy"]
    assert report.skipped == [("Refund policy", "is listed twice"), ("No id", "has no usable id or language")]


def test_the_assistant_answers_from_the_stored_list_and_refits_after_an_edit(db, shops):
    shop_id, _ = shops
    assistant = Assistant()
    with db.session() as session:
        assert assistant.reply(
            session, shop_id, "how long is delivery", "en-GB", team_in=False, mode="always"
        ).reason == ("no answers")
    with db.transaction() as session:
        answer_id = create_answer(session, shop_id, DELIVERY, NOW).id
        create_answer(session, shop_id, {**DELIVERY, "question": "Do you sell gift cards?", "answer": "Yes."}, NOW)
    with db.session() as session:
        decision = assistant.reply(session, shop_id, "how long is delivery", "en-GB", team_in=False, mode="always")
        assert (decision.action, decision.answer_id, decision.text) == (Action.answer, answer_id, "2–3 working days.")
        assert assistant.preview(session, shop_id, "how long is delivery", "en").action is Action.answer
        assert assistant.reply(
            session, shop_id, "how long is delivery", "en", team_in=True, mode="after_hours"
        ).action is (Action.silent)
    with db.transaction() as session:
        update_answer(session, shop_id, answer_id, {"answer": "Next working day."}, NOW)
    with db.session() as session:
        assert assistant.reply(session, shop_id, "how long is delivery", "en", team_in=False, mode="always").text == (
            "Next working day."
        )


def test_a_locale_reads_as_its_language():
    assert [language_of(x) for x in ("et-EE", "he_IL", "AR", "", None, 5)] == ["et", "he", "ar", "en", "en", "en"]


def test_answers_go_with_their_shop(db, shops):
    shop_id, _ = shops
    with db.transaction() as session:
        create_answer(session, shop_id, DELIVERY, NOW)
    with db.transaction() as session:
        session.delete(session.get(Shop, shop_id))
    with db.session() as session:
        assert session.exec(select(Answer).where(Answer.shop_id == shop_id)).all() == []
