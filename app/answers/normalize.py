"""Text as the matcher compares it: one spelling for the many ways shoppers type a word.

Shoppers leave out what their keyboard makes hard: Estonian and Polish diacritics
("zamowienie" for "zamówienie", "paev" for "päev"), Hebrew niqqud, Arabic harakat and
hamza seats, Russian ё. They mix scripts and write Russian in Latin letters ("gde moi
zakaz"). `normalize` folds all of that away for matching only: the answer a shopper
is shown keeps the merchant's text as written.

`phonetic` goes one step further for the languages that shoppers often transliterate
(Russian, Arabic): both the native script and its Latin spellings land on one rough
Latin key, so "dostavka" meets "доставка" and "tawseel" meets "توصيل".
"""

from __future__ import annotations

import re
import unicodedata

# Characters with no decomposition that still stand for a plain letter when matching.
_LETTERS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        # Arabic: the letter variants shoppers use interchangeably (alef forms decompose
        # to alef + hamza/madda and lose the mark with the other combining marks).
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ک": "ك",
        "ة": "ه",
        "ـ": None,  # tatweel: stretches a word, means nothing
        # Hebrew final letters: the same letter, spelt differently at the end of a word,
        # so "חינם" and "חינמי" share their n-grams.
        "ך": "כ",
        "ם": "מ",
        "ן": "נ",
        "ף": "פ",
        "ץ": "צ",
    }
)
# Marks that join a word rather than split it: apostrophes ("doesn't", Hebrew geresh in
# "צ׳אט", Arabizi "ta'3zeez") and the Hebrew gershayim of abbreviations ("חו״ל").
_JOINERS = dict.fromkeys(map(ord, "'’ʼ`´׳״\""), None)


def _marks_and_digits() -> tuple[re.Pattern[str], dict[int, str]]:
    # Every combining mark (category Mn) of the Basic Multilingual Plane as one character
    # class, and every non-ASCII decimal digit as its ASCII digit: built once, so folding
    # is a regular expression and a translate, not a Python loop over characters.
    marks: list[str] = []
    digits: dict[int, str] = {}
    for code in range(0x80, 0x10000):
        char = chr(code)
        category = unicodedata.category(char)
        if category == "Mn":
            marks.append(char)
        elif category == "Nd":
            digits[code] = str(unicodedata.digit(char))
    return re.compile("[" + "".join(re.escape(mark) for mark in marks) + "]"), digits


_MARKS, _DIGITS = _marks_and_digits()
_FOLD = {**_DIGITS, **{key: value for key, value in _LETTERS.items()}}
_NOT_WORD = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Case-folded, without diacritics, tatweel or punctuation, letter variants unified,
    digits kept as ASCII digits, single spaces. For matching only, never for showing."""
    return _NOT_WORD.sub(" ", fold(text).translate(_JOINERS)).strip()


def fold(text: str) -> str:
    """`normalize` with the punctuation kept ("#1001", "№ 5"), for the intents' patterns."""
    return fold_letters(unicodedata.normalize("NFKC", text).casefold())


def fold_letters(text: str) -> str:
    """Diacritics off (niqqud, cantillation, harakat, hamza seats, Latin accents), letter
    variants unified, digits as 0–9; nothing else changed, so a regular expression written
    in lower case can be folded like the text it reads."""
    if text.isascii():
        return text
    stripped = _MARKS.sub("", unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFC", stripped).translate(_FOLD)


# -- transliteration keys ------------------------------------------------------------------

_CYRILLIC = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "h",
        "ц": "c",
        "ч": "ch",
        "ш": "sh",
        "щ": "sh",
        "ъ": "",
        "ы": "i",
        "ь": "",
        "э": "e",
        "ю": "iu",
        "я": "ia",
        "і": "i",
        "ї": "i",
        "є": "e",
        "ў": "u",
    }
)
# How Russian is typed in Latin letters, reduced to one spelling: "zhdat"/"zdat", "moj"/
# "moy"/"moi", "ya"/"ja"/"ia", "kh"/"h", "ts"/"c", "shch"/"sch"/"sh".
_RU_LATIN = (
    ("shch", "sh"),
    ("sch", "sh"),
    ("zh", "z"),
    ("kh", "h"),
    ("ts", "c"),
    ("tz", "c"),
    ("w", "v"),
    ("j", "i"),
    ("y", "i"),
    ("x", "ks"),
)
# Arabic letters as Arabizi writes them, by sound; the digits Arabizi uses for letters
# Latin lacks (3 = ع, 7 = ح, 5 = خ, 2 = ء/ق, 6 = ط, 9 = ص, 8 = غ) map to the same key.
_ARABIC = str.maketrans(
    {
        "ا": "",
        "ء": "",
        "ب": "b",
        "ت": "t",
        "ث": "t",
        "ج": "j",
        "ح": "h",
        "خ": "kh",
        "د": "d",
        "ذ": "d",
        "ر": "r",
        "ز": "z",
        "س": "s",
        "ش": "sh",
        "ص": "s",
        "ض": "d",
        "ط": "t",
        "ظ": "z",
        "ع": "",
        "غ": "gh",
        "ف": "f",
        "ق": "k",
        "ك": "k",
        "ل": "l",
        "م": "m",
        "ن": "n",
        "ه": "h",
        "و": "w",
        "ي": "",
    }
)
_ARABIZI_DIGITS = str.maketrans({"2": "", "3": "", "5": "kh", "6": "t", "7": "h", "8": "gh", "9": "s"})
_ARABIZI = (("th", "t"), ("dh", "d"), ("ch", "sh"), ("q", "k"), ("g", "j"), ("ou", "w"), ("oo", "w"), ("y", ""))
_VOWELS = str.maketrans(dict.fromkeys("aeiou", None))
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
_LATIN_LETTER = re.compile(r"[a-z]")
_DOUBLES = re.compile(r"([a-z])\1+")
# The article and the one-letter words that Arabizi writes apart and Arabic joins on.
_ARABIC_ARTICLE = re.compile(r"^(?:و|ف|ب|ك|ل)?ال(?=..)")
_ARABIZI_ARTICLE = {"el", "al", "il", "l", "w", "wa", "b", "bel", "bil", "fel", "fil"}


def phonetic(normalized: str, language: str) -> str | None:
    """A rough Latin key for a language shoppers often write in Latin letters, or None
    for the others. Both the native spelling and the Latin one reach the same key, so it
    is only ever compared with keys made by this function."""
    if language == "ru":
        return _russian_key(normalized)
    if language == "ar":
        return _arabic_key(normalized)
    return None


def _russian_key(text: str) -> str:
    text = text.translate(_CYRILLIC)
    for spelling, key in _RU_LATIN:
        text = text.replace(spelling, key)
    return _DOUBLES.sub(r"\1", text)


def _arabic_key(text: str) -> str:
    words = []
    for word in text.split():
        if _ARABIC_LETTER.search(word):
            key = _ARABIC_ARTICLE.sub("", word).translate(_ARABIC)
        elif _LATIN_LETTER.search(word):
            if word in _ARABIZI_ARTICLE:
                continue
            key = word.translate(_ARABIZI_DIGITS)
            for spelling, replacement in _ARABIZI:
                key = key.replace(spelling, replacement)
            # Arabic writes no short vowels; Arabizi writes all of them.
            key = key.translate(_VOWELS)
        else:
            key = word
        if key:
            words.append(_DOUBLES.sub(r"\1", key))
    return " ".join(words)
