"""Apply and check Alembic migrations against an engine or a connection."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from app.config import ROOT


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
    with bind.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences: list[Any] = compare_metadata(context, SQLModel.metadata)
        return differences
