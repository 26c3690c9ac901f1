"""The words a shopper's question shares with every answer: question words, pronouns,
particles, greetings. Left in, "how long is a gift card valid" is closest to "How long
is shipping?"; taken out, to "gift card".

One list for all six languages (and Russian in Latin letters): shoppers mix languages,
and no word here carries a topic in any of them. Words that tell topics apart stay
("much" and "long", "kosztuje", "עולה"): only the shared frame goes. Written as
shoppers type them; `normalize` folds them as it folds the questions.
"""

from __future__ import annotations

from app.answers.normalize import normalize

_WORDS = """
a an the is are am be was were been do does did doing have has had i im me my mine we our us you u ur your
yours he she it its they them their this that these those there here what whats which who whom whose how
can could would should will wil shall may might must to of in on at for from by with about as into and or
but if so not no yes please pls plz hi hello hey thanks thank any some just also too very get got want
wanna need there s d ll ve re dont
kas ja on ei et see seda selle mis mida kes ma mina mu minu sa sina su sinu te teie teil teile teid me
meie meil nad ka ning või voi kui siis aga palun tere tänan aitäh ikka veel nüüd juba mul mulle saab saan
saaks oleks olen oled olete pole
של את עם על אני אתם אתן אנחנו לכם לכן לי לך זה זאת הוא היא יש אין אפשר מה איך כמה היי שלום תודה בבקשה גם
רק או אם כי כן לא עוד רוצה רוצים אשמח
هل في من على الى إلى عن ما ماذا كيف كم انا انت انتم نحن عندكم لديكم لكم لي هذا هذه ذلك و او أو يا لو
سمحت ممكن اقدر ابي ابغى بدي اريد أريد يوجد فيه شو ايش وش مرحبا السلام عليكم شكرا مع اذا إذا ان أن ولا
czy jest są sa to ten ta te w we z ze na do o od po i a lub albo jak jaki jaka jakie można mozna mogę moge
mi mnie ja wy was wam wasz wasza macie ma się sie nie też tez już juz proszę prosze hej cześć czesc
dziękuję dziekuje co który która które ile dzień dobry
как какой какая какие каком можно ли есть в во на с со к ко у о об по из от и или а но не я мне меня мы вы
вас вам ваш ваша ваше ваши это этот эта что чтобы если уже ещё бы же пожалуйста здравствуйте привет спасибо
сколько скоко подскажите
kak mozhno mozno est li vas vy v s ili skolko skoko mne ia ya eto
"""

STOP_WORDS = frozenset(normalize(word) for word in _WORDS.split())


def content_words(normalized: str) -> list[str]:
    """The words of a normalized text that are not in STOP_WORDS."""
    return [word for word in normalized.split() if word not in STOP_WORDS]
