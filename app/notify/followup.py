"""The shopper's copy of replies they have not seen: when an agent answers and the
shopper does not read it in the widget within the shop's wait, the reply goes out by
e-mail with the recent thread and a resume link. Replies that follow while the e-mail
waits join it; a reply read in the widget meanwhile cancels it (checked when sending)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.models import Conversation, Message, Outbox, Visitor
from app.notify import outbox
from app.notify.settings import notify_settings


def shopper_address(visitor: Visitor) -> str | None:
    """Where the shopper's mail goes: the address they gave, else the platform's for a
    signed-in customer; none once they unsubscribed or the address bounced."""
    if visitor.unsubscribed_at is not None or visitor.email_undeliverable_at is not None:
        return None
    return visitor.contact_email or visitor.email


class ShopperFollowUps:
    """A ChatObserver (app/chat/conversations.py)."""

    def agent_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        if message.internal:
            return
        visitor = session.get(Visitor, conversation.visitor_id)
        address = shopper_address(visitor) if visitor is not None else None
        if address is None:
            return
        waiting = session.exec(
            select(Outbox).where(
                Outbox.shop_id == conversation.shop_id,
                Outbox.conversation_id == conversation.id,
                Outbox.kind == "reply",
                Outbox.status == "pending",
            )
        ).first()
        if waiting is not None:
            outbox.append(waiting, "messages", message.id)
            session.add(waiting)
            return
        delay = timedelta(minutes=notify_settings(session, conversation.shop_id)["reply_email_after_minutes"])
        outbox.queue(
            session,
            shop_id=conversation.shop_id,
            channel="email",
            kind="reply",
            recipient=address,
            dedupe_key=f"reply:{message.id}",
            payload={"messages": [message.id]},
            not_before=now + delay,
            conversation_id=conversation.id,
        )

    def shopper_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        pass


def unseen_replies(session: Session, conversation_id: str, message_ids: list[int]) -> list[Message]:
    """Of the replies an e-mail was queued for, those the shopper still has not read."""
    return list(
        session.exec(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                col(Message.id).in_(message_ids),
                col(Message.read_at).is_(None),
            )
            .order_by(col(Message.id))
        ).all()
    )
