"""Shoppers' e-mail replies through Mailgun's inbound routes (the other way in is
`parley mail-in`). Each delivery is signed with the webhook signing key: HMAC-SHA256
over `timestamp + token`, hex, in the form beside the message; the full MIME comes as
`body-mime` (Mailgun posts it to a forward() URL ending in `mime`). Errors are JSON,
as Mailgun reads them: 406 means "do not retry", 401 a signature that does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import Blueprint, Response, jsonify, request

from app.errors import ParleyError
from app.notify.inbound import MailRefusal
from app.web.context import parley

bp = Blueprint("mail_inbound", __name__)

MAILGUN_MAX_AGE = 300  # seconds a signed inbound delivery may be old


@bp.errorhandler(ParleyError)
def _json_error(exc: ParleyError) -> Response:
    response = jsonify(exc.as_json())
    response.status_code = exc.status
    return response


@bp.post("/mail/inbound/mailgun")
@bp.post("/mail/inbound/mailgun/mime")
def mailgun_inbound() -> Response:
    services = parley()
    key = services.settings.mailgun_signing_key
    if not key:
        raise ParleyError(404, "not_configured", "this Parley takes no mail through Mailgun (MAILGUN_SIGNING_KEY)")
    form = request.form
    stamp, token, signature = form.get("timestamp", ""), form.get("token", ""), form.get("signature", "")
    expected = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    if not (stamp.isdigit() and token and hmac.compare_digest(signature.lower(), expected)):
        raise ParleyError(401, "invalid_signature", "the Mailgun signature does not match")
    if abs(time.time() - int(stamp)) > MAILGUN_MAX_AGE:
        raise ParleyError(401, "stale_signature", "the Mailgun signature is more than five minutes old")
    raw = form.get("body-mime")
    if not raw:
        raise ParleyError(
            400, "missing_mime", "post the full message: a route action forward() to a URL ending in /mime"
        )
    recipients = [r.strip() for r in (form.get("recipient") or "").split(",") if r.strip()]
    try:
        received = services.notify.inbound.receive(raw.encode("utf-8", "surrogateescape"), recipients)
    except MailRefusal as exc:
        # Mailgun treats 406 as "do not retry"; the message is not ours to take.
        raise ParleyError(406, "refused", exc.message) from None
    return jsonify(status=received.outcome)
