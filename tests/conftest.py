"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL inside a
rolled-back transaction), the Shopify stand-in on a real socket, a movable clock and
the app wired to both. The helpers themselves live in tests/support/.

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server CI provides).
On a laptop without it those cases skip; under CI=true a missing server fails.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from joserfc.jwk import RSAKey
from sqlmodel import SQLModel

import app.models
from app.config import load_settings
from app.db import Database, make_engine
from app.migrate import upgrade
from standins.saleor.standin import SaleorStandin
from standins.server import StandinServer
from standins.shopify.standin import ShopifyStandin
from tests.support.apps import make_app
from tests.support.clock import MovableClock
from tests.support.saleor import running_saleor
from tests.support.services import POSTGRES_URL, service_unavailable
from tests.support.shops import API_KEY, API_SECRET, SHOP, install
from tests.support.smtp import SmtpServer, sending_through


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
def clock() -> MovableClock:
    """The time every service of the test's app reads; `clock.set(…)` moves it for all."""
    return MovableClock()


@pytest.fixture
def standin():
    fake = ShopifyStandin(API_KEY, API_SECRET)
    fake.add_shop(SHOP, name="Fjord Gear")
    with StandinServer(fake):
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
        # As in the demo: the stand-in's storefront pages may call the storefront API, and
        # its admin loads the Support page without Shopify's App Bridge.
        dev_storefront_origins=standin.url,
        shopify_app_bridge=False,
        app_url="http://parley.test",
    )


@pytest.fixture
def app(settings, standin, bind, clock):
    return make_app(settings, standin, bind=bind, clock=clock)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def services(app):
    return app.extensions["parley"]


@pytest.fixture
def shop_id(services) -> int:
    """The test shop, installed with a token the stand-in does not know (no Admin API calls)."""
    return install(services, SHOP)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a local socket: the shop's relay."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(settings, standin, bind, clock, smtp):
    """The app sending its e-mail through `smtp` (plain SMTP on loopback)."""
    mailed = settings.override(**sending_through(smtp), mail_inbound_domain="mail.parley.test")
    return make_app(mailed, standin, bind=bind, clock=clock)


@pytest.fixture(scope="session")
def saleor_keys() -> dict[str, RSAKey]:
    """Saleor A's key, Saleor B's key, and a key nobody published (for forgeries)."""
    return {
        name: RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig", "kid": f"kid-{name}"})
        for name in ("a", "b", "attacker")
    }


@pytest.fixture
def saleor(app) -> Iterator[SaleorStandin]:
    """A Saleor stand-in on a real socket whose outgoing requests reach the app in-process."""
    with running_saleor(app) as standin:
        yield standin


@pytest.fixture
def saleor_b(app) -> Iterator[SaleorStandin]:
    """A second, unrelated Saleor instance (another tenant)."""
    with running_saleor(app) as standin:
        yield standin
