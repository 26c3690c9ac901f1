"""What a message wants besides its topic: a person, to complain, or its order."""

from __future__ import annotations

import pytest

from app.answers.intents import asks_for_person, asks_order_status, detect, is_complaint, order_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("where is my order #1001", "1001"),
        ("order 1052 still says processing?", "1052"),
        ("tellimus 10234 pole siiani kohal", "10234"),
        ("tellimus nr 10199 kas on teele läinud", "10199"),
        ("zamówienie nr 48213 jeszcze nie doszło", "48213"),
        ("zamowienie 48213", "48213"),
        ("заказ 20415 до сих пор не пришел", "20415"),
        ("какой статус заказа №20433", "20433"),
        ("заказ номер 20415", "20415"),
        ("הזמנה 5521 עוד לא הגיעה", "5521"),
        ("מה הסטטוס של הזמנה מספר 5530", "5530"),
        ("طلب رقم 3345 ما وصل", "3345"),
        ("الطلب ٣٣٥٠ وين", "3350"),
        ("ابي اعرف حالة الطلب #3350", "3350"),
    ],
)
def test_order_numbers_are_found_in_six_languages(text, number):
    assert order_number(text) == number
    assert detect(text).order_status


@pytest.mark.parametrize(
    "text",
    ["size 38", "what size should i get im usually a 12", "rost 165", "jalg 39", "kam 200 درهم", "call 01225 555 014"],
)
def test_numbers_that_are_not_orders_are_not_order_numbers(text):
    assert order_number(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "where is my order",
        "my parcel hasnt arrived yet",
        "kus mu tellimus on",
        "minu pakk ei ole nädal aega tulnud",
        "איפה ההזמנה שלי",
        "החבילה לא הגיעה כבר שבועיים",
        "وين طلبي",
        "الطلب متاخر ثلاث ايام",
        "gdzie jest moja paczka",
        "paczka nie dotarla",
        "где мой заказ",
        "gde moi zakaz",
        "посылка потерялась",
    ],
)
def test_where_is_my_order_in_six_languages(text):
    assert asks_order_status(text)


@pytest.mark.parametrize(
    "text",
    [
        "can i talk to a real person",
        "human please",
        "kas saaks inimesega rääkida",
        "אפשר לדבר עם נציג",
        "אני רוצה לדבר עם בן אדם",
        "ابي اكلم موظف",
        "ممكن اتكلم مع شخص حقيقي",
        "chce rozmawiac z konsultantem",
        "позовите оператора",
        "можно поговорить с человеком",
    ],
)
def test_asking_for_a_person_in_six_languages(text):
    assert asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "worst service ever, nobody answers my emails",
        "really disappointed",
        "sain vale värvi sokid, väga pettunud",
        "קיבלתי שרשרת שבורה, ממש מאוכזבת",
        "خدمة سيئة جدا",
        "وصلني العطر مكسور",
        "skandal, tydzien czekam",
        "jestem wsciekla, oszusci",
        "ужасный сервис",
        "я очень недовольна",
    ],
)
def test_complaints_in_six_languages(text):
    assert is_complaint(text)


@pytest.mark.parametrize(
    "text",
    [
        "how long does shipping take",
        "i put the wrong address can i change it",
        "kuidas teiega ühendust võtta",
        "kas saab pangalingiga maksta",
        "כמה עולה המשלוח",
        "كيف اتواصل مع خدمة العملاء",
        "jak sie z wami skontaktowac",
        "jak zlozyc reklamacje",
        "сколько стоит доставка",
        "when wil it arive if i order today",
    ],
)
def test_ordinary_questions_want_nothing_but_an_answer(text):
    assert not detect(text).any
