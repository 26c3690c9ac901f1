"""What an agent offered in a conversation, and the credit an order gets for it.

An agent sells from the thread three ways: a product card, a checkout link with a cart
they built, a discount code. Each leaves `AgentOffer` rows (the variants, the checkout
Parley created, the code), written in the same transaction as the message that carries
them. When an order arrives, `credit` refines what the general rules found
(app/commerce/attribution.py), strongest first:

- `agent_code`: the order used a code the agent offered in the conversation. A code is
  enough on its own to find the conversation (codes Parley creates are single-use).
- `agent_cart`: the order came through a checkout Parley created for the conversation,
  or contains an item the agent offered there (on a card or in a checkout link).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.models import AgentOffer, Conversation

KINDS = ("item", "checkout", "code")
AGENT_RULES = ("agent_code", "agent_cart")


def normalise_code(code: str) -> str:
    # Both platforms match discount codes case-insensitively.
    return code.strip().lower()


def record(session: Session, conversation: Conversation, kind: str, refs: Iterable[str]) -> None:
    """Remember offers (idempotent: an offer made twice is one row)."""
    assert kind in KINDS
    wanted = {normalise_code(r) if kind == "code" else r for r in refs if r}
    if not wanted:
        return
    known = set(
        session.exec(
            select(AgentOffer.ref).where(
                AgentOffer.conversation_id == conversation.id,
                AgentOffer.kind == kind,
                col(AgentOffer.ref).in_(wanted),
            )
        )
    )
    for ref in sorted(wanted - known):
        session.add(AgentOffer(shop_id=conversation.shop_id, conversation_id=conversation.id, kind=kind, ref=ref[:255]))
    session.flush()


def _offered(session: Session, shop_id: int, kind: str, refs: Iterable[str], conversation_id: str | None) -> str | None:
    """The conversation (the given one, else the latest) that offered one of refs."""
    refs = [r for r in refs if r]
    if not refs:
        return None
    query = select(AgentOffer.conversation_id).where(
        AgentOffer.shop_id == shop_id, AgentOffer.kind == kind, col(AgentOffer.ref).in_(refs)
    )
    if conversation_id is not None:
        query = query.where(AgentOffer.conversation_id == conversation_id)
    return session.exec(query.order_by(col(AgentOffer.id).desc()).limit(1)).first()


def credit(
    session: Session,
    shop_id: int,
    found: tuple[Conversation, str] | None,
    *,
    codes: Iterable[str] = (),
    variant_ids: Iterable[str] = (),
    checkout_token: str | None = None,
) -> tuple[Conversation, str] | None:
    """The conversation and rule, with the agent's part in the sale recognised."""
    codes = [normalise_code(c) for c in codes if c]
    variant_ids = [str(v) for v in variant_ids if v]
    if found is None:
        by_code = _offered(session, shop_id, "code", codes, None)
        if by_code is not None:
            conversation = session.get(Conversation, by_code)
            return (conversation, "agent_code") if conversation is not None else None
        by_checkout = _offered(session, shop_id, "checkout", [checkout_token or ""], None)
        if by_checkout is not None:
            conversation = session.get(Conversation, by_checkout)
            return (conversation, "agent_cart") if conversation is not None else None
        return None
    conversation, rule = found
    if _offered(session, shop_id, "code", codes, conversation.id):
        return conversation, "agent_code"
    if _offered(session, shop_id, "checkout", [checkout_token or ""], conversation.id) or _offered(
        session, shop_id, "item", variant_ids, conversation.id
    ):
        return conversation, "agent_cart"
    return conversation, rule
