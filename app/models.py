"""The tables. Every row that belongs to a shop carries `shop_id`, so tenant
checks are one column away and a shop's erasure is a delete per table."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app import schema_extras
from app.clock import utcnow
from app.db import Money, UTCDateTime

# Constraint names are fixed so migrations and models name things alike on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _uuid() -> str:
    return str(uuid.uuid4())


def _time() -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=True)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _money() -> Any:
    return Field(default=None, sa_type=Money, nullable=True)


def _shop_fk() -> Any:
    return Field(foreign_key="shop.id", ondelete="CASCADE", nullable=False)


def _enum(enum: type[Enum], default: Enum) -> Any:
    # Stored as plain strings: adding a value later needs no database type migration.
    return Field(
        default=default,
        sa_type=sa.Enum(enum, native_enum=False, length=20, validate_strings=True, create_constraint=False),
        nullable=False,
    )


class Platform(str, Enum):
    shopify = "shopify"
    saleor = "saleor"


class InstallState(str, Enum):
    installed = "installed"
    uninstalled = "uninstalled"


class ConversationStatus(str, Enum):
    open = "open"
    resolved = "resolved"


class AuthorKind(str, Enum):
    shopper = "shopper"
    agent = "agent"
    bot = "bot"
    system = "system"


class Shop(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("platform", "domain"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: Platform = _enum(Platform, Platform.shopify)
    # The platform's stable name for the shop: `<name>.myshopify.com`, or a Saleor API URL.
    domain: str = Field(max_length=255, nullable=False)
    name: str | None = Field(default=None, max_length=255)
    install_state: InstallState = _enum(InstallState, InstallState.installed)
    scopes: str = Field(default="", max_length=1000, nullable=False)
    # Fernet ciphertexts; see app/encryption.py. Never logged, never serialised.
    access_token_enc: str | None = Field(default=None, sa_type=sa.Text)
    access_token_expires_at: datetime | None = _time()
    refresh_token_enc: str | None = Field(default=None, sa_type=sa.Text)
    refresh_token_expires_at: datetime | None = _time()
    # Bumped on every token write; a refresh commits only if nobody else refreshed first.
    token_version: int = Field(default=0, nullable=False)
    # Saleor only: the app's id in that Saleor (Dashboard tokens name it) and the
    # cached JWKS (JSON) that signs its webhooks and tokens.
    app_id: str | None = Field(default=None, max_length=255)
    jwks: str | None = Field(default=None, sa_type=sa.Text)
    installed_at: datetime | None = _time()
    uninstalled_at: datetime | None = _time()
    created_at: datetime = _created()

    def __repr__(self) -> str:  # keeps ciphertexts out of logs and tracebacks
        return f"Shop(id={self.id!r}, platform={self.platform.value!r}, domain={self.domain!r}, state={self.install_state.value!r})"

    __str__ = __repr__


class ShopSetting(SQLModel, table=True):
    __tablename__ = "shop_setting"
    __table_args__ = (sa.UniqueConstraint("shop_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = _shop_fk()
    key: str = Field(max_length=100, nullable=False)
    value: Any = Field(default=None, sa_type=sa.JSON)
    updated_at: datetime = _created()


class Visitor(SQLModel, table=True):
    __table_args__ = (
        sa.Index(None, "shop_id", "customer_id"),
        sa.Index(None, "shop_id", "email"),
    )

    id: str = Field(default_factory=_uuid, primary_key=True, max_length=36)
    shop_id: int = _shop_fk()
    # Set only from a signed channel (app proxy signature, Saleor token).
    customer_id: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=255)
    locale: str | None = Field(default=None, max_length=20)
    # What the widget tells without asking: the page the shopper writes from and their
    # time zone (IANA name), kept for the merchant beside the thread.
    page_url: str | None = Field(default=None, sa_type=sa.Text)
    timezone: str | None = Field(default=None, max_length=64)
    # An address the shopper gave to get answers by e-mail (never asked before the first
    # question), with when they agreed; `email` above comes from the platform only.
    contact_email: str | None = Field(default=None, max_length=320)
    contact_consent_at: datetime | None = _time()
    # Mail to the shopper stops when their address bounces or they unsubscribe.
    email_undeliverable_at: datetime | None = _time()
    unsubscribed_at: datetime | None = _time()
    created_at: datetime = _created()
    last_seen_at: datetime = _created()


class Conversation(SQLModel, table=True):
    __table_args__ = (
        # Inbox tabs: open/waiting ordered by how long the shopper has waited, resolved by recency.
        sa.Index(None, "shop_id", "status", "waiting_since"),
        sa.Index(None, "shop_id", "status", "priority_at"),
        sa.Index(None, "shop_id", "status", "last_message_at"),
        sa.Index(None, "shop_id", "status", "due_at"),
        sa.Index(None, "visitor_id", "created_at"),
    )

    id: str = Field(default_factory=_uuid, primary_key=True, max_length=36)
    shop_id: int = _shop_fk()
    visitor_id: str = Field(foreign_key="visitor.id", ondelete="CASCADE", nullable=False, max_length=36)
    status: ConversationStatus = _enum(ConversationStatus, ConversationStatus.open)
    assignee: str | None = Field(default=None, max_length=64)
    # Priority inputs: when the oldest unanswered shopper message arrived (None when
    # nobody waits on us) and the value of the latest cart.
    waiting_since: datetime | None = _time()
    # waiting_since moved earlier by the cart's value (see app/chat/priority.py), so the
    # "waiting on us" tab is one indexed ORDER BY however large the shop.
    priority_at: datetime | None = _time()
    cart_value: Decimal | None = _money()
    cart_currency: str | None = Field(default=None, max_length=3)
    last_message_at: datetime | None = _time()
    unread_by_agent: int = Field(default=0, nullable=False)
    created_at: datetime = _created()
    first_response_at: datetime | None = _time()
    resolved_at: datetime | None = _time()
    # When the shop's first-response target falls due for the shopper waiting now (after
    # hours: opening time plus the target); None when nobody waits.
    due_at: datetime | None = _time()
    # When the shop's assistant handed the conversation to a person, and why (a short
    # note the merchant reads: not sure, asked for a person, a complaint).
    handed_over_at: datetime | None = _time()
    handoff_reason: str | None = Field(default=None, max_length=200)
    # Read receipts move these cursors forward (message ids): a receipt marks only the
    # messages after the cursor, and unread counts look only past it.
    agent_read_up_to: int = Field(
        default=0, sa_type=sa.BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"}
    )
    shopper_read_up_to: int = Field(
        default=0, sa_type=sa.BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"}
    )


class Message(SQLModel, table=True):
    __table_args__ = (
        # A resend with the same client-made id never stores twice.
        sa.UniqueConstraint("conversation_id", "client_id"),
        sa.Index(None, "shop_id", "id"),
        # A thread in order, and a stream's catch-up after Last-Event-ID.
        sa.Index(None, "conversation_id", "id"),
    )

    # Monotonic: doubles as the event id that streams resume from.
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    shop_id: int = _shop_fk()
    conversation_id: str = Field(foreign_key="conversation.id", ondelete="CASCADE", nullable=False, max_length=36)
    author_kind: AuthorKind = _enum(AuthorKind, AuthorKind.shopper)
    # Staff member's id (the session token's `sub`) for agent messages.
    author_id: str | None = Field(default=None, max_length=64)
    body: str = Field(sa_type=sa.Text, nullable=False)
    client_id: str = Field(max_length=64, nullable=False)
    internal: bool = Field(default=False, nullable=False)
    # How it reached Parley: typed in the chat, or sent by e-mail (a reply to a reply).
    channel: str = Field(default="chat", max_length=10, nullable=False)
    # What a bot message rests on (the answer it matched, its confidence) and the
    # shopper's verdict on it (helpful, handed over); None for people's messages.
    meta: Any = Field(default=None, sa_type=sa.JSON, nullable=True)
    created_at: datetime = _created()
    read_at: datetime | None = _time()


class ConversationCount(SQLModel, table=True):
    """The inbox tabs' counts per shop, moved by triggers in the statement that moves a
    conversation (app/schema_extras.py), so a page load reads one row."""

    __tablename__ = "conversation_count"

    shop_id: int = Field(foreign_key="shop.id", ondelete="CASCADE", primary_key=True)
    open_count: int = Field(default=0, nullable=False)
    waiting_count: int = Field(default=0, nullable=False)
    resolved_count: int = Field(default=0, nullable=False)


class CartSnapshot(SQLModel, table=True):
    __tablename__ = "cart_snapshot"
    __table_args__ = (
        sa.Index(None, "conversation_id", "created_at"),
        sa.Index(None, "shop_id", "cart_token"),
        # Pruning old snapshots (app/inbound/worker.py).
        sa.Index(None, "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = _shop_fk()
    conversation_id: str = Field(foreign_key="conversation.id", ondelete="CASCADE", nullable=False, max_length=36)
    # The cart token without its `?key=` part: that is what orders carry back.
    cart_token: str | None = Field(default=None, max_length=255)
    currency: str | None = Field(default=None, max_length=3)
    total: Decimal | None = _money()
    item_count: int = Field(default=0, nullable=False)
    lines: Any = Field(default=None, sa_type=sa.JSON)
    # Where the merchant can send the shopper back to finish (a checkout webhook's
    # abandoned_checkout_url), for the abandoned-cart follow-up list.
    checkout_url: str | None = Field(default=None, sa_type=sa.Text)
    # A cart or checkout webhook's own `updated_at`: an older delivery is not stored over it.
    source_updated_at: datetime | None = _time()
    created_at: datetime = _created()


class OrderLink(SQLModel, table=True):
    __tablename__ = "order_link"
    __table_args__ = (
        sa.UniqueConstraint("shop_id", "order_id"),
        sa.Index(None, "conversation_id"),
        sa.Index(None, "shop_id", "ordered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = _shop_fk()
    conversation_id: str = Field(foreign_key="conversation.id", ondelete="CASCADE", nullable=False, max_length=36)
    order_id: str = Field(max_length=64, nullable=False)
    order_name: str | None = Field(default=None, max_length=64)
    customer_id: str | None = Field(default=None, max_length=64)
    # Which attribution rule made the link: note_attribute, cart_token or customer.
    rule: str = Field(max_length=20, nullable=False)
    total: Decimal | None = _money()
    refunded: Decimal | None = _money()
    currency: str | None = Field(default=None, max_length=3)
    financial_status: str | None = Field(default=None, max_length=30)
    cancelled_at: datetime | None = _time()
    ordered_at: datetime | None = _time()
    # The payload's own `updated_at`: an older delivery never overwrites a newer one.
    source_updated_at: datetime | None = _time()
    # Why the order is kept but not counted (no currency, a negative amount); None counts.
    flag: str | None = Field(default=None, max_length=40)
    # The discount the order was given (codes included), in its currency; None when not told.
    discount: Decimal | None = _money()
    created_at: datetime = _created()


class WebhookEvent(SQLModel, table=True):
    __tablename__ = "webhook_event"
    __table_args__ = (
        sa.UniqueConstraint("platform", "event_id"),
        sa.Index(None, "processed_at", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: Platform = _enum(Platform, Platform.shopify)
    event_id: str = Field(max_length=128, nullable=False)
    topic: str = Field(max_length=64, nullable=False)
    shop_domain: str = Field(max_length=255, nullable=False)
    payload: str = Field(sa_type=sa.Text, nullable=False)
    received_at: datetime = _created()
    processed_at: datetime | None = _time()
    # Processing tries so far; a payload that keeps failing is given up on, not retried forever.
    attempts: int = Field(default=0, nullable=False)
    # Set when processing gave up on the payload, for the merchant to see.
    error: str | None = Field(default=None, sa_type=sa.Text)


class DataExport(SQLModel, table=True):
    """A customer's data, gathered for a `customers/data_request`, for the merchant to download."""

    __tablename__ = "data_export"
    __table_args__ = (sa.Index(None, "shop_id", "created_at"),)

    id: str = Field(default_factory=_uuid, primary_key=True, max_length=36)
    shop_id: int = _shop_fk()
    request_id: str | None = Field(default=None, max_length=64)
    customer_id: str | None = Field(default=None, max_length=64)
    customer_email: str | None = Field(default=None, max_length=320)
    content: Any = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = _created()


class Outbox(SQLModel, table=True):
    """Something to send outside Parley (an e-mail, a webhook), stored in the transaction
    that decided to send it and delivered by the outbox worker: retried with backoff,
    never twice once the other side accepted it."""

    __table_args__ = (
        # One row per intent: a batched alert or a reply's e-mail is not queued twice.
        sa.UniqueConstraint("shop_id", "dedupe_key"),
        sa.Index(None, "status", "next_attempt_at"),
        sa.Index(None, "conversation_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = _shop_fk()
    conversation_id: str | None = Field(
        default=None, foreign_key="conversation.id", ondelete="CASCADE", nullable=True, max_length=36
    )
    # email or webhook; `kind` says what for (alert, reply, resume_link, event).
    channel: str = Field(max_length=10, nullable=False)
    kind: str = Field(max_length=30, nullable=False)
    recipient: str = Field(max_length=500, nullable=False)
    dedupe_key: str = Field(max_length=200, nullable=False)
    # What to send, rendered when it is due (an alert gathers the messages of its window).
    payload: Any = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    # pending, sending, sent, failed (given up), cancelled
    status: str = Field(default="pending", max_length=10, nullable=False)
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: datetime = _created()
    sent_at: datetime | None = _time()
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _created()


class ResumeLink(SQLModel, table=True):
    """A link that reopens a conversation in the widget on any device: the e-mail carries
    its id signed; a device that opens it is handed the visitor's thread."""

    __tablename__ = "resume_link"
    __table_args__ = (sa.Index(None, "visitor_id"),)

    id: str = Field(default_factory=_uuid, primary_key=True, max_length=36)
    shop_id: int = _shop_fk()
    visitor_id: str = Field(foreign_key="visitor.id", ondelete="CASCADE", nullable=False, max_length=36)
    conversation_id: str = Field(foreign_key="conversation.id", ondelete="CASCADE", nullable=False, max_length=36)
    expires_at: datetime = _created()
    revoked_at: datetime | None = _time()
    # How many devices took the thread with it (each device once).
    claims: int = Field(default=0, nullable=False)
    created_at: datetime = _created()


class StaffPresence(SQLModel, table=True):
    """Which staff member has the Support page open, and on which conversation, as of when:
    alerts go out only when nobody is looking."""

    __tablename__ = "staff_presence"
    __table_args__ = (sa.UniqueConstraint("shop_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = _shop_fk()
    user_id: str = Field(max_length=64, nullable=False)
    # None: the inbox (every conversation is in view).
    conversation_id: str | None = Field(default=None, max_length=36)
    seen_at: datetime = _created()


class Answer(SQLModel, table=True):
    """One of the shop's written answers the assistant may give: a question, other ways
    shoppers ask it, and the answer, in one language; imported ones remember their source."""

    __table_args__ = (
        sa.Index(None, "shop_id", "language"),
        sa.UniqueConstraint("shop_id", "source", "source_id", "language"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = _shop_fk()
    language: str = Field(max_length=8, nullable=False)
    question: str = Field(sa_type=sa.Text, nullable=False)
    # Other phrasings of the question (a JSON list of strings).
    alternatives: Any = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    answer: str = Field(sa_type=sa.Text, nullable=False)
    # manual, or where it was imported from (shopify_policy, shopify_page, saleor_page)
    source: str = Field(default="manual", max_length=20, nullable=False)
    source_id: str | None = Field(default=None, max_length=255)
    enabled: bool = Field(default=True, nullable=False)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Attachment(SQLModel, table=True):
    """A picture in a conversation, already cleaned (app/media/images.py): the bytes live
    in `data` (the database storage) or at `storage_key` in object storage."""

    __table_args__ = (sa.Index(None, "conversation_id"),)

    id: str = Field(default_factory=_uuid, primary_key=True, max_length=36)
    shop_id: int = _shop_fk()
    conversation_id: str = Field(foreign_key="conversation.id", ondelete="CASCADE", nullable=False, max_length=36)
    # shopper or agent: who sent it (each side may see the pictures of its conversation).
    uploaded_by: str = Field(max_length=10, nullable=False)
    content_type: str = Field(max_length=40, nullable=False)
    width: int = Field(nullable=False)
    height: int = Field(nullable=False)
    size: int = Field(nullable=False)
    sha256: str = Field(max_length=64, nullable=False)
    # database or s3
    storage: str = Field(default="database", max_length=10, nullable=False)
    storage_key: str | None = Field(default=None, max_length=255)
    data: bytes | None = Field(default=None, sa_type=sa.LargeBinary, nullable=True)
    created_at: datetime = _created()


class AgentOffer(SQLModel, table=True):
    """What an agent offered in a conversation (app/commerce/offers.py): a product card's
    variant, the items of a checkout link, a checkout Parley created, a discount code.
    Attribution reads it back when an order carries one of them (rules agent_cart, agent_code)."""

    __tablename__ = "agent_offer"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "kind", "ref"),
        sa.Index(None, "shop_id", "kind", "ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = _shop_fk()
    conversation_id: str = Field(foreign_key="conversation.id", ondelete="CASCADE", nullable=False, max_length=36)
    # item (a variant on a card or in a checkout link), checkout (one Parley created) or code.
    kind: str = Field(max_length=10, nullable=False)
    # The variant id, checkout token or code (codes lower-cased: platforms match them so).
    ref: str = Field(max_length=255, nullable=False)
    created_at: datetime = _created()


# The search index, the counters' triggers and an expression index (app/schema_extras.py).
sa.event.listen(SQLModel.metadata, "after_create", schema_extras.create_after_tables)
