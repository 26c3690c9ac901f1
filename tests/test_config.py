"""Settings: safe local defaults, and production refusing what it cannot guess
or must never run (the demo, the Shopify stand-in)."""

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
    assert settings.shopify_standin_url is None


@pytest.mark.parametrize("name", ["SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "APP_URL", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY"])
def test_production_names_the_missing_setting(name):
    environ = {k: v for k, v in PRODUCTION.items() if k != name}
    with pytest.raises(ConfigError) as err:
        load_settings(environ)
    assert str(err.value).startswith(f"{name} is required in production")


def test_production_refuses_the_shopify_standin():
    with pytest.raises(ConfigError, match="SHOPIFY_STANDIN_URL .* refused in production"):
        load_settings({**PRODUCTION, "SHOPIFY_STANDIN_URL": "http://127.0.0.1:8001"})


def test_production_refuses_the_demo():
    with pytest.raises(ConfigError, match="demo .* refused in production"):
        load_settings({**PRODUCTION, "PARLEY_DEMO": "1"})


def test_production_refuses_the_demo_command():
    env = {**os.environ, **PRODUCTION}
    done = subprocess.run([sys.executable, "-m", "app.cli", "demo", "--port", "8799"], env=env, capture_output=True, text=True, timeout=60)
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
