"""Customer data exports (made by `customers/data_request`), for the merchant to download."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify
from sqlmodel import col, select

from app.errors import ParleyError
from app.models import DataExport
from app.web.admin.auth import staff
from app.web.context import parley

bp = Blueprint("admin_api", __name__, url_prefix="/admin/api")


@bp.get("/exports")
def list_exports() -> Response:
    shop = staff().shop
    with parley().db.session() as session:
        exports = session.exec(
            select(DataExport)
            .where(DataExport.shop_id == shop.id)
            .order_by(col(DataExport.created_at).desc())
            .limit(100)
        ).all()
    return jsonify(
        exports=[
            {
                "id": e.id,
                "customer_id": e.customer_id,
                "customer_email": e.customer_email,
                "request_id": e.request_id,
                "created_at": e.created_at.isoformat(),
                "conversations": len((e.content or {}).get("conversations", [])),
            }
            for e in exports
        ]
    )


@bp.get("/exports/<export_id>")
def download_export(export_id: str) -> Response:
    shop = staff().shop
    with parley().db.session() as session:
        export = session.exec(
            select(DataExport).where(DataExport.id == export_id, DataExport.shop_id == shop.id)
        ).first()
    if export is None:
        raise ParleyError(404, "not_found", "no such export in this shop")
    body = json.dumps(export.content, indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="parley-customer-data-{export.id}.json"'},
    )
