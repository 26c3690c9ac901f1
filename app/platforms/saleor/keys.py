"""Saleor's signing keys: the JWKS each Saleor serves, cached on its Shop row, and
the two things signed with it (webhook bodies and JWTs).

A webhook's `Saleor-Signature` is a compact JWS, RS256, with a detached and
unencoded payload (RFC 7797: `b64: false`): the signed bytes are
`b64url(header) + "." + raw body`. Dashboard tokens and customer access tokens
are ordinary RS256 JWTs from the same key. Keys rotate: a `kid` we do not know
makes us fetch the JWKS once more before refusing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class SignatureError(ValueError):
    """The signature or token does not verify; the message says why (safe to show)."""


class JWKSUnavailable(RuntimeError):
    """The Saleor's JWKS could not be fetched: our side or theirs is down, not bad input."""


def jwks_url(api_url: str) -> str:
    """`https://shop.example/graphql/` → `https://shop.example/.well-known/jwks.json`."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}/.well-known/jwks.json"


def fetch_jwks(api_url: str, client: httpx.Client | None = None) -> str:
    """The JWKS document as text, checked to be a key set."""
    try:
        if client is None:
            with httpx.Client(timeout=TIMEOUT) as own:
                response = own.get(jwks_url(api_url))
        else:
            response = client.get(jwks_url(api_url))
        response.raise_for_status()
        KeySet.import_key_set(response.json())
    except (httpx.HTTPError, ValueError, JoseError) as exc:
        raise JWKSUnavailable(f"could not fetch the JWKS of {api_url}: {exc}") from None
    return response.text


def key_ids(jwks_text: str | None) -> set[str]:
    if not jwks_text:
        return set()
    try:
        return {str(k.get("kid")) for k in json.loads(jwks_text).get("keys", []) if k.get("kid")}
    except (ValueError, AttributeError):
        return set()


def header_kid(compact: str) -> str | None:
    """The `kid` of a compact JWS/JWT header, without verifying anything."""
    try:
        kid: str | None = json.loads(_b64decode(compact.split(".", 1)[0])).get("kid")
        return kid
    except (ValueError, IndexError, AttributeError):
        return None


class KeyRing:
    """One Saleor's keys: the cached JWKS, refetched once when a `kid` is unknown.

    `load` returns the cached JWKS text (or None); `store` saves a refetched one;
    `fetch` gets it from Saleor. Keeping these as callables lets the web layer keep
    the cache on the Shop row and tests point `fetch` at the stand-in.
    """

    def __init__(
        self,
        api_url: str,
        load: Callable[[], str | None],
        store: Callable[[str], None],
        fetch: Callable[[str], str] = fetch_jwks,
        may_refetch: Callable[[], bool] = lambda: True,
    ):
        self.api_url = api_url
        self._load = load
        self._store = store
        self._fetch = fetch
        # Asked before refetching for an unknown `kid`: anyone can send one, and each
        # would otherwise make Parley fetch the Saleor's keys again.
        self._may_refetch = may_refetch

    def keys_for(self, compact: str) -> KeySet:
        cached = self._load()
        kid = header_kid(compact)
        if cached is None or (kid is not None and kid not in key_ids(cached)):
            # Asked for every fetch, the first one too: the answer may also be JWKSUnavailable.
            if not self._may_refetch():
                if cached is None:
                    raise JWKSUnavailable(f"no keys of {self.api_url} are at hand; retry later")
                raise SignatureError("the signing key is unknown, and this Saleor's keys were fetched moments ago")
            cached = self._fetch(self.api_url)
            self._store(cached)
        try:
            return KeySet.import_key_set(json.loads(cached))
        except (ValueError, JoseError):
            raise JWKSUnavailable(f"the stored keys of {self.api_url} are not a key set") from None

    def verify_webhook(self, signature: str, raw_body: bytes) -> None:
        """Check `Saleor-Signature` against the raw body bytes; raise SignatureError."""
        if not signature or signature.count(".") != 2 or signature.split(".")[1] != "":
            raise SignatureError("Saleor-Signature must be a detached JWS (header..signature)")
        try:
            header = json.loads(_b64decode(signature.split(".")[0]))
        except ValueError:
            raise SignatureError("the Saleor-Signature header is not valid") from None
        if header.get("alg") != "RS256" or header.get("b64") is not False:
            raise SignatureError("Saleor-Signature must be RS256 over the unencoded body (b64: false)")
        keys = self.keys_for(signature)
        try:
            jws.deserialize_compact(signature, keys, payload=raw_body, algorithms=["RS256"])
        except (JoseError, ValueError) as exc:
            raise SignatureError(f"the Saleor-Signature does not match the body ({type(exc).__name__})") from None

    def verify_jwt(self, token: str) -> dict[str, Any]:
        """Verify an RS256 JWT from this Saleor; returns its claims. Callers check the claims."""
        if not token or token.count(".") != 2:
            raise SignatureError("the token is not a JWT")
        keys = self.keys_for(token)
        try:
            decoded = jwt.decode(token, keys, algorithms=["RS256"])
        except (JoseError, ValueError) as exc:
            raise SignatureError(f"the token's signature does not verify ({type(exc).__name__})") from None
        return dict(decoded.claims)


def check_claims(claims: dict[str, Any], now: float, **expected: Any) -> None:
    """`exp` in the future and each expected claim equal; raise SignatureError naming the claim."""
    options: dict[str, jwt.ClaimsOption] = {k: {"essential": True, "value": v} for k, v in expected.items()}
    try:
        registry = jwt.JWTClaimsRegistry(now=int(now), leeway=0, exp={"essential": True}, **options)
        registry.validate(claims)
    except JoseError as exc:
        raise SignatureError(f"the token is not valid here: {exc.description or exc.error}") from None


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
