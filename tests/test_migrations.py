"""The Alembic migrations and the SQLModel tables describe the same schema, on
SQLite and PostgreSQL, and `parley db upgrade` applies them."""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa

from app.db import make_engine
from app.migrate import downgrade, pending_differences, upgrade
from tests.support.services import POSTGRES_URL


def test_migrations_match_the_models_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert pending_differences(engine) == []
    assert sa.inspect(engine).get_indexes("conversation")


def test_migrations_match_the_models_on_postgresql(postgres_engine):
    assert pending_differences(postgres_engine) == []


def test_migrations_go_down_and_up_again_on_postgresql(postgres_engine):
    # Its own schema, so the shared one other tests use stays untouched.
    schema = "migration_roundtrip"
    with postgres_engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = sa.create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
        upgrade(engine)
        assert pending_differences(engine) == []
    finally:
        engine.dispose()
        with postgres_engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


def test_sqlite_database_runs_in_wal_mode(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_parley_db_upgrade_creates_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "DATABASE_URL": url, "PARLEY_ENV": "test"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "database at revision head" in done.stdout
    tables = set(sa.inspect(make_engine(url)).get_table_names())
    assert {
        "shop",
        "visitor",
        "conversation",
        "message",
        "cart_snapshot",
        "order_link",
        "webhook_event",
        "shop_setting",
    } <= tables
