"""Merchant alerts: a shopper wrote and nobody is looking, so the shop's alert addresses
get an e-mail. A burst is one e-mail: messages are gathered into the alert of their
batching window, which goes out when the window closes (or when quiet hours end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from app.chat.shop_settings import get_settings
from app.models import AuthorKind, Conversation, Message
from app.notify import outbox
from app.notify.presence import someone_watching
from app.notify.settings import in_quiet_hours, notify_settings, quiet_hours_end


class MerchantAlerts:
    """A ChatObserver (app/chat/conversations.py)."""

    def shopper_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        shop_id = conversation.shop_id
        settings = notify_settings(session, shop_id)
        if not settings["alert_emails"] or settings["alert_on"] == "never":
            return
        if settings["alert_on"] == "new_conversation" and not _first_message(session, conversation, message):
            return
        assert conversation.id is not None
        if someone_watching(session, shop_id, conversation.id, now):
            return
        window = timedelta(minutes=settings["alert_batch_minutes"])
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        start = epoch + ((now - epoch) // window) * window
        send_at = start + window
        zone = (get_settings(session, shop_id).get("hours") or {}).get("timezone") or "UTC"
        if in_quiet_hours(settings, zone, send_at):
            send_at = quiet_hours_end(settings, zone, send_at)
        row = outbox.queue(
            session,
            shop_id=shop_id,
            channel="email",
            kind="alert",
            recipient=",".join(settings["alert_emails"]),
            dedupe_key=f"alert:{start.isoformat()}",
            payload={"messages": []},
            not_before=send_at,
        )
        if row.status == "pending":
            outbox.append(row, "messages", message.id)
            session.add(row)

    def agent_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        pass


def _first_message(session: Session, conversation: Conversation, message: Message) -> bool:
    earlier = session.exec(
        select(Message.id).where(
            Message.conversation_id == conversation.id,
            Message.author_kind == AuthorKind.shopper,
            col(Message.id) != message.id,
        )
    ).first()
    return earlier is None
