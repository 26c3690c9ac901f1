"""Declared inputs: a pydantic model says what a request may carry, and `parse` turns
its first complaint into a ParleyError a person can act on.

pydantic's own messages speak of types ("Input should be a valid integer"); ours
speak of the field as the caller knows it. Each model lists its sentences by field
path, `items[*].quantity` standing for any line; `{field}` in a sentence is the
concrete path (`items[3].quantity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import ParleyError

Model = TypeVar("Model", bound=BaseModel)


class Refusal(ValueError):
    """Raised by a validator that has its own sentence for the caller ({field} allowed),
    and may name a part of its field more precisely (`hours.weekly.tue`)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def field_path(loc: tuple[int | str, ...], *, any_index: bool = False) -> str:
    """('items', 0, 'quantity') → "items[0].quantity" ("items[*].quantity" with any_index)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += "[*]" if any_index else f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def parse(
    model: type[Model],
    data: Any,
    *,
    code: str,
    messages: Mapping[str, str],
    status: int = 400,
    with_field: bool = False,
    root: str = "body",
) -> Model:
    """`data` as a `model`, or ParleyError(status, code, sentence) about its first problem.

    `messages[""]` is said when the input is not an object at all (its field is `root`).
    `with_field` adds the field path to the error, for pages that point at the input.
    """
    if not isinstance(data, dict):
        raise ParleyError(status, code, messages[""], field=root if with_field else None)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _first(exc, code, messages, status, with_field) from None


def _first(exc: ValidationError, code: str, messages: Mapping[str, str], status: int, with_field: bool) -> ParleyError:
    error = exc.errors(include_url=False)[0]
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    path = field_path(loc)
    cause = error.get("ctx", {}).get("error")
    own = str(cause) if isinstance(cause, Refusal) else ""
    if isinstance(cause, Refusal) and cause.field:
        path = cause.field
    template = own or messages.get(field_path(loc, any_index=True), "")
    if error["type"] == "extra_forbidden" and "extra" in messages:
        template = messages["extra"]
    if not template:
        template = "{field} is not valid"
    return ParleyError(status, code, template.format(field=path), field=path if with_field else None)
