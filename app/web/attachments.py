"""Pictures both ways (docs/storefront-api.md, docs/admin-api.md): the shopper uploads one
from the widget, the agent from the Support page, each into their conversation; either
side reads back the pictures of that conversation, nobody else.

An upload is the picture as the multipart field `file` (with `client_id` beside it), or
the raw bytes as the body (with `?client_id=`). Its size is judged from Content-Length
before anything is read, and the read itself stops at the cap.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.chat import conversations as chat
from app.errors import ParleyError
from app.media.attachments import PICTURE_BODY, check, refusal
from app.media.images import MAX_BYTES
from app.models import Attachment, Visitor
from app.web.admin.auth import staff
from app.web.context import parley
from app.web.origins import add_cors_headers
from app.web.rate_limits import limited_by_visitor_and_ip
from app.web.requests import BINARY_BODIES
from app.web.storefront import caller

shopper_bp = Blueprint("attachments_storefront", __name__, url_prefix="/api/storefront/v1")
admin_bp = Blueprint("attachments_admin", __name__, url_prefix="/admin/api")

# Room for the multipart envelope (boundaries, part headers, the client id) around a picture.
ENVELOPE_BYTES = 16 * 1024
UPLOAD_CAP = MAX_BYTES + ENVELOPE_BYTES
# A picture never changes under its id: the browser may keep it, for this person only.
CACHE_CONTROL = "private, max-age=31536000, immutable"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}

ResponseValue = Response | tuple[Response, int]


@shopper_bp.after_request
def _cors(response: Response) -> Response:
    return add_cors_headers(response)


# -- reading an upload -------------------------------------------------------------------


def _uploaded(locale: str | None) -> tuple[bytes, str]:
    """(the file's bytes, the client id), or a 400 in the user's language."""
    if request.content_length is not None and request.content_length > UPLOAD_CAP:
        raise refusal("too_large", locale)
    try:
        if request.mimetype == "multipart/form-data":
            file = request.files.get("file")
            if file is None:
                raise ParleyError(400, "missing_file", "send the picture as the form field `file`", field="file")
            raw = file.stream.read(MAX_BYTES + 1)
            client_id = request.form.get("client_id", "")
        else:
            raw = request.get_data(cache=True, parse_form_data=False)
            client_id = request.args.get("client_id", "")
    except RequestEntityTooLarge:
        raise refusal("too_large", locale) from None
    if len(raw) > MAX_BYTES:
        raise refusal("too_large", locale)
    if "\x00" in client_id:
        raise ParleyError(400, "invalid_client_id", "client_id must be text of 1 to 64 characters", field="client_id")
    return raw, client_id


def _staff_locale() -> str:
    return request.accept_languages.best_match(["en", "et", "pl", "ru", "he", "ar"]) or "en"


def _picture_response(attachment: Attachment, data: bytes) -> Response:
    response = Response(data, mimetype=attachment.content_type)
    extension = EXTENSIONS.get(attachment.content_type, "img")
    response.headers["Content-Disposition"] = f'inline; filename="picture-{attachment.id[:8]}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = CACHE_CONTROL
    # Opened on its own, the picture runs nothing and loads nothing else.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.set_etag(attachment.sha256)
    response.make_conditional(request)
    return response


# -- the shopper's side ------------------------------------------------------------------


@shopper_bp.post("/attachments")
@limited_by_visitor_and_ip
def shopper_upload() -> ResponseValue:
    who = caller()
    services = parley()
    with services.db.session() as session:
        visitor = session.get(Visitor, who.claim.visitor_id)
        locale = (visitor.locale if visitor else None) or _staff_locale()
    raw, client_id = _uploaded(locale)
    chat.check_client_id(client_id)
    image = check(raw, locale)
    sent = services.attachments.send(
        image,
        "shopper",
        lambda: services.chat.send_shopper_message(who.shop_id, who.claim.visitor_id, client_id, PICTURE_BODY),
    )
    answer = jsonify(message=chat.message_json(sent.message), conversation=chat.conversation_json(sent.conversation))
    return answer, (201 if sent.created else 200)


@shopper_bp.get("/attachments/<attachment_id>")
def shopper_picture(attachment_id: str) -> Response:
    """An <img> cannot send a header: the visitor token may come as `?token=`, as the stream's does."""
    who = caller(request.args.get("token") or None)
    attachment, data = parley().attachments.read(who.shop_id, attachment_id, visitor_id=who.claim.visitor_id)
    return _picture_response(attachment, data)


# -- the agent's side --------------------------------------------------------------------


@admin_bp.post("/conversations/<conversation_id>/attachments")
def agent_upload(conversation_id: str) -> ResponseValue:
    locale = _staff_locale()
    if request.content_length is not None and request.content_length > UPLOAD_CAP:
        raise refusal("too_large", locale)  # before the token check reads the body
    who = staff()
    services = parley()
    raw, client_id = _uploaded(locale)
    chat.check_client_id(client_id)
    image = check(raw, locale)
    sent = services.attachments.send(
        image,
        "agent",
        lambda: services.chat.send_agent_message(who.shop_id, conversation_id, who.user_id, PICTURE_BODY, client_id),
    )
    return jsonify(message=chat.message_json(sent.message)), (201 if sent.created else 200)


@admin_bp.get("/attachments/<attachment_id>")
def agent_picture(attachment_id: str) -> Response:
    who = staff()
    attachment, data = parley().attachments.read(who.shop_id, attachment_id)
    return _picture_response(attachment, data)


BINARY_BODIES.update(
    {
        f"{shopper_bp.name}.{shopper_upload.__name__}": UPLOAD_CAP,
        f"{admin_bp.name}.{agent_upload.__name__}": UPLOAD_CAP,
    }
)
