"""Visitors: who a browser is, and what the platform told us about them.

A visitor is anonymous until a signed channel (the Shopify app proxy, a verified
Saleor token) names the customer; the name and e-mail come only from the
platform too, never from what the browser says.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.db import Database
from app.models import Conversation, Shop, Visitor

log = logging.getLogger(__name__)

# What the widget tells, kept short: a page address is its origin and path only.
MAX_PAGE = 1000
# How exact a visitor's last_seen_at is kept (resume_visitor).
SEEN_GRANULARITY = timedelta(minutes=1)
MAX_ZONE = 64
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,3}$")
_ZONE = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+){0,2}$")
# A visitor seen first this long before their conversation began came back: "returning".
RETURNING_AFTER = timedelta(hours=12)


def resume_visitor(
    session: Session,
    shop_id: int,
    visitor_id: str | None,
    customer_id: str | None,
    locale: str | None,
    now: datetime,
) -> Visitor:
    """The visitor this browser is, given what the platform vouches for.

    `customer_id` comes only from a signed channel. A signed-in customer takes over
    the browser's anonymous thread; a browser whose visitor belongs to another
    customer (or to a customer who has signed out) starts afresh, so a shared
    computer never shows one customer's thread to another.
    """
    visitor = session.get(Visitor, visitor_id) if visitor_id else None
    if visitor is not None and visitor.shop_id != shop_id:
        visitor = None
    if visitor is not None and visitor.customer_id and visitor.customer_id != customer_id:
        visitor = None

    if customer_id:
        known = session.exec(
            select(Visitor)
            .where(Visitor.shop_id == shop_id, Visitor.customer_id == customer_id)
            .order_by(col(Visitor.created_at))
        ).first()
        if known is None and visitor is not None:
            visitor.customer_id = customer_id
        elif known is not None and visitor is not None and known.id != visitor.id:
            _merge_into(session, source=visitor, target=known)
            visitor = known
        elif known is not None:
            visitor = known
    if visitor is None:
        visitor = Visitor(shop_id=shop_id, customer_id=customer_id or None, created_at=now, last_seen_at=now)
    if locale:
        visitor.locale = locale[:20]
    # Every page view starts a session: writing the time once a minute is as exact as the
    # Support page shows it, and a page view that changes nothing else writes nothing.
    if visitor.last_seen_at is None or now - visitor.last_seen_at >= SEEN_GRANULARITY:
        visitor.last_seen_at = now
    session.add(visitor)
    session.flush()
    return visitor


def _merge_into(session: Session, source: Visitor, target: Visitor) -> None:
    session.execute(
        sa.update(Conversation).where(col(Conversation.visitor_id) == source.id).values(visitor_id=target.id)
    )
    session.flush()
    session.delete(source)


def remember_customer(visitor: Visitor, name: str | None, email: str | None) -> bool:
    """Keep what the platform says of a signed-in customer beside their visitor, so the
    inbox and search show them; True when it changed. The caller adds and commits."""
    name = name[:255] if name else visitor.name
    email = email[:320] if email else visitor.email
    if (name, email) == (visitor.name, visitor.email):
        return False
    visitor.name, visitor.email = name, email
    return True


# -- what the widget tells without asking ---------------------------------------------


@dataclass(frozen=True)
class VisitFacts:
    """The shopper's language, the page they are on and their time zone, as the widget
    reported them, each checked; None where the widget sent nothing usable."""

    locale: str | None
    page: str | None
    timezone: str | None

    def apply(self, visitor: Visitor) -> None:
        if self.locale:
            visitor.locale = self.locale
        if self.page:
            visitor.page_url = self.page
        if self.timezone:
            visitor.timezone = self.timezone


def _clean_text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not value or len(value) > limit * 4:
        return None
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        return None  # a NUL or a lone surrogate cannot be stored as text
    return value


def _page(value: object) -> str | None:
    text = _clean_text(value, MAX_PAGE)
    if text is None:
        return None
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    # Origin and path only: a query string or fragment may carry what the shopper typed.
    return f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"[:MAX_PAGE]


def _timezone(value: object) -> str | None:
    text = _clean_text(value, MAX_ZONE)
    if text is None or len(text) > MAX_ZONE or not _ZONE.match(text):
        return None
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return text


def visit_facts(locale: object, page: object, timezone: object) -> VisitFacts:
    text = _clean_text(locale, 20)
    return VisitFacts(
        locale=text if text is not None and _LOCALE.match(text) else None,
        page=_page(page),
        timezone=_timezone(timezone),
    )


# -- a name for a shopper who gave none -------------------------------------------------

# The same animals in the languages the Support page's merchants read (the widget's six),
# so a label is a word to say out loud to a colleague, not a number.


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


ANIMALS: dict[str, tuple[str, ...]] = {
    "en": _names(
        "Otter|Fox|Heron|Lynx|Badger|Owl|Robin|Seal|Hare|Swan|Bear|Crane|Dolphin|Moose|Falcon|"
        "Hedgehog|Squirrel|Beaver|Wolf|Deer|Eagle|Penguin|Panda|Koala|Tiger|Lion|Whale|Turtle|"
        "Parrot|Stork|Zebra|Kangaroo"
    ),
    "et": _names(
        "Saarmas|Rebane|Haigur|Ilves|Mäger|Öökull|Punarind|Hüljes|Jänes|Luik|Karu|Kurg|Delfiin|"
        "Põder|Pistrik|Siil|Orav|Kobras|Hunt|Hirv|Kotkas|Pingviin|Panda|Koaala|Tiiger|Lõvi|Vaal|"
        "Kilpkonn|Papagoi|Toonekurg|Sebra|Känguru"
    ),
    "pl": _names(
        "Wydra|Lis|Czapla|Ryś|Borsuk|Sowa|Rudzik|Foka|Zając|Łabędź|Niedźwiedź|Żuraw|Delfin|Łoś|"
        "Sokół|Jeż|Wiewiórka|Bóbr|Wilk|Jeleń|Orzeł|Pingwin|Panda|Koala|Tygrys|Lew|Wieloryb|Żółw|"
        "Papuga|Bocian|Zebra|Kangur"
    ),
    "ru": _names(
        "Выдра|Лиса|Цапля|Рысь|Барсук|Сова|Малиновка|Тюлень|Заяц|Лебедь|Медведь|Журавль|Дельфин|"
        "Лось|Сокол|Ёж|Белка|Бобр|Волк|Олень|Орёл|Пингвин|Панда|Коала|Тигр|Лев|Кит|Черепаха|"
        "Попугай|Аист|Зебра|Кенгуру"
    ),
    "he": _names(
        "לוטרה|שועל|אנפה|לינקס|גירית|ינשוף|אדום החזה|כלב ים|ארנבת|ברבור|דוב|עגור|דולפין|אייל|בז|"
        "קיפוד|סנאי|בונה|זאב|צבי|נשר|פינגווין|פנדה|קואלה|טיגריס|אריה|לווייתן|צב|תוכי|חסידה|זברה|"
        "קנגורו"
    ),
    "ar": _names(
        "قضاعة|ثعلب|بلشون|وشق|غرير|بومة|أبو الحناء|فقمة|أرنب|بجعة|دب|كركي|دلفين|موظ|صقر|قنفذ|"
        "سنجاب|قندس|ذئب|أيل|نسر|بطريق|باندا|كوالا|نمر|أسد|حوت|سلحفاة|ببغاء|لقلق|حمار وحشي|كنغر"
    ),
}
LABEL_NUMBERS = 99


def label_language(accept_language: str | None) -> str:
    """The first of the merchant's languages (an Accept-Language header) that labels
    come in; English otherwise."""
    for part in (accept_language or "").split(","):
        language = part.split(";")[0].strip().split("-")[0].lower()
        if language in ANIMALS:
            return language
    return "en"


def visitor_label(visitor_id: str, language: str = "en") -> str:
    """A stable, friendly name for an anonymous shopper: an animal and a number from
    their visitor id ("Otter 42"), the same on every page and in every staff member's
    inbox, in the merchant's language. 32 × 99 names, so two shoppers rarely share one."""
    digest = hashlib.sha256(visitor_id.encode()).digest()
    animals = ANIMALS.get(language, ANIMALS["en"])
    return f"{animals[digest[0] % len(animals)]} {int.from_bytes(digest[1:3], 'big') % LABEL_NUMBERS + 1}"


def visitor_hue(visitor_id: str) -> int:
    """The avatar's colour (a hue, 0–359) from the visitor id: tells rows apart at a glance."""
    return int.from_bytes(hashlib.sha256(visitor_id.encode()).digest()[4:6], "big") % 360


def is_returning(visitor: Visitor, conversation: Conversation, conversations: int) -> bool:
    """Has chatted before, or was first seen well before this conversation began."""
    return conversations > 1 or visitor.created_at < conversation.created_at - RETURNING_AFTER


# -- who a signed-in shopper is -----------------------------------------------------------

Lookup = Callable[[Shop, Visitor], Mapping[str, Any]]


class CustomerNames:
    """Learns a signed-in shopper's name (and e-mail) from their platform, in the
    background, so the inbox and its search show who they are before anyone opens
    the conversation. Shopify's app proxy names only the customer id: the platform's
    customer look-up (the one the customer panel uses, cached and rate-limit aware)
    runs on a small pool, never in the shopper's request."""

    def __init__(self, db: Database, look_up: Lookup, workers: int = 2):
        self.db = db
        self.look_up = look_up
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parley-customers")
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, str], Future[None]] = {}
        # A database bound to one connection (the tests' rolled-back transaction) cannot
        # serve two threads at once: there the look-up runs in the caller's thread.
        self.inline = isinstance(db.bind, sa.engine.Connection)

    def learn(self, shop: Shop, visitor_id: str) -> None:
        assert shop.id is not None  # a shop read from the database has its id
        key = (shop.id, visitor_id)
        with self._lock:
            if key in self._pending:
                return  # already being asked
            if not self.inline:
                self._pending[key] = self._pool.submit(self._learn, shop, visitor_id, key)
                return
        self._learn(shop, visitor_id, key)

    def _learn(self, shop: Shop, visitor_id: str, key: tuple[int, str]) -> None:
        try:
            with self.db.session() as session:
                visitor = session.get(Visitor, visitor_id)
            if visitor is None or visitor.shop_id != shop.id or not visitor.customer_id or visitor.name:
                return
            found = self.look_up(shop, visitor)
            person = found.get("customer") if found.get("source") == "live" else None
            if not isinstance(person, Mapping):
                return
            name, email = person.get("name"), person.get("email")
            with self.db.transaction() as session:
                fresh = session.get(Visitor, visitor_id)
                if fresh is not None and remember_customer(
                    fresh, name if isinstance(name, str) else None, email if isinstance(email, str) else None
                ):
                    session.add(fresh)
        except Exception:  # a look-up that fails is tried again at the shopper's next session
            log.warning("looking up a signed-in customer of shop %s failed", shop.id, exc_info=True)
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def wait(self, timeout: float = 10.0) -> None:
        """Until the look-ups asked for so far are done (tests; shutting down)."""
        with self._lock:
            futures = list(self._pending.values())
        wait(futures, timeout=timeout)
