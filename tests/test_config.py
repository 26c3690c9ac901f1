"""Settings: safe local defaults, and production refusing what it cannot guess
or must never run (the demo, a stand-in for Shopify, the development conveniences);
and the product runs without the stand-ins installed at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from app import config as config_module
from app.config import ConfigError, load_settings

PRODUCTION = {
    "PARLEY_ENV": "production",
    "SHOPIFY_API_KEY": "key",
    "SHOPIFY_API_SECRET": "secret",
    "APP_URL": "https://parley.example.com",
    "SECRET_KEY": "s" * 40,
    "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "DATABASE_URL": "sqlite:///:memory:",
}


def test_production_with_every_setting_starts():
    settings = load_settings(PRODUCTION)
    assert settings.production
    assert (settings.dev_storefront_origins, settings.shopify_app_bridge, settings.dev_sign_in_url) == ("", True, None)


@pytest.mark.parametrize(
    "name", ["SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "APP_URL", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY"]
)
def test_production_names_the_missing_setting(name):
    environ = {k: v for k, v in PRODUCTION.items() if k != name}
    with pytest.raises(ConfigError) as err:
        load_settings(environ)
    assert str(err.value).startswith(f"{name} is required in production")


@pytest.mark.parametrize(
    "name, value",
    [
        ("DEV_STOREFRONT_ORIGINS", "http://127.0.0.1:8001"),
        ("SHOPIFY_APP_BRIDGE", "off"),
        ("DEV_SIGN_IN_URL", "/demo"),
    ],
)
def test_production_refuses_the_development_conveniences(name, value):
    with pytest.raises(ConfigError, match=f"{name}.* refused in production"):
        load_settings({**PRODUCTION, name: value})


def test_production_cannot_be_wired_to_a_shopify_standin():
    from app import create_app
    from standins.shopify.transport import standin_http

    with pytest.raises(ConfigError, match=r"stand-in for Shopify .* refused in production"):
        create_app(load_settings(PRODUCTION), shopify_http=standin_http("http://127.0.0.1:8001"))


# Run in a fresh interpreter in which the stand-ins and the demo's Liquid cannot be
# imported, as after `pip install .` without the demo extra.
WITHOUT_STANDINS = """
import sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("standins", "liquid"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Refuse())
from app import create_app
app = create_app({"app_url": "http://parley.test"})
client = app.test_client()
assert client.get("/healthz").status_code == 200, "healthz"
assert client.get("/").status_code == 200, "landing page"
assert client.get("/saleor/manifest").status_code == 200, "Saleor manifest"
assert client.post("/api/storefront/v1/session", json={"shop": "x.myshopify.com"}).status_code == 404, "storefront API"
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("standins", "liquid"))
assert not loaded, loaded
print("served without stand-ins")
"""


def test_the_product_imports_and_serves_with_the_standins_unimportable(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120
    )
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_STANDINS], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "served without stand-ins" in done.stdout


def test_the_demo_command_says_what_to_install_without_the_standins():
    code = WITHOUT_STANDINS.split("from app import create_app")[0] + (
        "from app.cli import main\nraise SystemExit(main(['demo', '--port', '8798']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "pip install -e '.[demo]'" in done.stderr


def test_production_refuses_the_demo_command():
    env = {**os.environ, **PRODUCTION}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--port", "8799"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "refused in production" in done.stderr


def test_production_refuses_plain_http_app_url():
    with pytest.raises(ConfigError, match="APP_URL must be an https:// URL"):
        load_settings({**PRODUCTION, "APP_URL": "http://parley.example.com"})


def test_malformed_encryption_key_is_named():
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEY must be one or more comma-separated Fernet keys"):
        load_settings({**PRODUCTION, "TOKEN_ENCRYPTION_KEY": "not-a-key"})


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="PARLEY_ENV must be one of"):
        load_settings({"PARLEY_ENV": "staging"})


def test_development_generates_secrets_once_and_keeps_them(tmp_path, monkeypatch):
    monkeypatch.setattr(config_module, "INSTANCE", tmp_path)
    first = load_settings({})
    second = load_settings({})
    assert first.secret_key and first.token_encryption_key and first.shopify_api_secret
    assert (first.secret_key, first.token_encryption_key) == (second.secret_key, second.token_encryption_key)
    stored = json.loads((tmp_path / "dev-secrets.json").read_text())
    assert stored["secret_key"] == first.secret_key
    assert oct((tmp_path / "dev-secrets.json").stat().st_mode)[-3:] == "600"
    assert first.database_url == f"sqlite:///{tmp_path / 'parley.db'}"


def test_environment_overrides_development_defaults(tmp_path, monkeypatch):
    monkeypatch.setattr(config_module, "INSTANCE", tmp_path)
    settings = load_settings({"SHOPIFY_API_KEY": "mine", "APP_URL": "https://x.example.com/"})
    assert settings.shopify_api_key == "mine"
    assert settings.app_url == "https://x.example.com"
