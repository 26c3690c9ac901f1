"""The shop's assistant in the thread: after a shopper's message is stored, it answers
from the shop's own answers when it is sure, hands over to a person when it is not (or
when asked, or for a complaint), and stays silent when switched off or when it has
nothing. It never stands between the shopper and the team: its answer leaves the
conversation waiting for a person until the shopper says it helped.

It runs beside the request, on a queue of its own, so a shopper's send never waits for
matching; tests drain the queue where they need the answer.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.core import UnknownLocaleError
from babel.dates import format_datetime
from sqlmodel import Session

from app.answers.assistant import Assistant, language_of
from app.answers.decide import Action, BotMode, Decision, bot_mode
from app.answers.order_desk import OrderDesk
from app.chat.conversations import latest_conversation, message_json, shop_channel, visitor_channel
from app.chat.hours import team_status_for
from app.chat.shop_settings import get_settings
from app.clock import Clock
from app.db import Database
from app.errors import ParleyError
from app.models import AuthorKind, Conversation, Message, Visitor
from app.realtime.broker import Broker, Event

log = logging.getLogger(__name__)

# Said by the assistant when a person takes over, in the widget's languages.
HANDOVER = {
    "en": "I'll pass this to our team; a person will answer here.",
    "et": "Annan selle meie meeskonnale edasi; siin vastab sulle inimene.",
    "he": "אעביר את זה לצוות שלנו; אדם יענה כאן.",
    "ar": "سأحوّل هذا إلى فريقنا؛ سيجيبك شخص هنا.",
    "pl": "Przekażę to naszemu zespołowi; odpowie tu człowiek.",
    "ru": "Передам это нашей команде; здесь ответит человек.",
}

# When that person will answer: within the usual time while the team is in, else from opening.
SOON = {
    "en": "We usually reply within {minutes} minutes.",
    "et": "Tavaliselt vastame {minutes} minuti jooksul.",
    "he": "בדרך כלל אנחנו עונים תוך {minutes} דקות.",
    "ar": "نرد عادةً خلال {minutes} دقيقة.",
    "pl": "Zwykle odpowiadamy w ciągu {minutes} minut.",
    "ru": "Обычно мы отвечаем в течение {minutes} минут.",
}
# "Back: Wednesday 09:00" reads right without declining the weekday (Polish, Russian, Estonian).
LATER = {
    "en": "We are back: {when}.",
    "et": "Oleme tagasi: {when}.",
    "he": "נחזור: {when}.",
    "ar": "نعود: {when}.",
    "pl": "Wracamy: {when}.",
    "ru": "Вернёмся: {when}.",
}


def when_a_person_answers(settings: dict[str, Any], now: datetime, language: str) -> str:
    status = team_status_for(settings, now)
    if status.state == "online" or status.back_at is None:
        return SOON.get(language, SOON["en"]).format(minutes=status.replies_in_minutes)
    zone = (settings.get("hours") or {}).get("timezone") or "UTC"
    try:
        when = format_datetime(status.back_at, "EEEE HH:mm", tzinfo=ZoneInfo(zone), locale=language)
    except (UnknownLocaleError, ValueError):
        when = format_datetime(status.back_at, "EEEE HH:mm", tzinfo=ZoneInfo(zone), locale="en")
    return LATER.get(language, LATER["en"]).format(when=when)


def _may_answer(mode: BotMode, team_in: bool) -> bool:
    return mode is BotMode.always or (mode is BotMode.after_hours and not team_in)


@dataclass(frozen=True)
class Question:
    shop_id: int
    conversation_id: str
    message_id: int


class AutoReplies:
    def __init__(
        self, db: Database, broker: Broker, clock: Clock, assistant: Assistant, orders: OrderDesk | None = None
    ):
        self.db = db
        self.broker = broker
        self.clock = clock
        self.assistant = assistant
        # "Where is my order?" from the platform (app/answers/order_desk.py); None: the team answers it.
        self.orders = orders
        self._queue: queue.Queue[Question] = queue.Queue(maxsize=10_000)
        self._thread: threading.Thread | None = None

    # -- after a shopper's message ------------------------------------------------------

    def shopper_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        """A ChatObserver: note the question; it is answered once the message is committed."""
        assert message.id is not None
        question = Question(conversation.shop_id, conversation.id, message.id)
        # Only once the message is committed: a rolled-back send asks nothing.
        sa.event.listen(session, "after_commit", lambda _session: self.ask(question), once=True)

    def agent_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        pass

    def ask(self, question: Question) -> None:
        try:
            self._queue.put_nowait(question)
        except queue.Full:
            log.warning("the assistant is behind; a question goes to the team only")

    def drain(self) -> int:
        """Answer every queued question now (tests, and the worker's loop)."""
        done = 0
        while True:
            try:
                question = self._queue.get_nowait()
            except queue.Empty:
                return done
            self.answer(question)
            done += 1

    def answer(self, question: Question) -> Decision | None:
        try:
            return self._answer(question)
        except Exception:
            log.exception("the assistant could not look at message %s", question.message_id)
            return None

    def _answer(self, question: Question) -> Decision | None:
        now = self.clock()
        with self.db.transaction() as session:
            conversation = session.get(Conversation, question.conversation_id)
            message = session.get(Message, question.message_id)
            if conversation is None or message is None or conversation.handed_over_at is not None:
                return None  # a person has it already: the assistant stays out
            visitor = session.get(Visitor, conversation.visitor_id)
            settings = get_settings(session, question.shop_id)
            team_in = team_status_for(settings, now).state == "online"
            locale = visitor.locale if visitor else None
            mode = bot_mode(settings.get("assistant_mode", "always"))
            order = None
            if self.orders is not None and visitor is not None and _may_answer(mode, team_in):
                order = self.orders.reply(session, conversation, visitor, message, language_of(locale))
            reply: Message | None
            if order is not None:
                if order.hand_over:
                    reply = self._hand_over(session, conversation, order.hand_over, locale, now)
                    decision = Decision(Action.handover, order.hand_over)
                else:
                    reply = self._bot_message(session, conversation, order.text or "", now, order.meta)
                    decision = Decision(Action.answer, "order status", text=order.text)
                self._publish_after_commit(session, conversation, reply)
                return decision
            decision = self.assistant.reply(
                session,
                question.shop_id,
                message.body,
                locale,
                team_in=team_in,
                mode=mode,
            )
            if decision.action.value == "answer" and decision.text:
                reply = self._bot_message(
                    session,
                    conversation,
                    decision.text,
                    now,
                    {
                        "answer_id": decision.answer_id,
                        "confidence": round(decision.confidence or 0, 3),
                        "in_reply_to": message.id,
                        "feedback": None,
                    },
                )
            elif decision.action.value == "handover":
                reply = self._hand_over(session, conversation, decision.reason, locale, now)
            else:
                return decision
        self._publish(conversation, reply)
        return decision

    # -- the shopper's verdict ----------------------------------------------------------------

    def feedback(self, shop_id: int, visitor_id: str, message_id: int, helpful: bool) -> dict[str, Any]:
        """ "This helped": the question is answered, nobody needs to wait for a person.
        "Talk to a person": handed over, with the assistant's exchange kept for them."""
        now = self.clock()
        with self.db.transaction() as session:
            message = session.get(Message, message_id)
            conversation = session.get(Conversation, message.conversation_id) if message else None
            if (
                message is None
                or conversation is None
                or conversation.shop_id != shop_id
                or conversation.visitor_id != visitor_id
                or message.author_kind != AuthorKind.bot
            ):
                raise ParleyError(404, "not_found", "no such answer in your conversation")
            message.meta = {**(message.meta or {}), "feedback": "helpful" if helpful else "handover"}
            session.add(message)
            reply = None
            if helpful:
                conversation.waiting_since = conversation.priority_at = conversation.due_at = None
                conversation.unread_by_agent = 0
                session.add(conversation)
            else:
                visitor = session.get(Visitor, visitor_id)
                reply = self._hand_over(
                    session, conversation, "asked for a person", visitor.locale if visitor else None, now
                )
            answer = message_json(message)
        self._publish(conversation, reply, status=True)
        return answer

    def hand_over(self, shop_id: int, visitor_id: str) -> None:
        """The widget's "talk to a person", without an answer to reply to."""
        now = self.clock()
        with self.db.transaction() as session:
            conversation = latest_conversation(session, visitor_id)
            if conversation is None or conversation.shop_id != shop_id:
                raise ParleyError(409, "no_conversation", "write your question first; a person will answer it")
            visitor = session.get(Visitor, visitor_id)
            reply = self._hand_over(
                session, conversation, "asked for a person", visitor.locale if visitor else None, now
            )
        self._publish(conversation, reply, status=True)

    # -- storing and telling --------------------------------------------------------------------

    def _hand_over(
        self, session: Session, conversation: Conversation, reason: str, locale: str | None, now: datetime
    ) -> Message | None:
        if conversation.handed_over_at is not None:
            return None
        conversation.handed_over_at = now
        conversation.handoff_reason = reason[:200]
        # Waiting on us from the question that brought the person in (it may have been marked solved).
        conversation.waiting_since = conversation.waiting_since or now
        session.add(conversation)
        language = (locale or "en").split("-")[0].lower()
        return self._bot_message(
            session, conversation, HANDOVER.get(language, HANDOVER["en"]), now, {"handover": reason}
        )

    def _bot_message(
        self, session: Session, conversation: Conversation, body: str, now: datetime, meta: dict[str, Any]
    ) -> Message:
        message = Message(
            shop_id=conversation.shop_id,
            conversation_id=conversation.id,
            author_kind=AuthorKind.bot,
            body=body,
            client_id=f"bot:{uuid.uuid4()}",
            created_at=now,
            meta=meta,
        )
        session.add(message)
        # The assistant is not the team: the conversation keeps waiting for a person.
        conversation.last_message_at = now
        session.add(conversation)
        session.flush()
        return message

    def _publish_after_commit(self, session: Session, conversation: Conversation, message: Message | None) -> None:
        sa.event.listen(session, "after_commit", lambda _s: self._publish(conversation, message), once=True)

    def _publish(self, conversation: Conversation, message: Message | None, status: bool = False) -> None:
        if message is not None:
            self.broker.publish(
                Event(
                    shop_channel(conversation.shop_id),
                    "message",
                    {"id": message.id, "conversation_id": conversation.id},
                )
            )
            self.broker.publish(Event(visitor_channel(conversation.visitor_id), "message", {"id": message.id}))
        if status:
            self.broker.publish(
                Event(
                    shop_channel(conversation.shop_id),
                    "status",
                    {
                        "conversation_id": conversation.id,
                        "status": conversation.status.value,
                        "assignee": conversation.assignee,
                    },
                )
            )

    # -- in the background ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="parley-assistant", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            question = self._queue.get()
            self.answer(question)
