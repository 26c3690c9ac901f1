"""The shop's own webhook: new conversations and shopper messages, signed, for routing
into the shop's tools (docs/webhooks.md).

Each delivery is a POST of JSON with `X-Parley-Timestamp` (Unix seconds) and
`X-Parley-Signature: sha256=<hex>`, the HMAC-SHA256 with the shop's webhook secret over
`<timestamp>.<raw body>`. A receiver recomputes it, compares in constant time, and
refuses timestamps more than five minutes away.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlmodel import Session

from app.clock import iso
from app.models import Conversation, Message
from app.notify import outbox
from app.notify.settings import notify_settings


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class ShopWebhooks:
    """A ChatObserver (app/chat/conversations.py)."""

    def shopper_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        settings = notify_settings(session, conversation.shop_id)
        if not settings["webhook_url"]:
            return
        event = {
            "type": "message.created",
            "conversation": {
                "id": conversation.id,
                "status": conversation.status.value,
                "created_at": iso(conversation.created_at),
            },
            "message": {
                "id": message.id,
                "body": message.body,
                "channel": message.channel,
                "created_at": iso(message.created_at),
            },
            "new_conversation": conversation.created_at == message.created_at,
        }
        outbox.queue(
            session,
            shop_id=conversation.shop_id,
            channel="webhook",
            kind="event",
            recipient=settings["webhook_url"],
            dedupe_key=f"event:message:{message.id}",
            payload=event,
            not_before=now,
            conversation_id=conversation.id,
        )

    def agent_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        pass
