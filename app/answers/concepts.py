"""What a shop's questions are about, in any of the six languages: a small lexicon of
shop vocabulary, so "postage" meets "shipping", "amex" meets "payment methods", and
"do you ship to latvia" meets an Estonian answer that lists "Lätti".

Letters alone cannot know that Germany is abroad or that "how much" is about a price;
shoppers' questions are too short to carry that in shared n-grams. Each concept lists
word beginnings (as `normalize` spells them, so without diacritics) in English,
Estonian, Hebrew, Arabic, Polish and Russian (also in Latin letters). A word that begins
with one of them adds the concept to the text, in the question and in the merchant's
answers alike, so it works on any shop's answers, not on a fixed list of topics. A
beginning that ends in "=" must be the whole word ("eu=", "us="); "gift_card" is two
words, each by its beginning, the second right after the first or one word later.

This is general shop vocabulary, not the evaluation set's wording; bench/answers.py
measures what it adds.
"""

from __future__ import annotations

from functools import lru_cache

from app.answers.normalize import normalize

_LEXICON: dict[str, str] = {
    "ship": """ship deliver postage post= posting courier dispatch parcel package arriv arrive
        tarn saad saat kohale katte kulle pakk pakiautomaat omniva dpd smartpost transport
        משלוח שליח שולח שלוח חביל מגיע להגיע יגיע תגיע הגיע
        توصيل يوصل توصل وصول يصل شحن تشحن يشحن ارامكس طرد مندوب
        wysyl wysył dostaw przesyl paczk kurier paczkomat inpost dotrz dojdz doreczen dochodz idzie
        достав отправ отправл посылк курьер автомат придет приход прид dostav posylk""",
    "time": """long days day= time when fast quick soon week today tomorrow hour
        kaua kiiresti paev paeva aeg aega millal tana homme nadal kiire
        זמנ ימימ יומ מתי מהר תוכ היומ מחר שבוע
        يوم ايام مده متى وقت سريع يستغرق ياخذ اليوم بكره اسبوع
        dni= dzien trwa kiedy szybk czas jutr dzisiaj dzis tydzien tygodn
        дне дня дней день срок когда быстр время сегодн завтр недел идет идёт""",
    "cost": """cost price much fee charge free postage cheap expensive
        maksa maksab hind hinna palju tasuta odav kallis
        עולה עולות מחיר עלות חינמ
        سعر تكلفه تكلف رسوم مجان بكم
        koszt kosztuj cena ceny oplat darmow gratis tani drogi
        стоит стоимост цена цены бесплатн платн дешев дорог stoit besplatn""",
    "abroad": """international abroad overseas worldwide countr europ eu= us= usa uk= america canad australi
        german ireland irish franc spain ital netherland holland swed norw finland latvi lithuani denmark
        poland czech austri switzerland london israel customs= duties duty= import
        valismaa valjaspool riik euroopa el= soome lati leedu rootsi norra saksa inglis prantsus hispaania
        itaalia poola ameerika taani toll tolli
        חול בינלאומי מכס מדינ אירופה אמריקה ארהב אנגליה לונדונ גרמניה צרפת קנדה איטליה ספרד
        دولي الخارج خارج جمرك دول الخليج السعوديه الكويت قطر البحرين عمان مصر الاردن لندن بريطانيا امريكا
        اوروبا المانيا فرنسا كندا
        zagranic granic kraj europ ue= clo= cla= niemc niemiec anglii angli irlandi francj czech slowacj ukrain litw
        łotw lotw szwecj norwegi wielk brytani holandi austri
        границ заграниц стран европ ес= пошлин таможн герман финлянд латви литв швец норвег англи сша америк франц
        израил польш италия италии испани""",
    "return": """return send_back sent_back
        tagast tagasi
        החזר להחזיר מחזיר מחזירימ החזרתי
        ارجاع ارجع ارجعه مرتجع رجعت ترجيع استرجاع
        zwrot zwroc oddac odda odesl odsyl
        возврат вернуть вернут верну верн vernut vozvrat""",
    "money": """refund money credit
        raha kanna
        זיכוי כספ
        مبلغ فلوس استرداد استرجاع
        pieniadz pieniedz kasy kase
        деньг средств dengi""",
    "exchange": """exchang swap replace
        vahet vaheta
        החלפ להחליפ מחליפ
        استبدال ابدل تبديل بدل
        wymian wymien
        обмен поменя обменя""",
    "size": """size sizes fit small big bigger large chart measur inch
        suurus suurust suurem vaike vaiksem moot jalanumb
        מידה מידות מידת גדול קטנ אורכ היקפ
        مقاس حجم احجام كبير صغير
        rozmiar duz wiek mniejsz wymiar rozmiarow
        размер маломер большемер рост мерк""",
    "pay": """pay paid payment card paypal klarna amex visa mastercard apple google invoice instal
        maks pangalink kaart jarelmaks arve
        תשלומ לשלמ משלמ אשראי ביט bit= חשבונית פייפאל
        دفع ادفع الدفع بطاقه تابي تمارا فيزا كاش نقد تقسيط
        plac plat zaplac blik karta karte przelew faktur pobrani paypo
        оплат плат карт рассрочк счет счёт oplat kart""",
    "hours": """open hours close closing saturday sunday weekend monday friday
        lahti avatud kinni laupaev puhapaev tooaeg lahtiolek
        פתוח פתוחימ שעות סגור שישי שבת
        دوام تفتح مفتوح يغلق الجمعه السبت
        otwart godzin czynn sobot niedziel pracuj
        работ открыт часы суббот воскресен график""",
    "contact": """phone call email mail whatsapp contact number
        telefon helist meil epost kontakt
        טלפונ מייל וואטסאפ קשר
        هاتف واتساب ايميل بريد تواصل اتواصل
        telefon zadzwon mail kontakt
        телефон почт позвон звон связ ватсап""",
    "alter": """cancel chang modif mistake wrong
        tuhist muut muuda viga vale
        לבטל ביטול לשנות שינוי טעיתי
        الغاء تعديل تغيير اغير
        anul zmien zmian pomyl
        отмен измен помен ошиб""",
    "gift": """gift present
        kink kingitus
        מתנה
        هديه هدايا
        prezent podarunk
        подар""",
    "voucher": """voucher gift_card gift_voucher gift_certificate
        kinkekaart kinkekaardi
        שובר גיפט כרטיס_מתנה כרטיסי_מתנה
        قسيمه جيفت بطاقه_هديه بطاقات_هدايا بطاقه_هدايا
        bon= bony= voucher karta_podarunkowa karty_podarunkowe podarunkow
        сертификат подарочн_карт""",
    "wrap": """wrap
        pakkimine pakki_kingiks
        אריזה אריזת לעטופ
        تغليف غلف تغلف
        opakowani pakowani
        упаковк упаковать""",
    "discount": """discount code coupon promo sale off= student
        soodus allahindl kood
        הנחה קופונ קוד מבצע
        خصم كود كوبون عرض عروض تخفيض
        rabat kod promocj znizk wyprzedaz
        скидк промокод акци купон""",
    "pickup": """collect pick pickup store shop studio located location address
        jarele jargi pood poest poodi asu
        איסופ לאסופ סטודיו חנות נמצא
        استلام استلم معرض فرع موقع
        odbi odebr sklep osobisc
        самовывоз забрать магазин находит адрес""",
    "care": """wash care clean iron dry
        pes hooldus kuivat puhast
        לנקות ניקוי מקלחת להתקלח
        غسل تنظيف
        prac pran czysc pielegn
        стир уход глад суш""",
    "stock": """stock sold available restock
        laos otsas saadaval muuki
        מלאי אזל
        متوفر نفد مخزون
        dostepn wyprzedan
        наличи поступлен""",
    "material": """material fabric wool cotton cashmere silver gold made
        materjal villa villast puuvill meriino
        חומר זהב ציפוי עשוי
        خامه مكونات طبيعي اصلي
        material sklad bawel
        ткан состав льн хлоп шерст""",
}

_PREFIXES = ("ו", "ה", "ב", "ל", "מ", "ש", "כ", "וה", "וב", "ול", "ומ", "וש", "שה", "בה", "לה", "מה")
_ARABIC_PREFIXES = ("و", "ف", "ب", "ل", "ك", "ال", "وال", "بال", "لل", "فال")


def _compile() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    beginnings: dict[str, list[str]] = {}
    whole: dict[str, list[str]] = {}
    for concept, words in _LEXICON.items():
        for word in words.split():
            if "_" in word:  # two words, each by its beginning: "send_back", "gift_card"
                first, second = (normalize(part) for part in word.split("_"))
                _PAIRS.append((first, second, concept))
                continue
            exact = word.endswith("=")
            form = normalize(word.rstrip("="))
            if form:
                (whole if exact else beginnings).setdefault(form, []).append(concept)
    return (
        {form: tuple(concepts) for form, concepts in beginnings.items()},
        {form: tuple(concepts) for form, concepts in whole.items()},
    )


_PAIRS: list[tuple[str, str, str]] = []
_BEGINNINGS, _WHOLE = _compile()
_LENGTHS = sorted({len(form) for form in _BEGINNINGS}, reverse=True)
_PAIR_STARTS: dict[str, list[tuple[str, str]]] = {}
for _first, _second, _concept in _PAIRS:
    _PAIR_STARTS.setdefault(_first, []).append((_second, _concept))
_PAIR_LENGTHS = sorted({len(first) for first in _PAIR_STARTS})


@lru_cache(maxsize=65536)
def _word_concepts(word: str) -> tuple[str, ...]:
    found: list[str] = []
    candidates = [word]
    candidates += [
        word[len(p) :] for p in _PREFIXES + _ARABIC_PREFIXES if word.startswith(p) and len(word) - len(p) >= 2
    ]
    for candidate in candidates:
        found.extend(_WHOLE.get(candidate, ()))
        for length in _LENGTHS:
            if length <= len(candidate):
                found.extend(_BEGINNINGS.get(candidate[:length], ()))
    return tuple(dict.fromkeys(found))


def concepts(words: list[str]) -> list[str]:
    """The concepts the (normalized) words name, once each, in order. The words of a
    two-word name ("karty podarunkowe": a gift card) name only it, not what each word
    names alone (a card to pay with)."""
    pairs: dict[int, list[str]] = {}
    consumed: set[int] = set()
    for position, word in enumerate(words):
        # The second word may come one word later: "send it back", "send an item back".
        for length in _PAIR_LENGTHS:
            for second, concept in _PAIR_STARTS.get(word[:length], ()) if length <= len(word) else ():
                for offset, following in enumerate(words[position + 1 : position + 3], start=position + 1):
                    if following.startswith(second):
                        pairs.setdefault(position, []).append(concept)
                        consumed.update((position, offset))
                        break
    found: dict[str, None] = {}
    for position, word in enumerate(words):
        if position not in consumed:
            for concept in _word_concepts(word):
                found[concept] = None
        for concept in pairs.get(position, ()):
            found[concept] = None
    return list(found)
