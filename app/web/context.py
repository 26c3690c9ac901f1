"""How a view reaches the process's services."""

from __future__ import annotations

from flask import current_app

from app.services import Parley


def parley() -> Parley:
    return current_app.extensions["parley"]
