"""Insights for the Support page: the figures as JSON (with server-drawn SVG charts)
and the same figures as CSV. The definitions live in app/commerce/insights.py, the
period in app/commerce/periods.py."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.answers.insights import assistant_figures
from app.chat.shop_settings import get_settings
from app.chat.targets_met import first_response_targets
from app.commerce import insights as figures
from app.commerce.attribution import attribution_window
from app.commerce.insights_report import insights_csv, insights_json
from app.commerce.periods import Period, period_for
from app.notify.settings import notify_settings
from app.platforms.port import Staff
from app.web.admin import charts
from app.web.admin.auth import staff
from app.web.context import parley
from app.web.queries import PERIOD_MESSAGES, PeriodQuery, read_query

bp = Blueprint("admin_insights", __name__, url_prefix="/admin/api")


def _load() -> tuple[Staff, Period, figures.Insights]:
    who = staff()
    query = read_query(PeriodQuery, PERIOD_MESSAGES, code="invalid_period")
    services = parley()
    now = services.now()
    with services.db.session() as session:
        settings = get_settings(session, who.shop_id)
        period = period_for(settings, query.first, query.last, now)
        result = figures.compute(
            session, who.shop_id, period.start, period.end, now, attribution_window(settings), tz=period.zone
        )
    return who, period, result


@bp.get("/insights")
def show_insights() -> Response:
    who, period, result = _load()
    body = insights_json(period, result)
    with parley().db.session() as session:
        body["assistant"] = assistant_figures(session, who.shop_id, period.start, period.end).as_json()
        minutes = int(notify_settings(session, who.shop_id)["first_response_target_minutes"])
        channels = first_response_targets(session, who.shop_id, period.start, period.end, parley().now(), minutes)
    body["first_response_target"] = {"minutes": minutes, "channels": [c.as_json() for c in channels]}
    body["charts"] = {
        "conversations": charts.conversations_chart(result.days),
        "revenue": charts.revenue_chart(result.days),
    }
    return jsonify(body)


@bp.get("/insights.csv")
def export_insights() -> Response:
    who, period, result = _load()
    filename = f"parley-insights-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
    response = Response(insights_csv(who.shop.domain, period, result), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
