"""The signed tokens e-mail carries, all keyed by SECRET_KEY, each for one purpose.

- Reply address `reply+<conversation hex>.<mac>@<inbound domain>`: lower-case hex only,
  because relays may change the case of an address's local part; it names a
  conversation and nothing else, so it never expires (the shopper may answer weeks later).
- Resume link: a ResumeLink row's id, signed; expiry and revocation live on the row.
- Unsubscribe: a visitor id, signed; one click stops mail to that visitor.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid

from itsdangerous import BadSignature, URLSafeSerializer

REPLY_LOCAL = re.compile(r"^reply\+([0-9a-f]{32})\.([0-9a-f]{20})$")
# Bounces come back to the envelope sender: `bounce+v<visitor hex>` for a shopper's
# mail, `bounce+s<shop id>` for the shop's alerts (the report names the address).
BOUNCE_LOCAL = re.compile(r"^bounce\+([vs])([0-9a-f]{1,32})\.([0-9a-f]{20})$")


class NotifyTokens:
    def __init__(self, secret_key: str):
        self._reply_key = hashlib.sha256(b"parley-reply-address\n" + secret_key.encode()).digest()
        self._resume = URLSafeSerializer(secret_key, salt="parley-resume-link")
        self._unsubscribe = URLSafeSerializer(secret_key, salt="parley-unsubscribe")

    # -- reply addresses --------------------------------------------------------

    def _mac(self, conversation_hex: str) -> str:
        return hmac.new(self._reply_key, conversation_hex.encode(), hashlib.sha256).hexdigest()[:20]

    def reply_local_part(self, conversation_id: str) -> str:
        hex_id = uuid.UUID(conversation_id).hex
        return f"reply+{hex_id}.{self._mac(hex_id)}"

    def conversation_of(self, address: str) -> str | None:
        """The conversation a reply address names, or None when it is not one we made."""
        local = address.strip().strip("<>").rsplit("@", 1)[0].lower()
        match = REPLY_LOCAL.match(local)
        if match is None or not hmac.compare_digest(match.group(2), self._mac(match.group(1))):
            return None
        return str(uuid.UUID(match.group(1)))

    def bounce_local_part(self, *, visitor_id: str | None = None, shop_id: int | None = None) -> str:
        tag = f"v{uuid.UUID(visitor_id).hex}" if visitor_id else f"s{shop_id:x}"
        return f"bounce+{tag}.{self._mac(tag)}"

    def bounced(self, address: str) -> tuple[str, str | int] | None:
        """("visitor", id) or ("shop", id) for an envelope address we made; None otherwise."""
        local = address.strip().strip("<>").rsplit("@", 1)[0].lower()
        match = BOUNCE_LOCAL.match(local)
        if match is None or not hmac.compare_digest(match.group(3), self._mac(match.group(1) + match.group(2))):
            return None
        if match.group(1) == "v":
            return ("visitor", str(uuid.UUID(match.group(2))))
        return ("shop", int(match.group(2), 16))

    # -- resume links and unsubscribing ------------------------------------------

    def resume_token(self, link_id: str) -> str:
        return self._resume.dumps(link_id)

    def link_of(self, token: str) -> str | None:
        try:
            value = self._resume.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def unsubscribe_token(self, visitor_id: str) -> str:
        return self._unsubscribe.dumps(visitor_id)

    def visitor_of(self, token: str) -> str | None:
        try:
            value = self._unsubscribe.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None
