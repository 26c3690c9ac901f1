"""Signed visitor tokens: which visitor of which shop is talking.

The token is the widget's only credential, so it is signed with SECRET_KEY,
bound to one shop, and expires; the widget gets a fresh one on every session.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.errors import ParleyError

TOKEN_MAX_AGE = 180 * 24 * 3600


class InvalidVisitorToken(ParleyError):
    """The widget's token is missing, expired or forged: the widget starts a fresh session."""

    def __init__(self, message: str):
        super().__init__(401, "invalid_token", message)


@dataclass(frozen=True)
class VisitorClaim:
    visitor_id: str
    shop_id: int


class VisitorTokens:
    def __init__(self, secret_key: str, max_age: int = TOKEN_MAX_AGE):
        self._serializer = URLSafeTimedSerializer(secret_key, salt="parley-visitor")
        self.max_age = max_age

    def issue(self, visitor_id: str, shop_id: int) -> str:
        return self._serializer.dumps({"v": visitor_id, "s": shop_id})

    def read(self, token: str | None) -> VisitorClaim:
        if not token:
            raise InvalidVisitorToken("a visitor token is required")
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            raise InvalidVisitorToken("the visitor token has expired") from None
        except BadSignature:
            raise InvalidVisitorToken("the visitor token is not valid") from None
        if not isinstance(data, dict) or not isinstance(data.get("v"), str) or not isinstance(data.get("s"), int):
            raise InvalidVisitorToken("the visitor token is not valid")
        return VisitorClaim(visitor_id=data["v"], shop_id=data["s"])
