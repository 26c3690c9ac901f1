"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL inside a
rolled-back transaction), the Shopify stand-in on a real socket, and the app.

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server CI provides).
On a laptop without it those cases skip; under CI=true a missing server fails.
"""

from __future__ import annotations

import os
import secrets

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlmodel import SQLModel

from app import create_app
from app.config import load_settings
from app.db import Database, make_engine
from app.migrate import upgrade
from app import shops
from app.db import utcnow
from app.models import Platform  # importing app.models registers the tables create_all makes
from app.platforms.shopify.standin import ShopifyStandin, StandinServer

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

API_KEY = "parley-test-client-id"
API_SECRET = "parley-test-secret-" + secrets.token_hex(8)
SHOP = "fjord-gear.myshopify.com"


def service_unavailable(reason: str):
    """A real service the suite needs is missing: a failure under CI=true, a skip on a laptop.

    CI provides PostgreSQL, Redis, npm and Chromium, so there a skip would hide a gap.
    """
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: CI must exercise it for real", pytrace=False)
    pytest.skip(f"{reason} (provided under CI, where it is required)")


@pytest.fixture(scope="session")
def postgres_engine():
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        service_unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc.__class__.__name__})")
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def bind(backend, tmp_path, request):
    """A bind for one test: a fresh SQLite file, or a PostgreSQL connection rolled back afterwards."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'parley.db'}")
        SQLModel.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    connection = engine.connect()
    outer = connection.begin()
    yield connection
    outer.rollback()
    connection.close()


@pytest.fixture
def db(bind) -> Database:
    return Database(bind)


@pytest.fixture
def standin():
    fake = ShopifyStandin(API_KEY, API_SECRET)
    fake.add_shop(SHOP, name="Fjord Gear")
    with StandinServer(fake) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def settings(standin, tmp_path):
    return load_settings(
        environ={"PARLEY_ENV": "test"},
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        shopify_api_key=API_KEY,
        shopify_api_secret=API_SECRET,
        secret_key=secrets.token_urlsafe(32),
        token_encryption_key=Fernet.generate_key().decode(),
        shopify_standin_url=standin.url,
        app_url="http://parley.test",
    )


@pytest.fixture
def app(settings, bind):
    app = create_app(settings, bind=bind)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def services(app):
    return app.extensions["parley"]


@pytest.fixture
def shop_id(services) -> int:
    """The test shop, installed with a token the stand-in does not know (no Admin API calls)."""
    with services.db.transaction() as session:
        return shops.record_install(
            session, services.cipher, Platform.shopify, SHOP, shops.TokenGrant("shpat_x", "read_orders"), utcnow()
        ).id
