"""How a view reaches the process's services."""

from __future__ import annotations

from flask import current_app

from app.services import Services


def parley() -> Services:
    return current_app.extensions["parley"]  # type: ignore[no-any-return]
