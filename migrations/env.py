"""Alembic environment: the database comes from Parley's settings, or from a
connection handed over by `app.migrate` (tests, `parley db upgrade`)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables)
from app.db import make_engine
from app.schema_extras import include_name

target_metadata = SQLModel.metadata
config = context.config


def _render_item(type_, obj, autogen_context):
    # Our column types live in app.db; make generated migrations import them.
    if type_ == "type" and obj.__class__.__module__ == "app.db":
        autogen_context.imports.add("import app.db")
        return f"app.db.{obj.__class__.__name__}()"
    return False


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        compare_type=True,
        include_name=include_name,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from app.config import load_settings

    engine = make_engine(load_settings().database_url)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run against a database")
run_migrations_online()
