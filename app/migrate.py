"""Apply and check Alembic migrations against an engine or a connection."""

from __future__ import annotations

import warnings
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from app.config import ROOT
from app.schema_extras import include_name


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return cfg


def upgrade(bind: Engine | Connection, revision: str = "head") -> None:
    cfg = alembic_config()
    if isinstance(bind, Connection):
        cfg.attributes["connection"] = bind
        command.upgrade(cfg, revision)
        return
    with bind.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(bind: Engine, revision: str) -> None:
    cfg = alembic_config()
    with bind.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def pending_differences(bind: Engine) -> list[Any]:
    """What autogenerate would still write: empty when models and migrations agree."""
    with bind.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; app/schema_extras.py owns those anyway.
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        differences: list[Any] = compare_metadata(context, SQLModel.metadata)
        return differences
