"""The chat actions: the only code that changes conversations and messages.

Each action stores first, commits, then publishes to the broker, so anything a
listener is woken for can be read back from the database.

Streams resume after the last message id they delivered, so the messages of one shop
must become visible in id order: a message id taken while an earlier one of the same
shop is still uncommitted would let a stream pass the earlier one for good. Every
transaction that stores a message therefore takes the shop's message lock first
(`order_messages`), before its id is drawn, and holds it until it commits. SQLite has
one writer at a time and needs nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.chat.visitor_tokens import InvalidVisitorToken
from app.chat.visitors import remember_customer
from app.clock import Clock, iso
from app.commerce.carts import Cart, store_cart
from app.commerce.priority import priority_at
from app.db import Database
from app.errors import ParleyError
from app.models import AuthorKind, Conversation, ConversationStatus, Message, Visitor
from app.realtime.broker import Broker, Event

MAX_BODY = 5000
MAX_CLIENT_ID = 64
# A resolved conversation is reopened by a new message within this time; after it a new one starts.
REOPEN_WITHIN = timedelta(days=7)


# The first key of the shop's message lock (PostgreSQL's two-key advisory locks); the
# second is the shop id.
MESSAGE_ORDER_LOCK = 0x50524C59  # "PRLY"


def order_messages(session: Session, shop_id: int) -> None:
    """Take the shop's message lock for the rest of `session`'s transaction: call before
    storing a message of the shop, so its id commits after every earlier one's."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key, :shop)"), {"key": MESSAGE_ORDER_LOCK, "shop": shop_id}
        )


class GoneVisitor(InvalidVisitorToken):
    """The token's visitor was erased, or merged into a signed-in customer's: the widget
    starts a new session (which finds the customer's thread again) and resends."""

    def __init__(self) -> None:
        super().__init__("this visitor is no longer known here; start a new session")


def visitor_channel(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


def shop_channel(shop_id: int) -> str:
    return f"shop:{shop_id}"


def check_body(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ParleyError(400, "empty_message", "the message is empty")
    if len(body) > MAX_BODY:
        raise ParleyError(413, "message_too_long", f"a message can hold at most {MAX_BODY} characters")
    return body.strip()


def check_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > MAX_CLIENT_ID:
        raise ParleyError(400, "invalid_client_id", f"client_id must be text of 1 to {MAX_CLIENT_ID} characters")
    return client_id.strip()


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "client_id": message.client_id,
        "conversation_id": message.conversation_id,
        "author": message.author_kind.value,
        "author_id": message.author_id,
        "body": message.body,
        "internal": message.internal,
        # chat or email: how a shopper's message reached the thread.
        "channel": message.channel,
        # For the assistant's messages: the answer it gave and the shopper's verdict, or a handover.
        "meta": message.meta,
        "created_at": iso(message.created_at),
        "read_at": iso(message.read_at),
    }


def conversation_json(conversation: Conversation | None) -> dict[str, Any] | None:
    if conversation is None:
        return None
    return {"id": conversation.id, "status": conversation.status.value}


def latest_conversation(session: Session, visitor_id: str) -> Conversation | None:
    return session.exec(
        select(Conversation)
        .where(Conversation.visitor_id == visitor_id)
        .order_by(col(Conversation.created_at).desc())
        .limit(1)
    ).first()


def unread_for_shopper(session: Session, visitor_id: str) -> int:
    """Messages for the shopper after their read cursor: a range of the (conversation_id,
    id) index per conversation, as long as what is unread, not as long as the thread."""
    return session.exec(
        select(sa.func.count())
        .select_from(Message)
        .join(Conversation, col(Conversation.id) == Message.conversation_id)
        .where(
            Conversation.visitor_id == visitor_id,
            col(Message.id) > col(Conversation.shopper_read_up_to),
            Message.author_kind != AuthorKind.shopper,
            Message.internal == sa.false(),
            col(Message.read_at).is_(None),
        )
    ).one()


def _read_up_to(session: Session, conversation: Conversation, up_to: int, shopper: bool, now: datetime) -> int:
    """Mark read the messages of the other side after the conversation's read cursor and
    up to `up_to`, and move the cursor there; how many were marked. Only the messages
    since the last receipt are visited, however long the thread, and each message's
    read_at is still the time its reader got to it."""
    cursor = conversation.shopper_read_up_to if shopper else conversation.agent_read_up_to
    if up_to <= cursor:
        return 0
    # The cursor stops at a message that exists: a receipt naming an id from the future
    # must not mark the messages still to come.
    reached = session.exec(
        select(Message.id)
        .where(Message.conversation_id == conversation.id, col(Message.id) <= up_to)
        .order_by(col(Message.id).desc())
        .limit(1)
    ).first()
    if reached is None or reached <= cursor:
        return 0
    author = (
        col(Message.author_kind) != AuthorKind.shopper if shopper else col(Message.author_kind) == AuthorKind.shopper
    )
    result = session.exec(
        sa.update(Message)
        .where(
            col(Message.conversation_id) == conversation.id,
            col(Message.id) > cursor,
            col(Message.id) <= reached,
            author,
            col(Message.read_at).is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    if shopper:
        conversation.shopper_read_up_to = reached
    else:
        conversation.agent_read_up_to = reached
    session.add(conversation)
    return int(result.rowcount or 0)


# -- the actions ------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    message: Message
    conversation: Conversation
    created: bool


class ChatObserver(Protocol):
    """Told of each new message inside the transaction that stores it, so what it decides
    (an alert to queue, a due time, an e-mail to send later) commits or rolls back with
    the message. Observers change data only through the session they are handed."""

    def shopper_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None: ...

    def agent_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None: ...


class Chat:
    def __init__(self, db: Database, broker: Broker, clock: Clock, observers: Sequence[ChatObserver] = ()):
        self.db = db
        self.broker = broker
        self.clock = clock
        self.observers = tuple(observers)

    def _publish(self, *events: Event) -> None:
        for event in events:
            self.broker.publish(event)

    def send_shopper_message(
        self,
        shop_id: int,
        visitor_id: str,
        client_id: str,
        body: str,
        cart: Cart | None = None,
        channel: str = "chat",
    ) -> Sent:
        """`channel` says how it came: typed in the widget (chat) or a reply by e-mail."""
        body = check_body(body)
        client_id = check_client_id(client_id)
        now = self.clock()
        with self.db.transaction() as session:
            original = self._by_client_id(session, visitor_id, client_id)
            if original is not None:
                conversation = session.get(Conversation, original.conversation_id)
                assert conversation is not None  # _by_client_id found the message by joining its conversation
                return Sent(original, conversation, created=False)
            order_messages(session, shop_id)
            # A visitor erased or merged away has no conversation left: the new one's
            # foreign key refuses it, and that is a GoneVisitor (below).
            conversation = self._conversation_for_new_message(session, shop_id, visitor_id, now)
            message = Message(
                shop_id=shop_id,
                conversation_id=conversation.id,
                author_kind=AuthorKind.shopper,
                body=body,
                client_id=client_id,
                channel=channel,
                created_at=now,
            )
            try:
                with session.begin_nested():
                    session.add(message)
            except sa.exc.IntegrityError:
                # The same client id raced in from another tab: the first one stands.
                original = self._by_client_id(session, visitor_id, client_id)
                if original is None:
                    raise  # not that race: some other constraint failed
                conversation = session.get(Conversation, original.conversation_id)
                assert conversation is not None  # _by_client_id found the message by joining its conversation
                return Sent(original, conversation, created=False)
            conversation.last_message_at = now
            conversation.waiting_since = conversation.waiting_since or now
            conversation.unread_by_agent += 1
            if cart is not None:
                store_cart(session, conversation, cart, now)
            conversation.priority_at = priority_at(conversation.waiting_since, conversation.cart_value)
            session.add(conversation)
            session.flush()
            for observer in self.observers:
                observer.shopper_wrote(session, conversation, message, now)
        self._publish(
            Event(visitor_channel(visitor_id), "message", {"id": message.id}),
            Event(shop_channel(shop_id), "message", {"id": message.id, "conversation_id": conversation.id}),
        )
        return Sent(message, conversation, created=True)

    def send_agent_message(
        self,
        shop_id: int,
        conversation_id: str,
        author_id: str | None,
        body: str,
        client_id: str,
        internal: bool = False,
        meta: dict[str, Any] | None = None,
        on_store: Callable[[Session, Conversation], None] | None = None,
    ) -> Sent:
        """`meta` is what the message carries beside its text (product cards, a checkout
        link); `on_store` runs in the storing transaction (the offers behind the cards)."""
        body = check_body(body)
        client_id = check_client_id(client_id)
        now = self.clock()
        with self.db.transaction() as session:
            order_messages(session, shop_id)
            conversation = session.exec(
                select(Conversation).where(Conversation.id == conversation_id, Conversation.shop_id == shop_id)
            ).first()
            if conversation is None:
                raise ParleyError(404, "not_found", "no such conversation in this shop")
            original = session.exec(
                select(Message).where(Message.conversation_id == conversation.id, Message.client_id == client_id)
            ).first()
            if original is not None:
                return Sent(original, conversation, created=False)
            message = Message(
                shop_id=shop_id,
                conversation_id=conversation.id,
                author_kind=AuthorKind.agent,
                author_id=author_id,
                body=body,
                client_id=client_id,
                internal=internal,
                meta=meta,
                created_at=now,
            )
            session.add(message)
            if on_store is not None:
                on_store(session, conversation)
            if not internal:
                conversation.last_message_at = now
                conversation.waiting_since = None
                conversation.priority_at = None
                conversation.first_response_at = conversation.first_response_at or now
                conversation.unread_by_agent = 0
                if conversation.status == ConversationStatus.resolved:
                    conversation.status = ConversationStatus.open
                    conversation.resolved_at = None
            session.add(conversation)
            session.flush()
            for observer in self.observers:
                observer.agent_wrote(session, conversation, message, now)
            visitor_id = conversation.visitor_id
        events = [Event(shop_channel(shop_id), "message", {"id": message.id, "conversation_id": conversation.id})]
        if not internal:
            events.append(Event(visitor_channel(visitor_id), "message", {"id": message.id}))
        self._publish(*events)
        return Sent(message, conversation, created=True)

    def record_cart(self, shop_id: int, visitor_id: str, cart: Cart) -> bool:
        """Keep the cart beside the open conversation; False when there is none."""
        now = self.clock()
        with self.db.transaction() as session:
            conversation = latest_conversation(session, visitor_id)
            if (
                conversation is None
                or conversation.shop_id != shop_id
                or conversation.status != ConversationStatus.open
            ):
                return False
            changed = store_cart(session, conversation, cart, now)
        if changed:
            self._publish(Event(shop_channel(shop_id), "cart", {"conversation_id": conversation.id}))
        return True

    def record_conversation_cart(self, shop_id: int, conversation_id: str, cart: Cart) -> bool:
        """Keep a cart the platform reported for this conversation (a Saleor checkout);
        True when it changed what the merchant sees."""
        now = self.clock()
        with self.db.transaction() as session:
            conversation = self._of_shop(session, shop_id, conversation_id)
            changed = store_cart(session, conversation, cart, now)
        if changed:
            self._publish(Event(shop_channel(shop_id), "cart", {"conversation_id": conversation_id}))
        return changed

    def remember_customer(self, shop_id: int, visitor_id: str, name: str | None, email: str | None) -> None:
        """What the platform just told about a signed-in shopper, kept beside their visitor."""
        with self.db.transaction() as session:
            visitor = session.get(Visitor, visitor_id)
            if visitor is not None and visitor.shop_id == shop_id and remember_customer(visitor, name, email):
                session.add(visitor)

    def shopper_typing(self, shop_id: int, visitor_id: str, typing: bool) -> None:
        with self.db.session() as session:
            conversation = latest_conversation(session, visitor_id)
        if conversation is not None and conversation.shop_id == shop_id:
            self._publish(
                Event(
                    shop_channel(shop_id),
                    "typing",
                    {"conversation_id": conversation.id, "author": "shopper", "typing": typing},
                )
            )

    def agent_typing(self, shop_id: int, conversation_id: str, typing: bool) -> None:
        with self.db.session() as session:
            conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.shop_id != shop_id:
            raise ParleyError(404, "not_found", "no such conversation in this shop")
        self._publish(Event(visitor_channel(conversation.visitor_id), "typing", {"author": "agent", "typing": typing}))

    def shopper_read(self, shop_id: int, visitor_id: str, up_to: int) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            conversations = session.exec(
                select(Conversation).where(
                    Conversation.visitor_id == visitor_id,
                    Conversation.shop_id == shop_id,
                    col(Conversation.shopper_read_up_to) < up_to,
                )
            ).all()
            marked = sum(_read_up_to(session, c, up_to, True, now) for c in conversations)
        if marked:
            with self.db.session() as session:
                conversation = latest_conversation(session, visitor_id)
            data = {
                "visitor_id": visitor_id,
                "conversation_id": conversation.id if conversation else None,
                "up_to": up_to,
                "by": "shopper",
            }
            # The shop sees which thread was read; the shopper's other devices clear their badge.
            self._publish(
                Event(shop_channel(shop_id), "read", data),
                Event(visitor_channel(visitor_id), "read", {"up_to": up_to, "by": "shopper"}),
            )

    def agent_read(self, shop_id: int, conversation_id: str, up_to: int) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None or conversation.shop_id != shop_id:
                raise ParleyError(404, "not_found", "no such conversation in this shop")
            _read_up_to(session, conversation, up_to, False, now)
            conversation.unread_by_agent = 0
            session.add(conversation)
            visitor_id = conversation.visitor_id
        self._publish(Event(visitor_channel(visitor_id), "read", {"up_to": up_to, "by": "agent"}))

    def set_status(self, shop_id: int, conversation_id: str, status: str) -> Conversation:
        try:
            wanted = ConversationStatus(status)
        except ValueError:
            raise ParleyError(400, "invalid_status", "status must be open or resolved") from None
        now = self.clock()
        with self.db.transaction() as session:
            conversation = self._of_shop(session, shop_id, conversation_id)
            if conversation.status != wanted:
                conversation.status = wanted
                conversation.resolved_at = now if wanted == ConversationStatus.resolved else None
                if wanted == ConversationStatus.resolved:
                    # Resolved means nobody waits any more.
                    conversation.waiting_since = None
                    conversation.priority_at = None
                session.add(conversation)
        self._publish(
            Event(
                shop_channel(shop_id),
                "status",
                {
                    "conversation_id": conversation.id,
                    "status": conversation.status.value,
                    "assignee": conversation.assignee,
                },
            ),
            Event(
                visitor_channel(conversation.visitor_id),
                "status",
                {"conversation_id": conversation.id, "status": conversation.status.value},
            ),
        )
        return conversation

    def assign(self, shop_id: int, conversation_id: str, assignee: str | None) -> Conversation:
        with self.db.transaction() as session:
            conversation = self._of_shop(session, shop_id, conversation_id)
            conversation.assignee = assignee
            session.add(conversation)
        self._publish(
            Event(
                shop_channel(shop_id),
                "status",
                {"conversation_id": conversation.id, "status": conversation.status.value, "assignee": assignee},
            )
        )
        return conversation

    @staticmethod
    def _of_shop(session: Session, shop_id: int, conversation_id: str) -> Conversation:
        conversation = session.exec(
            select(Conversation).where(Conversation.id == conversation_id, Conversation.shop_id == shop_id)
        ).first()
        if conversation is None:
            raise ParleyError(404, "not_found", "no such conversation in this shop")
        return conversation

    # -- reading --------------------------------------------------------------

    def history(
        self, shop_id: int, visitor_id: str, before: int | None, limit: int, conversation_id: str | None = None
    ) -> tuple[list[Message], bool]:
        with self.db.session() as session:
            query = (
                select(Message)
                .join(Conversation, col(Conversation.id) == Message.conversation_id)
                .where(
                    Conversation.visitor_id == visitor_id,
                    Conversation.shop_id == shop_id,
                    Message.internal == sa.false(),
                )
                .order_by(col(Message.id).desc())
                .limit(limit + 1)
            )
            if before is not None:
                query = query.where(col(Message.id) < before)
            if conversation_id is not None:
                query = query.where(Message.conversation_id == conversation_id)
            rows = list(session.exec(query).all())
        return list(reversed(rows[:limit])), len(rows) > limit

    def thread(self, shop_id: int, conversation_id: str, before: int | None, limit: int) -> tuple[list[Message], bool]:
        """The merchant's view of a thread: internal notes included."""
        with self.db.session() as session:
            self._of_shop(session, shop_id, conversation_id)
            query = (
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(col(Message.id).desc())
                .limit(limit + 1)
            )
            if before is not None:
                query = query.where(col(Message.id) < before)
            rows = list(session.exec(query).all())
        return list(reversed(rows[:limit])), len(rows) > limit

    def shop_messages_after(self, shop_id: int, after: int, limit: int = 200) -> list[Message]:
        with self.db.session() as session:
            return list(
                session.exec(
                    select(Message)
                    .where(Message.shop_id == shop_id, col(Message.id) > after)
                    .order_by(col(Message.id))
                    .limit(limit)
                ).all()
            )

    def shopper_messages_after(self, shop_id: int, visitor_id: str, after: int, limit: int = 200) -> list[Message]:
        with self.db.session() as session:
            return list(
                session.exec(
                    select(Message)
                    .join(Conversation, col(Conversation.id) == Message.conversation_id)
                    .where(
                        Conversation.visitor_id == visitor_id,
                        Conversation.shop_id == shop_id,
                        Message.internal == sa.false(),
                        col(Message.id) > after,
                    )
                    .order_by(col(Message.id))
                    .limit(limit)
                ).all()
            )

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def _by_client_id(session: Session, visitor_id: str, client_id: str) -> Message | None:
        return session.exec(
            select(Message)
            .join(Conversation, col(Conversation.id) == Message.conversation_id)
            .where(Conversation.visitor_id == visitor_id, Message.client_id == client_id)
        ).first()

    @staticmethod
    def _conversation_for_new_message(session: Session, shop_id: int, visitor_id: str, now: datetime) -> Conversation:
        conversation = latest_conversation(session, visitor_id)
        if conversation is not None and conversation.status == ConversationStatus.resolved:
            if conversation.resolved_at and now - conversation.resolved_at <= REOPEN_WITHIN:
                conversation.status = ConversationStatus.open
                conversation.resolved_at = None
            else:
                conversation = None
        if conversation is None:
            conversation = Conversation(shop_id=shop_id, visitor_id=visitor_id, created_at=now)
            try:
                with session.begin_nested():
                    session.add(conversation)
            except sa.exc.IntegrityError:
                # The visitor was merged or erased by another process since it was read.
                if session.get(Visitor, visitor_id, populate_existing=True) is None:
                    raise GoneVisitor() from None
                raise
        return conversation
