"""The one error type: what went wrong, said for the caller.

Core actions, platform adapters and views all raise `ParleyError` (or a subclass
that only names the area). One handler in the web layer turns it into
`{"error": code, "message": sentence}` with its status, plus `field` when the
error is about one input, so the page can point at it.
"""

from __future__ import annotations

from collections.abc import Mapping


class ParleyError(Exception):
    """`status` is the HTTP status to answer; `code` a short stable identifier;
    `message` a sentence a person can act on; `field` the input it is about."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def as_json(self) -> dict[str, str]:
        body = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code!r}, {self.message!r})"
