"""Query strings the APIs take, declared: each model says what a parameter may be, and
the sentence a caller gets when it is not (app/inputs.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from flask import request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from werkzeug.routing import IntegerConverter, Map

from app.inputs import parse

Query = TypeVar("Query", bound=BaseModel)


# Ids are 64-bit in the database; a larger one can name nothing.
MAX_ID = 2**63 - 1


class StoredId(IntegerConverter):
    """`<int:…>` in every route: an id beyond 64 bits matches no route (404), rather than
    reaching the database, which cannot compare it (a 500 on PostgreSQL)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _whole(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit() and int(value) <= MAX_ID:
        return int(value)
    raise ValueError("not a whole number")


def _page_size(value: Any) -> int:
    """Out of range is clamped, not refused: a page holds 1 to 100."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError("not a whole number") from None
    return min(max(number, 1), 100)


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return date.fromisoformat(value)
    raise ValueError("not a date")


Whole = Annotated[int, BeforeValidator(_whole)]
OptionalWhole = Annotated[Whole | None, BeforeValidator(_blank_is_none)]
Day = Annotated[date | None, BeforeValidator(_day), BeforeValidator(_blank_is_none)]


def read_query(model: type[Query], messages: dict[str, str], code: str = "invalid_query") -> Query:
    """The request's query string as `model`, or a 400 with the model's sentence."""
    return parse(model, request.args.to_dict(), code=code, messages={"": "the query string is not valid", **messages})


class Page(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: Annotated[int, BeforeValidator(_page_size)] = 50


class InboxQuery(Page):
    tab: str = "open"
    q: str | None = None
    cursor: str | None = None


INBOX_MESSAGES = {"limit": "limit must be a whole number"}


class HistoryQuery(Page):
    before: OptionalWhole = None
    conversation_id: Annotated[str | None, BeforeValidator(_blank_is_none)] = None


HISTORY_MESSAGES = {
    "before": "before and limit must be whole numbers",
    "limit": "before and limit must be whole numbers",
}


class ThreadQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    before: OptionalWhole = None


THREAD_MESSAGES = {"before": "before must be a message id"}


class PeriodQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    first: Annotated[Day, Field(alias="from")] = None
    last: Annotated[Day, Field(alias="to")] = None


PERIOD_MESSAGES = {"from": "from must be a date written YYYY-MM-DD", "to": "to must be a date written YYYY-MM-DD"}
