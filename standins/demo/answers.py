"""The demo shops' answers, in the widget's six languages: what a small Nordic outdoor
shop writes down (delivery, its cost, returns, payment, sizes, contact), so a shopper in
any of them gets an instant answer in `make demo`, and everything else a clean handover.

Also the demo Shopify store's own policies and pages, for the Answers page's import
button, and the tracking of the demo customer's shipped order.
"""

from __future__ import annotations

from typing import Any

# (key, question, alternatives, answer) per language; the key only lines up translations.
DEMO_ANSWERS: dict[str, list[tuple[str, str, list[str], str]]] = {
    "en": [
        (
            "delivery_time",
            "How long does delivery take?",
            ["when will my order arrive", "shipping time", "how fast do you ship"],
            "We ship on the next working day. Parcels reach Estonia in 1–2 working days, the rest of the EU "
            "in 3–5. You get a tracking link by e-mail when it leaves.",
        ),
        (
            "delivery_cost",
            "How much is shipping?",
            ["is delivery free", "shipping cost", "delivery price"],
            "Shipping is 4.90 € to a parcel machine and 7.90 € by courier, free on orders over 60 €.",
        ),
        (
            "returns",
            "Can I return an item?",
            ["return policy", "how do I send something back", "refund"],
            "Yes: within 30 days, unworn and with its tags. Start a return at "
            "https://parley-demo.example/returns and we refund within 5 days of receiving it.",
        ),
        (
            "payment",
            "How can I pay?",
            ["payment methods", "do you take paypal", "can I pay by card"],
            "By card (Visa, Mastercard), Apple Pay, Google Pay, PayPal, or by bank link.",
        ),
        (
            "sizes",
            "What size should I choose?",
            ["size guide", "does the parka run large", "sizing"],
            "Our knitwear fits true to size; the Aurora parka runs large, so take one size down. "
            "Measurements: https://parley-demo.example/sizes",
        ),
    ],
    "et": [
        (
            "delivery_time",
            "Kui kaua tarne aega võtab?",
            ["millal pakk kohale jõuab", "tarneaeg", "kui kiiresti saadate"],
            "Saadame pakid teele järgmisel tööpäeval. Eestis jõuavad need kohale 1–2 tööpäevaga, mujale ELi "
            "3–5 päevaga. Jälgimislingi saad e-postiga, kui pakk teele läheb.",
        ),
        (
            "delivery_cost",
            "Palju transport maksab?",
            ["kas tarne on tasuta", "saatmise hind", "postikulu"],
            "Pakiautomaati 4,90 €, kulleriga 7,90 €; üle 60 € tellimustele tasuta.",
        ),
        (
            "returns",
            "Kas saan toote tagastada?",
            ["tagastamine", "kuidas toodet tagasi saata", "raha tagasi"],
            "Jah, 30 päeva jooksul, kandmata ja siltidega. Alusta tagastust aadressil "
            "https://parley-demo.example/returns – raha tuleb tagasi 5 päeva jooksul pärast kauba kättesaamist.",
        ),
        (
            "payment",
            "Kuidas saab maksta?",
            ["makseviisid", "kas saab kaardiga maksta", "pangalink"],
            "Kaardiga (Visa, Mastercard), Apple Pay, Google Pay, PayPali või pangalingiga.",
        ),
        (
            "sizes",
            "Mis suurust valida?",
            ["suurustabel", "kas parka on suur", "suurused"],
            "Kudumid on tavasuuruses; Aurora parka on suur, vali number väiksem. "
            "Mõõdud: https://parley-demo.example/sizes",
        ),
    ],
    "pl": [
        (
            "delivery_time",
            "Jak długo trwa dostawa?",
            ["kiedy dotrze paczka", "czas wysyłki", "jak szybko wysyłacie"],
            "Wysyłamy następnego dnia roboczego. Do Polski paczka dociera w 3–5 dni roboczych; "
            "link do śledzenia dostaniesz e-mailem.",
        ),
        (
            "delivery_cost",
            "Ile kosztuje wysyłka?",
            ["czy dostawa jest darmowa", "koszt dostawy", "cena przesyłki"],
            "Wysyłka do paczkomatu kosztuje 4,90 €, kurierem 7,90 €; powyżej 60 € jest darmowa.",
        ),
        (
            "returns",
            "Czy mogę zwrócić produkt?",
            ["zwrot", "jak odesłać towar", "zwrot pieniędzy"],
            "Tak, w ciągu 30 dni, nienoszony i z metkami. Zwrot zgłosisz na https://parley-demo.example/returns, "
            "a pieniądze oddamy w ciągu 5 dni od otrzymania paczki.",
        ),
        (
            "payment",
            "Jak mogę zapłacić?",
            ["metody płatności", "czy mogę zapłacić kartą", "blik"],
            "Kartą (Visa, Mastercard), Apple Pay, Google Pay, PayPalem lub przelewem.",
        ),
        (
            "sizes",
            "Jaki rozmiar wybrać?",
            ["tabela rozmiarów", "czy parka jest duża", "rozmiary"],
            "Dzianiny mają standardową rozmiarówkę; parka Aurora jest duża, wybierz rozmiar mniejszy. "
            "Wymiary: https://parley-demo.example/sizes",
        ),
    ],
    "ru": [
        (
            "delivery_time",
            "Сколько идёт доставка?",
            ["когда придёт заказ", "срок доставки", "как быстро отправляете"],
            "Отправляем на следующий рабочий день. По Эстонии посылка идёт 1–2 рабочих дня, по ЕС — 3–5. "
            "Ссылку для отслеживания пришлём по e-mail.",
        ),
        (
            "delivery_cost",
            "Сколько стоит доставка?",
            ["доставка бесплатная", "цена доставки", "стоимость пересылки"],
            "В пакомат — 4,90 €, курьером — 7,90 €; при заказе от 60 € доставка бесплатная.",
        ),
        (
            "returns",
            "Можно ли вернуть товар?",
            ["возврат", "как отправить товар обратно", "вернуть деньги"],
            "Да, в течение 30 дней, если вещь не носили и бирки на месте. Оформите возврат на "
            "https://parley-demo.example/returns — деньги вернём в течение 5 дней после получения.",
        ),
        (
            "payment",
            "Как можно оплатить?",
            ["способы оплаты", "можно картой", "оплата"],
            "Картой (Visa, Mastercard), Apple Pay, Google Pay, PayPal или через интернет-банк.",
        ),
        (
            "sizes",
            "Какой размер выбрать?",
            ["таблица размеров", "парка большемерит", "размеры"],
            "Трикотаж соответствует размеру; парка Aurora большемерит — берите на размер меньше. "
            "Мерки: https://parley-demo.example/sizes",
        ),
    ],
    "he": [
        (
            "delivery_time",
            "כמה זמן לוקח המשלוח?",
            ["מתי ההזמנה תגיע", "זמן משלוח", "תוך כמה זמן שולחים"],
            "אנחנו שולחים ביום העסקים הבא. משלוח לישראל לוקח 5–8 ימי עסקים, וקישור למעקב נשלח באימייל.",
        ),
        (
            "delivery_cost",
            "כמה עולה המשלוח?",
            ["האם המשלוח חינם", "מחיר משלוח", "דמי משלוח"],
            "משלוח בינלאומי עולה 12 €, וחינם בהזמנות מעל 100 €.",
        ),
        (
            "returns",
            "אפשר להחזיר מוצר?",
            ["מדיניות החזרות", "איך מחזירים", "החזר כספי"],
            "כן, תוך 30 יום, לא בשימוש ועם התוויות. פותחים החזרה ב-https://parley-demo.example/returns "
            "והכסף חוזר תוך 5 ימים מקבלת המוצר.",
        ),
        (
            "payment",
            "איך אפשר לשלם?",
            ["אמצעי תשלום", "אפשר לשלם בכרטיס אשראי", "פייפאל"],
            "בכרטיס אשראי (ויזה, מאסטרקארד), Apple Pay, Google Pay או PayPal.",
        ),
        (
            "sizes",
            "איזו מידה לבחור?",
            ["טבלת מידות", "הפארקה גדולה", "מידות"],
            "הסריגים במידה רגילה; מעיל הפארקה Aurora גדול, כדאי לקחת מידה אחת קטנה יותר. "
            "מידות: https://parley-demo.example/sizes",
        ),
    ],
    "ar": [
        (
            "delivery_time",
            "كم يستغرق التوصيل؟",
            ["متى يصل طلبي", "مدة الشحن", "كم يوم الشحن"],
            "نشحن في يوم العمل التالي. يصل الطلب إلى دول الخليج خلال 5–8 أيام عمل، ونرسل رابط التتبع بالبريد.",
        ),
        (
            "delivery_cost",
            "كم سعر الشحن؟",
            ["هل التوصيل مجاني", "رسوم الشحن", "تكلفة التوصيل"],
            "الشحن الدولي 12 €، ومجاني للطلبات فوق 100 €.",
        ),
        (
            "returns",
            "هل يمكنني إرجاع منتج؟",
            ["سياسة الإرجاع", "كيف أرجع المنتج", "استرجاع المبلغ"],
            "نعم، خلال 30 يومًا، غير مستعمل ومع البطاقات. ابدأ الإرجاع من https://parley-demo.example/returns "
            "ونعيد المبلغ خلال 5 أيام من استلامه.",
        ),
        (
            "payment",
            "كيف أدفع؟",
            ["طرق الدفع", "هل يمكن الدفع بالبطاقة", "الدفع"],
            "بالبطاقة (فيزا، ماستركارد)، Apple Pay، Google Pay أو PayPal.",
        ),
        (
            "sizes",
            "أي مقاس أختار؟",
            ["جدول المقاسات", "هل الباركا كبيرة", "المقاسات"],
            "الملابس المحبوكة بمقاسها المعتاد؛ سترة الباركا Aurora كبيرة، فاختر مقاسًا أصغر. "
            "القياسات: https://parley-demo.example/sizes",
        ),
    ],
}

DEMO_POLICIES = {
    "REFUND_POLICY": (
        "Refund policy",
        "<p>Return anything within <strong>30 days</strong>, unworn and with its tags. Refunds reach "
        "your card within 5 days of the parcel arriving back.</p>",
    ),
    "SHIPPING_POLICY": (
        "Shipping policy",
        "<p>We ship on the next working day. Estonia 1–2 days, the EU 3–5 days. Free over 60 €.</p>",
    ),
}
DEMO_PAGES = (("Care instructions", "<p>Wash wool by hand, cold, and dry it flat.</p>"),)


def answer_payloads() -> list[dict[str, Any]]:
    """Every demo answer as the Support page's API (app/answers/store.py) takes it."""
    return [
        {"language": language, "question": question, "alternatives": alternatives, "answer": answer}
        for language, answers in DEMO_ANSWERS.items()
        for _key, question, alternatives, answer in answers
    ]


def seed_answers(services: Any, shop_id: int) -> int:
    """Write the demo answers for a shop that has none yet; how many were written."""
    from app.answers import store

    with services.db.transaction() as session:
        if store.list_answers(session, shop_id):
            return 0
        now = services.now()
        for payload in answer_payloads():
            store.create_answer(session, shop_id, payload, now)
    return len(answer_payloads())


def seed_demo_assistant(app: Any, standin: Any, saleor: Any | None = None) -> dict[str, int]:
    """What `parley demo` adds for the assistant once both demo shops are installed: the
    six-language answers on each, the Shopify store's policies and pages to import, and
    tracking for the demo customer's shipped order. Answers written per shop."""
    from app import shops
    from app.models import Platform
    from standins.demo.names import DEMO_CUSTOMER_ID, DEMO_SHOP
    from standins.shopify import content

    content.enable_content(standin)
    for kind, (title, body) in DEMO_POLICIES.items():
        content.set_policy(standin, DEMO_SHOP, kind, title, body)
    present = {page["title"] for page in content.enable_content(standin).pages.get(DEMO_SHOP, [])}
    for title, body in DEMO_PAGES:
        if title not in present:
            content.add_page(standin, DEMO_SHOP, title, body)
    shipped = next(
        (
            o
            for o in standin._shop(DEMO_SHOP).orders.values()
            if o["customer_id"] == DEMO_CUSTOMER_ID and o["name"] == "#1001"
        ),
        None,
    )
    if shipped is not None and not content.enable_content(standin).fulfillments.get(DEMO_SHOP, {}).get(shipped["id"]):
        content.add_fulfillment(
            standin,
            DEMO_SHOP,
            shipped["id"],
            number="CC123456789EE",
            url="https://www.omniva.ee/track?barcode=CC123456789EE",
            company="Omniva",
        )
    services = app.extensions["parley"]
    written: dict[str, int] = {}
    targets = [(Platform.shopify, DEMO_SHOP)] + ([(Platform.saleor, saleor.api_url)] if saleor is not None else [])
    for platform, domain in targets:
        with services.db.session() as session:
            shop = shops.find_installed_shop(session, platform, domain)
        if shop is not None and shop.id is not None:
            written[domain] = seed_answers(services, shop.id)
    return written
