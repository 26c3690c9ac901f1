"""Money as text: exact amounts for machines, locale-aware prices for people.

Amounts are `Decimal` with a currency everywhere in Parley; this is the one place
they become text. `amount_text` is what JSON and CSV carry (no float ever parses
it back wrong); `format_money` is what a person reads, through Babel's CLDR data.
"""

from __future__ import annotations

from decimal import Decimal

from babel.core import UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision

DEFAULT_LOCALE = "en"


def amount_text(amount: Decimal, currency: str | None = None) -> str:
    """An exact amount with at least its currency's decimals (two when unknown):
    129.9 EUR → "129.90", 0.005 → "0.005", 1500 JPY → "1500"."""
    digits = get_currency_precision(currency) if currency else 2
    quantum = Decimal(1).scaleb(-digits)
    rounded = amount.quantize(quantum)
    return str(rounded if rounded == amount else amount.normalize())


def format_money(amount: Decimal, currency: str, locale: str | None = None) -> str:
    """A price as a shopper or merchant reads it in their language: "1 234,50 €" (et), "$1,234.50" (en)."""
    try:
        return format_currency(amount, currency, locale=(locale or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return format_currency(amount, currency, locale=DEFAULT_LOCALE)
