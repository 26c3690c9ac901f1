"""'Where is my order?' answered from the platform, never from text, and only to someone
who has shown the order is theirs.

- A **signed-in** customer (the platform vouched for them: Shopify's app proxy signature,
  a verified Saleor token) gets their recent orders: number, date, how far delivery got,
  and the tracking link.
- An **anonymous** shopper is asked for the order number and the order's e-mail address.
  Both must match. A wrong address gets exactly the reply a missing order gets (no
  oracle: the reply never says whether a number exists), and tries are limited per
  visitor and per address (attempts.py); past the limit a person takes over.

The platforms are reached through `OrderLookup` (the composition root hands in one that
routes by shop to the platform adapters), so this module knows no platform.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from babel.core import UnknownLocaleError
from babel.dates import format_date

from app.answers.normalize import fold
from app.answers.plain_text import safe_link
from app.models import Shop

# An e-mail address as shoppers type it into a chat: loose on purpose, it only has to
# find the address; the platform's record decides whether it is the order's.
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']{1,64}@[^\s@<>()\[\],;:\"']{1,253}\.[^\s@<>()\[\],;:\"'.]{2,63}")
# An order number once the talk is about an order: "1001", "#1001"; "#7" too (a new
# Saleor counts its orders from 1).
_NUMBER = re.compile(r"#\s*(\d{1,12})(?![\d@])|(?<![\d@.#])(\d{3,12})(?![\d@])")

RECENT = 3
# Meta of the assistant's order-status messages: what it is waiting for, what it found.
ASKED = "ask_proof"
NOT_FOUND = "not_found"
FOUND = "found"
NONE_YET = "no_orders"
AWAITING = {ASKED, NOT_FOUND}


@dataclass(frozen=True)
class Tracking:
    number: str | None = None
    url: str | None = None
    company: str | None = None


@dataclass(frozen=True)
class OrderRecord:
    """One order as a platform gives it. `email` is only for the proof check; it is never
    shown, stored or logged."""

    number: str  # as the shop names it: "#1001", "1001"
    created_at: datetime | None
    # Shopify's displayFulfillmentStatus, or Saleor's order status (FULFILLED, UNFULFILLED, …).
    fulfillment: str | None
    tracking: tuple[Tracking, ...] = ()
    status_url: str | None = None
    email: str | None = None


class LookupUnavailable(Exception):
    """The platform could not be asked (down, throttled, token refused): a person takes over."""


class OrderLookup(Protocol):
    def recent_orders(self, shop: Shop, customer_id: str, limit: int) -> Sequence[OrderRecord]:
        """The signed-in customer's newest orders; raise LookupUnavailable when the platform fails."""
        ...

    def find_order(self, shop: Shop, number: str) -> OrderRecord | None:
        """The shop's order with this number (its e-mail included), or None."""
        ...


def email_in(text: str) -> str | None:
    found = _EMAIL.search(text)
    return found.group(0).rstrip(".") if found else None


def number_in(text: str) -> str | None:
    """A bare order number (the shopper answers our question with one)."""
    found = _NUMBER.search(fold(_EMAIL.sub(" ", text)))
    return (found.group(1) or found.group(2)) if found else None


def same_number(asked: str, order: OrderRecord) -> bool:
    return asked.lstrip("#").strip() == order.number.lstrip("#").strip()


def same_email(given: str, order: OrderRecord) -> bool:
    """Case-insensitive, and compared in constant time so timing says nothing either."""
    if not order.email:
        return False
    return hmac.compare_digest(given.strip().casefold().encode(), order.email.strip().casefold().encode())


# -- the words, in the widget's six languages -----------------------------------------------

ASK_PROOF = {
    "en": "I can look up your order. Please write the order number and the e-mail address you ordered with "
    "(for example: 1001 name@example.com).",
    "et": "Saan su tellimuse üles otsida. Kirjuta palun tellimuse number ja e-posti aadress, millega tellisid "
    "(näiteks: 1001 nimi@example.com).",
    "pl": "Mogę sprawdzić Twoje zamówienie. Napisz numer zamówienia i adres e-mail, którego użyto przy zamówieniu "
    "(na przykład: 1001 imie@example.com).",
    "ru": "Я могу найти ваш заказ. Напишите номер заказа и адрес электронной почты, с которым вы оформляли заказ "
    "(например: 1001 name@example.com).",
    "he": "אוכל לבדוק את ההזמנה שלך. כתבו בבקשה את מספר ההזמנה ואת כתובת האימייל שאיתה הזמנתם "
    "(לדוגמה: 1001 name@example.com).",
    "ar": "يمكنني البحث عن طلبك. اكتب رقم الطلب وعنوان البريد الإلكتروني الذي طلبت به (مثال: 1001 name@example.com).",
}
# The same words whether the number is unknown or the address is not the order's.
NOT_FOUND_TEXT = {
    "en": "I could not find that order. Please check the order number and the e-mail address you ordered with, "
    "and write them again.",
    "et": "Ma ei leidnud seda tellimust. Kontrolli palun tellimuse numbrit ja e-posti aadressi, millega tellisid, "
    "ning kirjuta need uuesti.",
    "pl": "Nie udało mi się znaleźć tego zamówienia. Sprawdź numer zamówienia i adres e-mail użyty przy zamówieniu "
    "i napisz je ponownie.",
    "ru": "Я не смог найти этот заказ. Проверьте номер заказа и адрес электронной почты, с которым вы оформляли "
    "заказ, и напишите их ещё раз.",
    "he": "לא מצאתי את ההזמנה הזו. בדקו בבקשה את מספר ההזמנה ואת כתובת האימייל שאיתה הזמנתם, וכתבו אותם שוב.",
    "ar": "لم أجد هذا الطلب. تحقّق من رقم الطلب وعنوان البريد الإلكتروني الذي طلبت به، ثم اكتبهما مرة أخرى.",
}
NO_ORDERS = {
    "en": "I don't see any orders on your account yet.",
    "et": "Ma ei näe sinu kontol veel ühtegi tellimust.",
    "pl": "Nie widzę jeszcze żadnych zamówień na Twoim koncie.",
    "ru": "Я пока не вижу заказов в вашей учётной записи.",
    "he": "אני עדיין לא רואה הזמנות בחשבון שלך.",
    "ar": "لا أرى أي طلبات في حسابك بعد.",
}
YOUR_ORDERS = {
    "en": "Your recent orders:",
    "et": "Sinu viimased tellimused:",
    "pl": "Twoje ostatnie zamówienia:",
    "ru": "Ваши последние заказы:",
    "he": "ההזמנות האחרונות שלך:",
    "ar": "طلباتك الأخيرة:",
}
ORDER_LINE = {
    "en": "Order {number} of {date}: {status}.",
    "et": "Tellimus {number} ({date}): {status}.",
    "pl": "Zamówienie {number} z {date}: {status}.",
    "ru": "Заказ {number} от {date}: {status}.",
    "he": "הזמנה {number} מתאריך {date}: {status}.",
    "ar": "الطلب {number} بتاريخ {date}: {status}.",
}
TRACK = {
    "en": "Track the parcel: {url}",
    "et": "Jälgi pakki: {url}",
    "pl": "Śledź przesyłkę: {url}",
    "ru": "Отследить посылку: {url}",
    "he": "מעקב אחר החבילה: {url}",
    "ar": "تتبّع الشحنة: {url}",
}
# The order's own status page (Shopify), when no parcel is on its way yet.
ORDER_PAGE = {
    "en": "See the order: {url}",
    "et": "Vaata tellimust: {url}",
    "pl": "Zobacz zamówienie: {url}",
    "ru": "Посмотреть заказ: {url}",
    "he": "צפייה בהזמנה: {url}",
    "ar": "عرض الطلب: {url}",
}
TRACKING_NUMBER = {
    "en": "Tracking number: {number}",
    "et": "Jälgimisnumber: {number}",
    "pl": "Numer przesyłki: {number}",
    "ru": "Трек-номер: {number}",
    "he": "מספר מעקב: {number}",
    "ar": "رقم التتبع: {number}",
}
# How far delivery got, in the shopper's words. Shopify's display statuses and Saleor's
# order statuses land on five plain states.
_STATE_OF = {
    "UNFULFILLED": "waiting",
    "UNCONFIRMED": "waiting",
    "OPEN": "waiting",
    "PENDING_FULFILLMENT": "waiting",
    "SCHEDULED": "waiting",
    "ON_HOLD": "waiting",
    "IN_PROGRESS": "preparing",
    "PARTIALLY_FULFILLED": "partly",
    "FULFILLED": "sent",
    "CANCELED": "cancelled",
    "PARTIALLY_RETURNED": "returned",
    "RETURNED": "returned",
    "RESTOCKED": "cancelled",
}
STATE_WORDS = {
    "waiting": {
        "en": "not sent yet",
        "et": "pole veel teele saadetud",
        "pl": "jeszcze nie wysłane",
        "ru": "ещё не отправлен",
        "he": "עדיין לא נשלחה",
        "ar": "لم يُشحن بعد",
    },
    "preparing": {
        "en": "being prepared",
        "et": "on komplekteerimisel",
        "pl": "w przygotowaniu",
        "ru": "собирается",
        "he": "בהכנה",
        "ar": "قيد التجهيز",
    },
    "partly": {
        "en": "partly sent",
        "et": "osaliselt teele saadetud",
        "pl": "wysłane częściowo",
        "ru": "отправлен частично",
        "he": "נשלחה בחלקה",
        "ar": "شُحن جزئيًا",
    },
    "sent": {
        "en": "sent",
        "et": "teele saadetud",
        "pl": "wysłane",
        "ru": "отправлен",
        "he": "נשלחה",
        "ar": "تم الشحن",
    },
    "cancelled": {
        "en": "cancelled",
        "et": "tühistatud",
        "pl": "anulowane",
        "ru": "отменён",
        "he": "בוטלה",
        "ar": "أُلغي",
    },
    "returned": {
        "en": "returned",
        "et": "tagastatud",
        "pl": "zwrócone",
        "ru": "возвращён",
        "he": "הוחזרה",
        "ar": "أُعيد",
    },
    "unknown": {
        "en": "being processed",
        "et": "töötlemisel",
        "pl": "w realizacji",
        "ru": "в обработке",
        "he": "בטיפול",
        "ar": "قيد المعالجة",
    },
}


def words(table: dict[str, str], language: str) -> str:
    return table.get(language, table["en"])


def state_of(fulfillment: str | None) -> str:
    return _STATE_OF.get((fulfillment or "").upper(), "unknown")


def _date(moment: datetime | None, language: str) -> str:
    if moment is None:
        return "—"
    try:
        return format_date(moment, "medium", locale=language)
    except (UnknownLocaleError, ValueError):
        return format_date(moment, "medium", locale="en")


def order_text(order: OrderRecord, language: str) -> str:
    """One order in the shopper's language: number, date, status, and how to track it."""
    status = words(STATE_WORDS[state_of(order.fulfillment)], language)
    number = order.number if order.number.startswith("#") else f"#{order.number}"
    lines = [words(ORDER_LINE, language).format(number=number, date=_date(order.created_at, language), status=status)]
    for parcel in order.tracking:
        url = safe_link(parcel.url or "")
        if url:
            lines.append(words(TRACK, language).format(url=url))
        elif parcel.number:
            lines.append(words(TRACKING_NUMBER, language).format(number=parcel.number))
    if not order.tracking and order.status_url and safe_link(order.status_url):
        lines.append(words(ORDER_PAGE, language).format(url=order.status_url))
    return "\n".join(lines)


def orders_text(orders: Sequence[OrderRecord], language: str) -> str:
    if not orders:
        return words(NO_ORDERS, language)
    return "\n\n".join([words(YOUR_ORDERS, language), *(order_text(order, language) for order in orders)])
