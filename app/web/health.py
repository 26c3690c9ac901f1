from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify

from app.web.context import parley

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    services = parley()
    try:
        with services.db.session() as session:
            session.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError:
        database = "unavailable"
    status = 200 if database == "ok" else 503
    body = {
        "status": "ok" if status == 200 else "degraded",
        "database": database,
        "database_backend": services.db.dialect,
        "environment": services.settings.env,
    }
    return jsonify(body), status
