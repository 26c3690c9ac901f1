"""Settings from the environment, with safe local defaults.

Production (`PARLEY_ENV=production`) refuses to start without the settings it
cannot guess, and refuses the development conveniences outright (extra storefront
origins, the Support page without App Bridge, a development sign-in). In
development the secrets Parley needs are generated once and kept in
`instance/dev-secrets.json`, so encrypted tokens survive a restart and nothing
secret ever lives in the repository.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"

ENVIRONMENTS = ("development", "test", "production")
REQUIRED_IN_PRODUCTION = (
    "SHOPIFY_API_KEY",
    "SHOPIFY_API_SECRET",
    "APP_URL",
    "SECRET_KEY",
    "TOKEN_ENCRYPTION_KEY",
)
# Pinned Admin API version: latest stable in November 2026 (shared/platforms/shopify.md §8.2).
SHOPIFY_API_VERSION = "2026-10"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    redis_url: str | None = None
    shopify_api_key: str = ""
    shopify_api_secret: str = ""
    shopify_api_secret_old: str | None = None
    shopify_scopes: str = (
        "read_customers,read_orders,write_app_proxy,read_content,read_legal_policies,read_products,write_discounts"
    )
    shopify_api_version: str = SHOPIFY_API_VERSION
    app_url: str = ""
    secret_key: str = ""
    token_encryption_key: str = ""
    # Development only (production refuses them): origins of local storefronts allowed to
    # call the storefront API besides each shop's own (comma-separated), the Support page
    # without App Bridge (a local admin has no Shopify CDN), and a development sign-in that
    # mints the page's ID tokens instead (`{url}/id-token`, `{url}/support`).
    dev_storefront_origins: str = ""
    shopify_app_bridge: bool = True
    dev_sign_in_url: str | None = None
    # Comma-separated Saleor API URLs (https://shop.example/graphql/) allowed to install
    # Parley; empty = any. In production an http:// API URL must be listed here.
    saleor_allowed_api_urls: str = ""
    # Seconds of clock skew tolerated on ID tokens.
    id_token_leeway: int = 10
    # Refresh an expiring offline token this many seconds before it expires.
    token_refresh_margin: int = 300
    # flask-limiter limits on the storefront API (per visitor token, and per client IP).
    rate_limit_visitor: str = "30/minute"
    rate_limit_ip: str = "300/minute"
    # Event streams: a comment line at least this often, and how often to read the
    # database while the broker is unreachable.
    sse_heartbeat_seconds: float = 15.0
    sse_poll_seconds: float = 2.0
    # Process stored webhook events in the web process (PARLEY_EVENT_WORKER=off when a
    # separate `parley worker` does it), and sweep for leftovers this often.
    event_worker: bool = True
    # Where merchants ask for help (the Saleor manifest's supportUrl); default: the landing page.
    support_url: str | None = None
    event_sweep_seconds: float = 30.0
    # How many reverse proxies in front of Parley set X-Forwarded-For/-Proto/-Host
    # (Werkzeug's ProxyFix); 0 trusts none, and limits key on the socket's address.
    trusted_proxies: int = 0
    # Processed webhook deliveries are kept this many days (for duplicates and the
    # merchant's trail), then pruned by the event worker.
    webhook_retention_days: int = 7
    # Cart snapshots older than this many days are pruned by the event worker, except each
    # conversation's latest (the cart the merchant sees). Keep it at least the longest
    # attribution window (90 days): an order finds its conversation by an old cart's token.
    cart_retention_days: int = 90
    # E-mail: `console` prints and keeps the last messages (development, the demo);
    # `smtp` sends through any relay. Every e-mail passes the outbox first.
    mailer: str = "console"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    # starttls, tls (implicit, usually port 465) or none (a relay on this machine)
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "Parley <parley@localhost>"
    # Replies come back to reply+<token>@<this domain>; empty: APP_URL's host.
    mail_inbound_domain: str = ""
    # `parley mail-in`: the SMTP listener that takes those replies.
    mail_in_host: str = "127.0.0.1"
    mail_in_port: int = 2525
    # Mailgun's webhook signing key, for replies that arrive through its inbound routes.
    mailgun_signing_key: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def extra_storefront_origins(self) -> set[str]:
        return {o.strip().rstrip("/") for o in self.dev_storefront_origins.split(",") if o.strip()}

    def override(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


_ENV_NAMES = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "shopify_api_key": "SHOPIFY_API_KEY",
    "shopify_api_secret": "SHOPIFY_API_SECRET",
    "shopify_api_secret_old": "SHOPIFY_API_SECRET_OLD",
    "shopify_scopes": "SHOPIFY_SCOPES",
    "app_url": "APP_URL",
    "secret_key": "SECRET_KEY",
    "token_encryption_key": "TOKEN_ENCRYPTION_KEY",
    "dev_storefront_origins": "DEV_STOREFRONT_ORIGINS",
    "dev_sign_in_url": "DEV_SIGN_IN_URL",
    "saleor_allowed_api_urls": "SALEOR_ALLOWED_API_URLS",
    "rate_limit_visitor": "RATE_LIMIT_VISITOR",
    "rate_limit_ip": "RATE_LIMIT_IP",
    "support_url": "SUPPORT_URL",
    "trusted_proxies": "TRUSTED_PROXIES",
    "webhook_retention_days": "WEBHOOK_RETENTION_DAYS",
    "cart_retention_days": "CART_RETENTION_DAYS",
    "mailer": "MAILER",
    "smtp_host": "SMTP_HOST",
    "smtp_port": "SMTP_PORT",
    "smtp_security": "SMTP_SECURITY",
    "smtp_user": "SMTP_USER",
    "smtp_password": "SMTP_PASSWORD",
    "mail_from": "MAIL_FROM",
    "mail_inbound_domain": "MAIL_INBOUND_DOMAIN",
    "mail_in_host": "MAIL_IN_HOST",
    "mail_in_port": "MAIL_IN_PORT",
    "mailgun_signing_key": "MAILGUN_SIGNING_KEY",
}
_NUMBERS = {f.name: f.type for f in fields(Settings) if f.type in ("int", "float", int, float)}
_CHOICES = {"mailer": ("console", "smtp"), "smtp_security": ("starttls", "tls", "none")}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build Settings from `environ` (default: os.environ), then apply overrides."""
    environ = os.environ if environ is None else environ
    env = environ.get("PARLEY_ENV", "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"PARLEY_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")

    # Any: each value goes to the Settings field of its name, whatever that field's type.
    values: dict[str, Any] = {"env": env}
    for attr, name in _ENV_NAMES.items():
        raw = environ.get(name, "").strip()
        if raw:
            values[attr] = _number(name, raw, _NUMBERS[attr]) if attr in _NUMBERS else raw
    if environ.get("SHOPIFY_APP_BRIDGE", "").strip().lower() in ("0", "off", "false", "no"):
        values["shopify_app_bridge"] = False
    if environ.get("PARLEY_EVENT_WORKER", "").strip().lower() in ("0", "off", "false", "no"):
        values["event_worker"] = False
    values.update(overrides)

    known = {f.name for f in fields(Settings)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    for attr, allowed in _CHOICES.items():
        if attr in values and values[attr] not in allowed:
            raise ConfigError(f"{_ENV_NAMES[attr]} must be one of {', '.join(allowed)}, not {values[attr]!r}")
    settings = Settings(**values)
    return finalize(settings)


def _number(name: str, raw: str, kind: object) -> int | float:
    try:
        return int(raw) if kind in ("int", int) else float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def finalize(settings: Settings) -> Settings:
    """Check the settings and fill development defaults; raise ConfigError on a problem."""
    if settings.production:
        missing = [
            name for attr, name in _ENV_NAMES.items() if name in REQUIRED_IN_PRODUCTION and not getattr(settings, attr)
        ]
        if missing:
            raise ConfigError(
                f"{missing[0]} is required in production (PARLEY_ENV=production) but is not set"
                + (f"; also missing: {', '.join(missing[1:])}" if missing[1:] else "")
            )
        if settings.dev_storefront_origins:
            raise ConfigError(
                "DEV_STOREFRONT_ORIGINS is for development and refused in production; each shop lists its own origins in Settings"
            )
        if not settings.shopify_app_bridge:
            raise ConfigError(
                "SHOPIFY_APP_BRIDGE=off is for a local admin and refused in production; the Shopify admin needs App Bridge"
            )
        if settings.dev_sign_in_url:
            raise ConfigError("DEV_SIGN_IN_URL mints admin tokens without Shopify and is refused in production")
        if not settings.app_url.startswith("https://"):
            raise ConfigError("APP_URL must be an https:// URL in production")
    else:
        settings = _with_dev_defaults(settings)

    if not settings.app_url:
        settings = settings.override(app_url="http://127.0.0.1:8000")
    if not settings.database_url:
        INSTANCE.mkdir(exist_ok=True)
        settings = settings.override(database_url=f"sqlite:///{INSTANCE / 'parley.db'}")
    _check_fernet_keys(settings.token_encryption_key)
    return settings.override(app_url=settings.app_url.rstrip("/"))


def _with_dev_defaults(settings: Settings) -> Settings:
    wanted = {
        "secret_key": lambda: secrets.token_urlsafe(32),
        "token_encryption_key": lambda: Fernet.generate_key().decode(),
        "shopify_api_key": lambda: "parley-dev-" + secrets.token_hex(8),
        "shopify_api_secret": lambda: secrets.token_hex(32),
    }
    if all(getattr(settings, attr) for attr in wanted):
        return settings
    stored = _load_dev_secrets(wanted)
    changes = {attr: stored[attr] for attr in wanted if not getattr(settings, attr)}
    return settings.override(**changes)


def _load_dev_secrets(wanted: Mapping[str, Callable[[], str]]) -> dict[str, str]:
    path = INSTANCE / "dev-secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    if not all(attr in stored for attr in wanted):
        for attr, make in wanted.items():
            stored.setdefault(attr, make())
        INSTANCE.mkdir(exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return stored


def _check_fernet_keys(value: str) -> None:
    for key in value.split(","):
        try:
            Fernet(key.strip().encode())
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                "TOKEN_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
                "(32 url-safe base64-encoded bytes; make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
            ) from exc
