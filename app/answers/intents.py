"""What a shopper wants before what they ask about: a person, to complain, or their order.

These come before matching because no written answer serves them: a shopper who asks
for a person gets one, a complaint goes to someone who can make it right, and "where
is my order?" is answered from the platform (or by the team), never from the FAQ.

The patterns of every language are tried on every message, whatever its language:
shoppers mix languages, and an Estonian shop's Russian-speaking customer may write in
Russian. They run on `fold`ed text (diacritics off, letter variants unified), so they
are written without diacritics, with Hebrew final letters as plain letters and Arabic
ة as ه, and read whether or not a shopper typed "zamówienie" or "zamowienie".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answers.normalize import fold, fold_letters

# Hebrew and Arabic attach short words to the next one: "לנציג" (to a representative),
# "والطلب" (and the order). A pattern word may follow them.
_HE = "(?:[והבלמשכ]{0,3})"
_AR = "(?:[وفبلك]?(?:ال)?)"

_ORDER_WORDS = (
    r"orders?|tellimus\w*|zamowieni\w*|zamowien|заказ\w*|"
    rf"{_HE}הזמנ\w*|{_AR}طلب\w*|zakaz\w*|pedido|bestellung"
)
# "#1001", "№ 1001" (NFKC spells № "no"), or an order word near a number: "tellimus 1001",
# "zamówienie nr 1001", "заказ номер 1001", "הזמנה מספר 1001", "طلب رقم 1001".
_ORDER_NUMBER = re.compile(
    r"(?:#|\bno\.?|\bnr\.?)\s*(\d{3,12})\b"
    rf"|(?:{_ORDER_WORDS})\W+(?:(?:nr|no|number|num|numer|numbri|номер|n|מספר|رقم)\W*)?(\d{{3,12}})\b"
)


def _patterns(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fold_letters(p)})" for p in patterns))


_WHERE_IS_MY_ORDER = _patterns(
    # English
    r"\bwhere\W*(?:is|s|are)?\s+(?:my|our|the)\s+(?:order|parcel|package|delivery|stuff|items?)",
    r"\btrack(?:ing)?\s+(?:my|the|our)?\s*(?:order|parcel|package)",
    r"\b(?:order|parcel|package|delivery)\b.{0,30}\b(?:hasn\W?t|has not|didn\W?t|did not|never|not yet|still not)\b.{0,15}"
    r"\b(?:arrived?|come|came|shipped|turned up|delivered|received)",
    r"\bhasn\W?t (?:arrived|come|been delivered)",
    r"\b(?:status of my order|order status|my order status)",
    r"\bwhen will my (?:order|parcel|package)",
    r"\b(?:order|parcel|package)\b.{0,20}\blost\b|\blost (?:my )?(?:order|parcel|package)",
    # Estonian
    r"\bkus\b.{0,12}\b(?:mu|minu|meie)\s+(?:tellimus|pakk|saadetis)",
    r"\b(?:mu|minu)\s+(?:tellimus|pakk|saadetis)\w*\b.{0,20}\b(?:ei|pole)\b",
    r"\b(?:tellimus|pakk|saadetis)\w*\b.{0,20}\b(?:pole|ei ole)\b.{0,20}\b(?:kohal|tulnud|joudnud|saabunud)",
    r"\btellimuse (?:staatus|seis)",
    # Hebrew
    rf"איפה\s+{_HE}(?:הזמנה|חבילה|משלוח)",
    rf"{_HE}(?:הזמנה|חבילה|משלוח)\S*\s.{{0,25}}\b(?:לא|עוד לא|עדיינ לא)\s+(?:הגיע|הגיעה|נשלח|נשלחה|התקבל)",
    rf"סטטוס\s+(?:של\s+)?{_HE}הזמנ",
    rf"מעקב\s+(?:אחרי\s+)?{_HE}(?:הזמנ|חבילה|משלוח)",
    # Arabic (ة written ه, as `fold` leaves it)
    rf"(?:وين|اين|فين)\s+{_AR}(?:طلبي|طلبيتي|طلب|شحنه|شحنتي|طرد|طردي|اوردر)",
    rf"(?:حاله|تتبع|متابعه)\s+{_AR}(?:طلب|شحنه|طرد)",
    rf"{_AR}(?:طلب|طلبي|شحنه|طرد)\S*\s+(?:ما|لم|مو|ماو)\s*(?:وصل|يوصل|توصل|اجا|جا)",
    rf"{_AR}(?:طلب|طلبي|شحنه)\S*\s+(?:متاخر|تاخر)",
    # Polish
    r"\bgdzie\b.{0,12}\b(?:moja|moje|moj)?\s*(?:paczka|zamowienie|przesylka)",
    r"\b(?:paczka|zamowienie|przesylka)\b.{0,25}\bnie\s+(?:dosz|dotar|przysz|zostal)",
    r"\bstatus\w*\s+(?:mojego\s+)?zamowienia",
    r"\bsledz\w*\s+(?:paczk|zamowieni|przesylk)",
    # Russian, and Russian in Latin letters
    r"\bгде\b.{0,10}\b(?:мои|моя|мое|наш|наша)?\s*(?:заказ|посылк)",
    r"(?:заказ|посылк)\w*\b.{0,30}\bне\s+(?:пришел|пришла|пришло|доставлен|доставили|получил|отправлен)",
    r"\bстатус\w*\s+(?:моего\s+)?заказа",
    r"\bотследить\s+(?:мои\s+)?(?:заказ|посылку)",
    r"\b(?:посылк|заказ)\w*\s+потерял|потерял\w*\s+(?:посылк|заказ)",
    r"\bgde\s+(?:moi|moj|moy|moia|moja|moya|moe)?\s*(?:zakaz|posylk|posilk)",
    r"\bstatus\s+zakaza",
)

_PERSON = _patterns(
    # English (any language: "human" and "agent" are what many shoppers type anywhere)
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|the\s+)?(?:real\s+|live\s+)?"
    r"(?:person|human|someone|somebody|agent|operator|manager|representative|rep|staff|people)",
    r"\b(?:real|live|actual)\s+(?:person|human|agent)",
    r"^\W*(?:human|agent|operator|person)\b",
    r"\bhuman (?:please|pls|plz)\b",
    r"\b(?:customer service|support) (?:agent|rep|representative)",
    # Estonian
    r"\b(?:paris\s+)?inimes(?:ega|e|t)\b",
    r"\b(?:klienditeenindaja|teenindaja|operaator)\w*",
    # Hebrew
    rf"{_HE}נציג",
    rf"{_HE}(?:בנ אדמ|בנאדמ)",
    r"\bאדמ אמיתי",
    # Arabic
    rf"(?:اكلم|اتكلم|تكلم|كلم|احكي|اتحدث|التحدث|اتواصل مع)\s+{_AR}(?:موظف|شخص|انسان|بشر|احد|مندوب|ممثل)",
    rf"{_AR}موظف\b",
    r"شخص حقيقي|انسان حقيقي",
    # Polish
    r"\b(?:konsultant|czlowiek|pracownik)\w*",
    r"\b(?:zywa|prawdziwa)\s+osob",
    r"\brozmawiac z\s+(?:kims|osoba)",
    # Russian, and in Latin letters
    r"\b(?:человек|оператор|менеджер|консультант|сотрудник)\w*",
    r"\bживо\w*\s+(?:человек|оператор)",
    r"\b(?:operator|chelovek|menedzher|manager)\w*",
)

_COMPLAINT = _patterns(
    # English
    r"\b(?:disappoint\w*|unacceptable|ridiculous|terrible|awful|worst|useless|scam\w*|fraud\w*|angry|furious|"
    r"complain\w*|rubbish|disgrac\w*|outrage\w*|appalling|shocking|pathetic)\b",
    r"\bnot (?:happy|ok|okay|acceptable|good enough)\b|\bunhappy\b|\bnever again\b",
    r"\b(?:no ?one|nobody|noone)\s+(?:answers|replies|responds|is answering|got back)",
    r"\b(?:sent|got|received|delivered)\b.{0,12}\bwrong\b",
    r"\b(?:broken|damaged|faulty|ripped|torn)\b|\b(?:hole|holes|stain)\s+in\b",
    # Estonian
    r"\b(?:pettu\w*|skandaal\w*|kohutav\w*|jube|jama|petis\w*|pettus\w*|kaebus\w*|haletsusvaarne)\b",
    r"\b(?:pole|ei ole)\s+(?:ulditse\s+)?rahul",
    r"\bkeegi ei vasta",
    r"\bsain\b.{0,12}\bvale\b",
    r"\b(?:katki|auklik\w*|defektne)\b",
    # Hebrew
    rf"{_HE}(?:מאוכזב|אכזבה|שערורי|גרוע|נוראי|זוועה|פגומ|רמאות|רמאי|נוכל|תלונה|חוצפה)",
    r"לא בסדר|לא מקצועי|אפ אחד לא (?:עונה|חוזר)",
    r"\b(?:שבור|שבורה|נשבר|נשברה)\b",
    # Arabic
    r"(?:زعلان|زعلانه|سيئ|سيء|سيئه|مكسور|غش|نصب|نصاب|حراميه|شكوى|شكوي|مستاء|خايس|زفت|تالف|خربان|مو معقول|غير مقبول)",
    r"(?:ما حد|محد|ماحد|لا احد)\s+(?:يرد|رد|يجاوب)",
    # Polish
    r"\b(?:skandal\w*|wsciek\w*|oszus\w*|oszukan\w*|zenad\w*|beznadziej\w*|fataln\w*|najgorsz\w*|rozczarowan\w*|"
    r"dramat|porazka|uszkodzon\w*|zepsut\w*|niedopuszczaln\w*)\b",
    r"\bjestem\s+(?:zla|zly|wkurzon\w*|niezadowolon\w*)\b",
    r"\bnikt nie (?:odpowiada|odpisuje|odbiera)",
    r"\b(?:zly|zla|zle)\s+(?:rozmiar|kolor|produkt|towar|model)",
    # Russian
    r"\b(?:недоволен|недовольна|недовольны|ужасн\w*|безобрази\w*|кошмар\w*|отвратительн\w*|обман\w*|мошенни\w*|"
    r"жалоб\w*|возмутительн\w*|позор\w*|разочарован\w*|хамств\w*|брак\w*)",
    r"\bникто не (?:отвечает|ответил|перезвонил)",
    r"\bне (?:тот|та|то|те)\s+(?:размер|товар|цвет|модель|вещь)",
    r"\bпорвал\w*|\bсломал\w*|\bиспорчен\w*",
)


@dataclass(frozen=True)
class Intents:
    """What a message asks for, besides its topic. `order_number` is the number it names,
    whatever else it says: an order-specific question is for someone who can look."""

    person: bool = False
    complaint: bool = False
    order_status: bool = False
    order_number: str | None = None

    @property
    def any(self) -> bool:
        return self.person or self.complaint or self.order_status or self.order_number is not None


def order_number(text: str) -> str | None:
    """The order number a message names ("#1001", "tellimus 1001", "заказ №1001"), or None."""
    found = _ORDER_NUMBER.search(fold(text))
    return next(group for group in found.groups() if group) if found else None


def asks_order_status(text: str) -> bool:
    """ "Where is my order?", in any of the six languages (or Russian in Latin letters)."""
    return bool(_WHERE_IS_MY_ORDER.search(fold(text)))


def asks_for_person(text: str) -> bool:
    return bool(_PERSON.search(fold(text)))


def is_complaint(text: str) -> bool:
    """Anger, disappointment, or something broken or wrong: for a person to put right."""
    return bool(_COMPLAINT.search(fold(text)))


def detect(text: str) -> Intents:
    number = order_number(text)
    return Intents(
        person=asks_for_person(text),
        complaint=is_complaint(text),
        order_status=number is not None or asks_order_status(text),
        order_number=number,
    )
