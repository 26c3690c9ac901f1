"""The search index, the counters' triggers and the e-mail index are written twice: frozen
in migration 0008 (real databases) and in app/schema_extras.py (create_all, a test's fresh
SQLite file). Both must build the same objects, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from app.db import make_engine
from app.migrate import upgrade
from app.schema_extras import UNMANAGED_INDEXES
from tests.support.services import POSTGRES_URL

OURS = ("message_fts", "visitor_fts", "conversation_count", "ix_visitor_shop_id_email_lower")


def _sqlite_objects(engine) -> dict[tuple[str, str], str]:
    with engine.connect() as connection:
        return {
            (kind, name): " ".join((sql or "").split())
            for kind, name, sql in connection.exec_driver_sql("SELECT type, name, sql FROM sqlite_master")
            if name.startswith(OURS)
        }


def test_sqlite_migrated_and_created_alike(tmp_path):
    migrated = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    upgrade(migrated, "0008")
    created = make_engine(f"sqlite:///{tmp_path / 'created.db'}")
    SQLModel.metadata.create_all(created)
    ours = _sqlite_objects(migrated)
    assert ("trigger", "message_fts_delete") in ours and ("trigger", "conversation_count_update") in ours
    assert ours == _sqlite_objects(created)


def _postgresql_objects(engine, schema: str) -> dict[str, str]:
    with engine.connect() as connection:
        indexes = {
            name: definition.replace(f"{schema}.", "")
            for name, definition in connection.execute(
                sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s"), {"s": schema}
            )
            if name in UNMANAGED_INDEXES
        }
        triggers = {
            name: definition.replace(f"{schema}.", "")
            for name, definition in connection.execute(
                sa.text(
                    "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND NOT t.tgisinternal"
                ),
                {"s": schema},
            )
        }
        functions = {
            name: body
            for name, body in connection.execute(
                sa.text(
                    "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = :s"
                ),
                {"s": schema},
            )
        }
    return {**indexes, **triggers, **functions}


def test_postgresql_migrated_and_created_alike(postgres_engine):
    schemas = {"migrated": "extras_migrated", "created": "extras_created"}
    with postgres_engine.begin() as connection:
        for schema in schemas.values():
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engines = {
        kind: sa.create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
        for kind, schema in schemas.items()
    }
    try:
        upgrade(engines["migrated"], "0008")
        SQLModel.metadata.create_all(engines["created"])
        migrated = _postgresql_objects(engines["migrated"], schemas["migrated"])
        assert set(UNMANAGED_INDEXES) <= set(migrated)
        assert "conversation_count_update" in migrated and "parley_conversation_count" in migrated
        assert migrated == _postgresql_objects(engines["created"], schemas["created"])
    finally:
        for engine in engines.values():
            engine.dispose()
        with postgres_engine.begin() as connection:
            for schema in schemas.values():
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
