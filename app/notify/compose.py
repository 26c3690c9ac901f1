"""E-mails as they go out: multipart (plain text and HTML from templates/email), in the
recipient's language, threaded per conversation, with a one-click unsubscribe (RFC
8058) on shopper mail."""

from __future__ import annotations

import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.config import ROOT

_templates = Environment(
    loader=FileSystemLoader(str(ROOT / "templates" / "email")),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)


def thread_id(conversation_id: str, domain: str) -> str:
    """The Message-ID every e-mail of a conversation refers to, so mail clients thread them."""
    return f"<conversation.{uuid.UUID(conversation_id).hex}@{domain}>"


def address_of(value: str) -> Address:
    """`Name <a@b>` or `a@b` as an Address (the name kept)."""
    name, addr = getaddresses([value])[0]
    username, _, domain = addr.partition("@")
    return Address(display_name=name, username=username, domain=domain)


def build(
    *,
    template: str,
    context: dict[str, Any],
    subject: str,
    sender: Address,
    to: list[str],
    domain: str,
    when: Any,
    reply_to: str | None = None,
    conversation_id: str | None = None,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid(domain=domain)
    # A notification, not a person writing: auto-responders must not answer it (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    if reply_to:
        message["Reply-To"] = reply_to
    if conversation_id:
        root = thread_id(conversation_id, domain)
        message["In-Reply-To"] = root
        message["References"] = root
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    context = {**context, "subject": subject}
    message.set_content(_templates.get_template(f"{template}.txt").render(context))
    message.add_alternative(_templates.get_template(f"{template}.html").render(context), subtype="html")
    return message
