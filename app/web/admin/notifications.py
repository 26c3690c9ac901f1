"""Notifications for the Support page: the shop's alert, e-mail and webhook settings,
what failed to go out, the page telling Parley it is open (so alerts wait), and what a
live page asks after an event: how much is unread (its title and icon badge) and the
inbox rows that changed (so one message redraws one row, not the whole inbox)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request
from sqlmodel import Session, col, select

from app.chat import inbox
from app.chat.shop_settings import put_setting
from app.clock import iso
from app.errors import ParleyError
from app.models import Conversation, ConversationStatus, Outbox
from app.notify.presence import note_presence
from app.notify.settings import notify_settings, put_notify_settings, validate_notify_settings
from app.web.admin.auth import staff
from app.web.admin.support import merchant_language
from app.web.context import parley
from app.web.requests import json_body

bp = Blueprint("admin_notifications", __name__, url_prefix="/admin/api")
FAILURES_SHOWN = 20
# The inbox asks for the rows one event (or a burst of them) changed: a handful.
ROWS_AT_ONCE = 20


def _answer(settings: dict[str, Any], shop_id: int) -> Response:
    with parley().db.session() as session:
        failed = session.exec(
            select(Outbox)
            .where(Outbox.shop_id == shop_id, Outbox.status == "failed")
            .order_by(col(Outbox.id).desc())
            .limit(FAILURES_SHOWN)
        ).all()
    return jsonify(
        notifications=settings,
        # Written by Parley when an alert address bounced: shown beside the addresses.
        bounces=settings.get("alert_bounces") or [],
        inbound_address_domain=parley().notify.courier.domain,
        failures=[
            {
                "id": row.id,
                "kind": row.kind,
                "channel": row.channel,
                "error": row.error,
                "attempts": row.attempts,
                "at": iso(row.created_at),
            }
            for row in failed
        ],
    )


@bp.get("/notifications")
def show() -> Response:
    who = staff()
    with parley().db.session() as session:
        settings = notify_settings(session, who.shop_id)
    return _answer(settings, who.shop_id)


@bp.put("/notifications")
def update() -> Response:
    who = staff()
    changes = validate_notify_settings(request.get_json(silent=True))
    with parley().db.transaction() as session:
        if "alert_emails" in changes:
            # The older single address is read while the list is empty: a list emptied on
            # purpose must not bring it back.
            put_setting(session, who.shop_id, "notification_email", None, parley().now())
        settings = put_notify_settings(session, who.shop_id, changes, parley().now())
    return _answer(settings, who.shop_id)


@bp.post("/presence")
def presence() -> Response:
    """The Support page is open (every half minute while it is): on the inbox, or on
    one conversation. Alerts for what this staff member can see wait."""
    who = staff()
    conversation_id = json_body().get("conversation_id")
    if conversation_id is not None and not isinstance(conversation_id, str):
        raise ParleyError(400, "invalid_conversation", "conversation_id must be a conversation id or null")
    with parley().db.transaction() as session:
        if conversation_id is not None:
            found = session.exec(
                select(Conversation.id).where(Conversation.id == conversation_id, Conversation.shop_id == who.shop_id)
            ).first()
            if found is None:
                raise ParleyError(404, "not_found", "no such conversation in this shop")
        note_presence(session, who.shop_id, who.user_id or "staff", conversation_id, parley().now())
    return Response(status=204)


def unread_counts(session: Session, shop_id: int) -> dict[str, int]:
    """Open conversations with messages no staff member has read, and how many messages.

    A shopper's message sets both `waiting_since` and the unread count, and what clears the
    wait (an answer, "this helped", resolving) clears the count too, so the unread ones are
    among the waiting ones: the (shop_id, status, waiting_since) index bounds the count by
    the shop's backlog, not by its history (bench/inbox_events.py)."""
    conversations, messages = session.execute(
        select(sa.func.count(), sa.func.coalesce(sa.func.sum(Conversation.unread_by_agent), 0)).where(
            Conversation.shop_id == shop_id,
            Conversation.status == ConversationStatus.open,
            col(Conversation.waiting_since).is_not(None),
            col(Conversation.unread_by_agent) > 0,
        )
    ).one()
    return {"conversations": int(conversations), "messages": int(messages)}


@bp.get("/notifications/unread")
def unread() -> Response:
    """What the page's title and icon count, asked again after each shopper message."""
    who = staff()
    with parley().db.session() as session:
        return jsonify(unread_counts(session, who.shop_id))


@bp.get("/inbox/rows")
def inbox_rows() -> Response:
    """The inbox rows of these conversations (`ids=a,b`), as the inbox lists them; ids of
    other shops or of nothing are left out. Two queries however many."""
    who = staff()
    ids = [part for part in (request.args.get("ids") or "").split(",") if part][: ROWS_AT_ONCE + 1]
    if not ids or len(ids) > ROWS_AT_ONCE or any(len(part) > 36 for part in ids):
        raise ParleyError(400, "invalid_ids", f"ids must name 1 to {ROWS_AT_ONCE} conversations, comma-separated")
    with parley().db.session() as session:
        found = list(
            session.exec(
                select(Conversation).where(Conversation.shop_id == who.shop_id, col(Conversation.id).in_(ids))
            ).all()
        )
        rows = inbox.summaries(session, found, parley().now(), merchant_language())
    return jsonify(conversations=rows)
