"""The assistant's side of "where is my order?" in a thread (order_status.py says what it
answers and why). Reads the conversation for what it asked last, asks the platform
through `OrderLookup`, and returns what to say: the order's status, a request for
proof, the one "could not find that order", or a handover reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from app.answers.attempts import LookupAttempts
from app.answers.intents import detect
from app.answers.order_status import (
    ASK_PROOF,
    ASKED,
    AWAITING,
    FOUND,
    NONE_YET,
    NOT_FOUND,
    NOT_FOUND_TEXT,
    RECENT,
    LookupUnavailable,
    OrderLookup,
    email_in,
    number_in,
    order_text,
    orders_text,
    same_email,
    same_number,
    words,
)
from app.models import AuthorKind, Conversation, Message, Shop, Visitor

# The reasons a merchant reads beside a conversation the order look-up handed over.
LOOKUP_FAILED = "order look-up failed"
TOO_MANY_TRIES = "too many order look-ups"
# What an order-status answer names as its answer (the widget offers "this helped" /
# "talk to a person" on any answer; Insights counts it apart from the written ones).
ORDER_ANSWER = "order_status"


@dataclass(frozen=True)
class OrderReply:
    text: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # Set instead of a text when a person takes over.
    hand_over: str | None = None


class OrderDesk:
    def __init__(self, lookup: OrderLookup, attempts: LookupAttempts):
        self.lookup = lookup
        self.attempts = attempts

    def reply(
        self, session: Session, conversation: Conversation, visitor: Visitor, message: Message, language: str
    ) -> OrderReply | None:
        """What to answer `message` about an order, or None when it is not about one (or is
        for a person: a complaint, a request for someone)."""
        intents = detect(message.body)
        if intents.person or intents.complaint:
            return None
        awaiting = _awaiting_proof(session, conversation, message)
        number = intents.order_number or number_in(message.body)
        email = email_in(message.body)
        if awaiting is not None:
            if not (intents.order_status or number or email):
                return None  # they moved on to another question: the written answers take it
            number = number or awaiting.get("order_number")
        elif not intents.order_status:
            return None
        shop = session.get(Shop, conversation.shop_id)
        if shop is None:
            return None
        if visitor.customer_id:
            return self._signed_in(shop, visitor.customer_id, message, language)
        if not number or not email:
            return OrderReply(words(ASK_PROOF, language), {"order_status": ASKED, "order_number": number})
        assert visitor.id is not None
        if not self.attempts.allow(conversation.shop_id, visitor.id, email):
            return OrderReply(hand_over=TOO_MANY_TRIES)
        try:
            order = self.lookup.find_order(shop, number)
        except LookupUnavailable:
            return OrderReply(hand_over=LOOKUP_FAILED)
        if order is None or not same_number(number, order) or not same_email(email, order):
            # One reply for an unknown number and for a known one with another address.
            return OrderReply(words(NOT_FOUND_TEXT, language), {"order_status": NOT_FOUND})
        return OrderReply(order_text(order, language), _answer_meta(message, FOUND, [order.number]))

    def _signed_in(self, shop: Shop, customer_id: str, message: Message, language: str) -> OrderReply:
        try:
            orders = list(self.lookup.recent_orders(shop, customer_id, RECENT))
        except LookupUnavailable:
            return OrderReply(hand_over=LOOKUP_FAILED)
        return OrderReply(
            orders_text(orders, language),
            _answer_meta(message, FOUND if orders else NONE_YET, [order.number for order in orders]),
        )


def _answer_meta(message: Message, status: str, numbers: list[str]) -> dict[str, Any]:
    return {
        "order_status": status,
        "orders": numbers,
        "answer_id": ORDER_ANSWER,
        "in_reply_to": message.id,
        "feedback": None,
    }


def _awaiting_proof(session: Session, conversation: Conversation, message: Message) -> dict[str, Any] | None:
    """The assistant's last word before `message`, when it was waiting for an order number
    and address (and no person has written since)."""
    last = session.exec(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            col(Message.id) < (message.id or 0),
            Message.author_kind != AuthorKind.shopper,
            col(Message.internal).is_(False),
        )
        .order_by(col(Message.id).desc())
        .limit(1)
    ).first()
    if last is None or last.author_kind != AuthorKind.bot or not isinstance(last.meta, dict):
        return None
    return last.meta if last.meta.get("order_status") in AWAITING else None
