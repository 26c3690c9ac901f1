"""The shop's assistant, from both sides: the shopper's verdict on an answer and their
"talk to a person" (storefront API), and the merchant's answers, mode and preview
(Support page API)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.answers import store
from app.answers.decide import BotMode, bot_mode
from app.answers.importer import import_answers
from app.chat.shop_settings import get_settings, put_setting
from app.errors import ParleyError
from app.web.admin.auth import staff
from app.web.context import parley
from app.web.origins import add_cors_headers
from app.web.rate_limits import limited_by_visitor_and_ip
from app.web.requests import json_body
from app.web.storefront import caller

shopper_bp = Blueprint("assistant", __name__, url_prefix="/api/storefront/v1")
admin_bp = Blueprint("admin_assistant", __name__, url_prefix="/admin/api")


@shopper_bp.after_request
def _cors(response: Response) -> Response:
    return add_cors_headers(response)


@shopper_bp.post("/messages/<int:message_id>/feedback")
@limited_by_visitor_and_ip
def feedback(message_id: int) -> Response:
    who = caller()
    helpful = json_body().get("helpful")
    if not isinstance(helpful, bool):
        raise ParleyError(400, "invalid_feedback", "helpful must be true (this helped) or false (talk to a person)")
    answer = parley().auto_replies.feedback(who.shop_id, who.claim.visitor_id, message_id, helpful)
    return jsonify(message=answer)


@shopper_bp.post("/handover")
@limited_by_visitor_and_ip
def handover() -> Response:
    who = caller()
    parley().auto_replies.hand_over(who.shop_id, who.claim.visitor_id)
    return Response(status=204)


# -- the merchant's side -------------------------------------------------------------------


def _mode_of(settings: dict[str, Any]) -> str:
    return bot_mode(settings.get("assistant_mode", BotMode.always.value)).value


@admin_bp.get("/answers")
def list_answers() -> Response:
    who = staff()
    with parley().db.session() as session:
        answers = store.list_answers(session, who.shop_id, request.args.get("language") or None)
        settings = get_settings(session, who.shop_id)
    return jsonify(answers=[store.answer_json(a) for a in answers], mode=_mode_of(settings))


@admin_bp.post("/answers")
def create_answer() -> tuple[Response, int]:
    who = staff()
    with parley().db.transaction() as session:
        answer = store.create_answer(session, who.shop_id, request.get_json(silent=True), parley().now())
        body = store.answer_json(answer)
    return jsonify(answer=body), 201


# Answer ids are a 32-bit column: a larger one names nothing (PostgreSQL refuses to compare it).
ANSWER_ID = "<int(max=2147483647):answer_id>"


@admin_bp.put(f"/answers/{ANSWER_ID}")
def update_answer(answer_id: int) -> Response:
    who = staff()
    with parley().db.transaction() as session:
        answer = store.update_answer(session, who.shop_id, answer_id, request.get_json(silent=True), parley().now())
        body = store.answer_json(answer)
    return jsonify(answer=body)


@admin_bp.delete(f"/answers/{ANSWER_ID}")
def delete_answer(answer_id: int) -> Response:
    who = staff()
    with parley().db.transaction() as session:
        store.delete_answer(session, who.shop_id, answer_id)
    return Response(status=204)


@admin_bp.put("/assistant")
def set_mode() -> Response:
    """Off, after hours only, or always (with nothing written it stays silent anyway)."""
    who = staff()
    mode = json_body().get("mode")
    if mode not in {m.value for m in BotMode}:
        raise ParleyError(400, "invalid_setting", "The assistant is off, after_hours or always", field="mode")
    with parley().db.transaction() as session:
        put_setting(session, who.shop_id, "assistant_mode", mode, parley().now())
    return jsonify(mode=mode)


@admin_bp.post("/answers/preview")
def preview() -> Response:
    """What the assistant would reply to a typed question, and why."""
    who = staff()
    body = json_body()
    question, language = body.get("question"), body.get("language") or "en"
    if not isinstance(question, str) or not question.strip() or len(question) > 1000:
        raise ParleyError(400, "invalid_question", "type a question of up to 1,000 characters", field="question")
    with parley().db.session() as session:
        decision = parley().auto_replies.assistant.preview(session, who.shop_id, question, language)
    return jsonify(decision.as_json())


@admin_bp.post("/answers/import")
def import_from_store() -> Response:
    """Import the store's policies and pages (Shopify) or pages (Saleor) as answers in one
    language; a re-import updates what changed and says what it did."""
    who = staff()
    data = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(data, dict):
        raise ParleyError(400, "invalid_json", "the request body must be a JSON object")
    language = store.checked_language(data.get("language") or "en")
    platform = parley().platforms.of(who.shop)
    records = platform.answer_records(who.shop, language)  # asked before the transaction opens
    with parley().db.transaction() as session:
        report = import_answers(
            session, who.shop_id, records, parley().now(), sources=platform.answer_sources, language=language
        )
    return jsonify(language=language, platform=platform.display_name, **report.as_json())
