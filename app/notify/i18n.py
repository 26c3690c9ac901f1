"""What Parley says to a shopper outside the chat, in the widget's six languages.

The widget's own words live in extensions/parley-chat/locales; these are the
e-mails and the pages a link from an e-mail opens. `{shop}` is the shop's name.
"""

from __future__ import annotations

LANGUAGES = ("en", "et", "he", "ar", "pl", "ru")
RIGHT_TO_LEFT = ("he", "ar")

_TEXTS: dict[str, dict[str, str]] = {
    # Merchant alerts, in the language chosen in Settings → Notifications.
    "alert_one": {
        "en": "New message on {shop}",
        "et": "Uus sõnum poes {shop}",
        "he": "הודעה חדשה ב-{shop}",
        "ar": "رسالة جديدة في {shop}",
        "pl": "Nowa wiadomość w {shop}",
        "ru": "Новое сообщение в {shop}",
    },
    "alert_many": {
        "en": "{count} new messages on {shop}",
        "et": "{count} uut sõnumit poes {shop}",
        "he": "{count} הודעות חדשות ב-{shop}",
        "ar": "{count} رسائل جديدة في {shop}",
        "pl": "Nowe wiadomości w {shop}: {count}",
        "ru": "Новых сообщений в {shop}: {count}",
    },
    "alert_cart": {
        "en": "cart",
        "et": "ostukorv",
        "he": "עגלה",
        "ar": "السلة",
        "pl": "koszyk",
        "ru": "корзина",
    },
    "alert_open": {
        "en": "Open the conversation",
        "et": "Ava vestlus",
        "he": "לפתיחת השיחה",
        "ar": "افتح المحادثة",
        "pl": "Otwórz rozmowę",
        "ru": "Открыть разговор",
    },
    "alert_why": {
        "en": "Parley sends this because nobody had the Support page open. Change it in Support → Settings → Notifications.",
        "et": "Parley saadab selle, sest keegi ei hoidnud tugilehte lahti. Muuda seda: Tugi → Seaded → Teavitused.",
        "he": "Parley שולח את זה כי אף אחד לא החזיק את דף התמיכה פתוח. אפשר לשנות זאת בתמיכה → הגדרות → התראות.",
        "ar": "يرسل Parley هذا لأن أحدًا لم يكن قد فتح صفحة الدعم. غيّر ذلك من الدعم ← الإعدادات ← الإشعارات.",
        "pl": "Parley wysyła to, bo nikt nie miał otwartej strony obsługi. Zmienisz to w: Obsługa → Ustawienia → Powiadomienia.",
        "ru": "Parley присылает это, потому что страница поддержки ни у кого не была открыта. Изменить: Поддержка → Настройки → Уведомления.",
    },
    "reply_subject": {
        "en": "{shop} answered your question",
        "et": "{shop} vastas sinu küsimusele",
        "he": "{shop} ענו על השאלה שלך",
        "ar": "ردّ {shop} على سؤالك",
        "pl": "{shop} odpowiada na Twoje pytanie",
        "ru": "{shop} ответили на ваш вопрос",
    },
    "reply_intro": {
        "en": "{shop} answered while you were away:",
        "et": "{shop} vastas, kui sind polnud:",
        "he": "{shop} ענו בזמן שלא היית כאן:",
        "ar": "ردّ {shop} أثناء غيابك:",
        "pl": "{shop} odpowiada, gdy Cię nie było:",
        "ru": "{shop} ответили, пока вас не было:",
    },
    "continue": {
        "en": "Continue the conversation",
        "et": "Jätka vestlust",
        "he": "להמשך השיחה",
        "ar": "تابع المحادثة",
        "pl": "Kontynuuj rozmowę",
        "ru": "Продолжить разговор",
    },
    "reply_hint": {
        "en": "You can also simply reply to this e-mail.",
        "et": "Võid ka lihtsalt sellele kirjale vastata.",
        "he": "אפשר גם פשוט להשיב למייל הזה.",
        "ar": "يمكنك أيضًا الرد على هذه الرسالة مباشرة.",
        "pl": "Możesz też po prostu odpowiedzieć na tę wiadomość.",
        "ru": "Можно просто ответить на это письмо.",
    },
    "earlier": {
        "en": "Earlier in the conversation",
        "et": "Varem vestluses",
        "he": "קודם בשיחה",
        "ar": "في وقت سابق من المحادثة",
        "pl": "Wcześniej w rozmowie",
        "ru": "Ранее в разговоре",
    },
    "you": {"en": "You", "et": "Sina", "he": "את/ה", "ar": "أنت", "pl": "Ty", "ru": "Вы"},
    "why": {
        "en": "You get this e-mail because you asked {shop} to send answers to this address.",
        "et": "Saad selle kirja, sest palusid poel {shop} vastused sellele aadressile saata.",
        "he": "קיבלת את המייל הזה כי ביקשת מ-{shop} לשלוח תשובות לכתובת הזו.",
        "ar": "تصلك هذه الرسالة لأنك طلبت من {shop} إرسال الردود إلى هذا العنوان.",
        "pl": "Otrzymujesz tę wiadomość, bo poprosiłeś(-aś) {shop} o odpowiedzi na ten adres.",
        "ru": "Вы получили это письмо, потому что попросили {shop} присылать ответы на этот адрес.",
    },
    "unsubscribe": {
        "en": "Stop these e-mails",
        "et": "Lõpeta need kirjad",
        "he": "להפסיק את המיילים האלה",
        "ar": "إيقاف هذه الرسائل",
        "pl": "Nie wysyłaj tych wiadomości",
        "ru": "Больше не присылать",
    },
    "unsubscribed": {
        "en": "You will get no more e-mails from this chat.",
        "et": "Sellest vestlusest sulle enam kirju ei tule.",
        "he": "לא יישלחו אליך עוד מיילים מהצ'אט הזה.",
        "ar": "لن تصلك رسائل أخرى من هذه المحادثة.",
        "pl": "Nie otrzymasz już wiadomości z tego czatu.",
        "ru": "Писем из этого чата больше не будет.",
    },
    "link_expired": {
        "en": "This link no longer opens the conversation.",
        "et": "See link ei ava enam vestlust.",
        "he": "הקישור הזה כבר לא פותח את השיחה.",
        "ar": "هذا الرابط لم يعد يفتح المحادثة.",
        "pl": "Ten link nie otwiera już rozmowy.",
        "ru": "Эта ссылка больше не открывает разговор.",
    },
    "send_new_link": {
        "en": "Send me a new link",
        "et": "Saada mulle uus link",
        "he": "שלחו לי קישור חדש",
        "ar": "أرسل لي رابطًا جديدًا",
        "pl": "Wyślij mi nowy link",
        "ru": "Прислать новую ссылку",
    },
    "new_link_sent": {
        "en": "A new link is on its way to the address you gave.",
        "et": "Uus link on teel sinu antud aadressile.",
        "he": "קישור חדש בדרך לכתובת שמסרת.",
        "ar": "رابط جديد في طريقه إلى العنوان الذي أعطيته.",
        "pl": "Nowy link jest już w drodze na podany adres.",
        "ru": "Новая ссылка уже отправлена на указанный адрес.",
    },
    "link_unknown": {
        "en": "This link is not one we sent. Open the shop's chat to ask again.",
        "et": "Seda linki pole meie saatnud. Ava poe vestlus ja küsi uuesti.",
        "he": "את הקישור הזה לא אנחנו שלחנו. אפשר לפתוח את הצ'אט של החנות ולשאול שוב.",
        "ar": "لم نرسل هذا الرابط. افتح محادثة المتجر واسأل مجددًا.",
        "pl": "Tego linku nie wysłaliśmy. Otwórz czat sklepu i zapytaj ponownie.",
        "ru": "Эту ссылку отправляли не мы. Откройте чат магазина и спросите снова.",
    },
    "attachments_dropped": {
        "en": "(Attachments sent by e-mail are not shown in the chat yet; please describe them in words.)",
        "et": "(E-postiga saadetud manuseid vestluses veel ei näidata; palun kirjelda neid sõnadega.)",
        "he": "(קבצים מצורפים שנשלחו במייל עדיין לא מוצגים בצ'אט; אפשר לתאר אותם במילים.)",
        "ar": "(لا تظهر المرفقات المرسلة بالبريد في المحادثة بعد؛ يرجى وصفها بالكلمات.)",
        "pl": "(Załączniki wysłane e-mailem nie są jeszcze widoczne w czacie; opisz je słowami.)",
        "ru": "(Вложения из писем пока не показываются в чате; опишите их словами.)",
    },
}


def language_of(locale: str | None) -> str:
    """The widget language for a locale such as `et-EE` (English when unknown)."""
    code = (locale or "en").split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else "en"


def text(key: str, locale: str | None, **values: str) -> str:
    return _TEXTS[key][language_of(locale)].format(**values)


def direction(locale: str | None) -> str:
    return "rtl" if language_of(locale) in RIGHT_TO_LEFT else "ltr"
