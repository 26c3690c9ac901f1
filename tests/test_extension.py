"""The Shopify theme app extension (extensions/parley-chat).

Four kinds of checks:
- Shopify's own theme-check, run with the app-extension configuration that
  `shopify app build/deploy` uses (tools/theme-check);
- the storefront budget: the loader every page view downloads, and the locale files;
- the app embed block's markup, rendered with python-liquid and a stand-in `t` filter;
- the widget itself, in a real Chromium, against a stand-in for the storefront API
  (docs/storefront-api.md) that runs on a second origin, as Parley does behind the
  app proxy.
"""

from __future__ import annotations

import gzip
import html
import html.parser
import itertools
import json
import re
import shutil
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.browser import launch_chromium
from tests.support.services import service_unavailable

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extensions" / "parley-chat"
ASSETS = EXTENSION / "assets"
LOCALES = EXTENSION / "locales"
BLOCK = EXTENSION / "blocks" / "parley-embed.liquid"
THEME_CHECK = ROOT / "tools" / "theme-check"

LANGUAGES = ("he", "ar", "et", "pl", "ru")
LOADER_BUDGET = 4000  # gzip bytes: every storefront page view pays for the loader
LOCALE_FILE_LIMIT = 15_000  # bytes; Shopify rejects larger locale files in an extension
FORBIDDEN_TAGS = ("javascript", "stylesheet", "include", "layout", "section", "sections")


# --------------------------------------------------------------------------- theme-check


@pytest.fixture(scope="module")
def node() -> str:
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        service_unavailable("npm is not installed, so Shopify's theme-check (a Node package) cannot run")
    if not (THEME_CHECK / "node_modules").is_dir():
        subprocess.run(
            [npm, "ci", "--prefix", str(THEME_CHECK), "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return node


def _theme_check(node: str, directory: Path) -> tuple[int, dict]:
    result = subprocess.run(
        [node, str(THEME_CHECK / "run.mjs"), str(directory)], capture_output=True, text=True, timeout=300
    )
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_theme_check_finds_no_errors_in_the_extension(node):
    status, report = _theme_check(node, EXTENSION)
    errors = [offense for offense in report["offenses"] if offense["severity"] == "error"]
    assert errors == [], json.dumps(errors, indent=2)
    assert status == 0
    assert report["config"] == "theme-check:theme-app-extension"
    assert {"AssetSizeAppBlockJavaScript", "AssetSizeAppBlockCSS", "AppBlockValidTags", "AppBlockMissingSchema"} <= set(
        report["checks"]
    )


def test_theme_check_fails_an_extension_with_a_forbidden_tag_and_a_missing_translation(node, tmp_path):
    broken = tmp_path / "parley-chat"
    shutil.copytree(EXTENSION, broken)
    block = broken / "blocks" / "parley-embed.liquid"
    block.write_text(block.read_text().replace("></div>", "></div>{% javascript %}1{% endjavascript %}", 1))
    (broken / "locales" / "pl.json").write_text('{"parley": {}}')

    status, report = _theme_check(node, broken)

    failed = {offense["check"] for offense in report["offenses"] if offense["severity"] == "error"}
    assert status == 1
    assert {"AppBlockValidTags", "MatchingTranslations"} <= failed


# --------------------------------------------------------------------------- budget


def test_loader_stays_within_4000_gzip_bytes():
    source = (ASSETS / "parley-loader.js").read_bytes()
    for level in (9, 6):  # gzip -9 and plain gzip
        assert len(gzip.compress(source, compresslevel=level)) <= LOADER_BUDGET
    gzip_tool = shutil.which("gzip")
    if gzip_tool:
        for args in ([gzip_tool, "-9", "-c"], [gzip_tool, "-c"]):
            assert len(subprocess.run(args, input=source, capture_output=True, check=True).stdout) <= LOADER_BUDGET
    # theme-check's AssetSizeAppBlockJavaScript compares the file's size on disk to 10,000.
    assert len(source) < 10_000


def _keys(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        if isinstance(value, dict):
            keys |= _keys(value, f"{prefix}{key}.")
        else:
            keys.add(prefix + key)
    return keys


def _locale(name: str) -> dict:
    return json.loads((LOCALES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", ["", ".schema"])
def test_every_language_has_exactly_the_default_keys(kind):
    default = _keys(_locale(f"en.default{kind}.json"))
    assert default
    for language in LANGUAGES:
        assert _keys(_locale(f"{language}{kind}.json")) == default, language


def test_locale_files_fit_shopify_limit():
    files = sorted(LOCALES.glob("*.json"))
    assert len(files) == 2 * (1 + len(LANGUAGES))
    for path in files:
        assert path.stat().st_size <= LOCALE_FILE_LIMIT, path.name


def test_translations_are_real_and_keep_their_placeholders():
    english = _locale("en.default.json")["parley"]
    for language in LANGUAGES:
        strings = _locale(f"{language}.json")["parley"]
        assert "{{ minutes }}" in strings["replies_in"], language
        assert "{{ time }}" in strings["back_at"], language
        same = [key for key in english if strings[key] == english[key]]
        assert same == [], f"{language} keeps English for {same}"


# --------------------------------------------------------------------------- the block


def _block_source() -> str:
    return BLOCK.read_text(encoding="utf-8")


def _schema() -> dict:
    match = re.search(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", _block_source(), re.S)
    assert match
    return json.loads(match.group(1))


def test_block_uses_none_of_the_tags_app_blocks_forbid():
    source = _block_source()
    for tag in FORBIDDEN_TAGS:
        assert not re.search(r"{%-?\s*" + tag + r"\b", source), tag


def test_block_is_a_body_app_embed_with_its_settings():
    schema = _schema()
    assert schema["target"] == "body"
    # Shopify would put a schema stylesheet or script in <head>, where the one blocks the
    # first paint and the other competes with the page for the network: the block fetches
    # the loader after the page's load, and the loader fetches parley.css with the panel.
    assert "stylesheet" not in schema and "javascript" not in schema
    settings = {setting["id"]: setting for setting in schema["settings"]}
    assert (settings["accent"]["type"], settings["accent"]["default"]) == ("color", "#008060")
    assert (settings["position"]["type"], settings["position"]["default"]) == ("select", "right")
    assert [option["value"] for option in settings["position"]["options"]] == ["left", "right"]
    assert (settings["hide_on_mobile"]["type"], settings["hide_on_mobile"]["default"]) == ("checkbox", False)
    labels = [schema["name"]] + [setting["label"] for setting in schema["settings"]]
    assert all(label.startswith("t:") for label in labels)


def test_block_renders_no_customer_identity():
    markup = re.sub(r"{%-?\s*comment\s*-?%}.*?{%-?\s*endcomment\s*-?%}", "", _block_source(), flags=re.S)
    assert "customer" not in markup


def render_block(root_url="/", language="en", escape_translations=True, strings=None, **settings) -> str:
    """Renders the embed as Shopify would, with a `t` filter reading our locale files.

    Shopify HTML-escapes translations whose key does not end in _html; escape_translations
    toggles that, since the block must produce the same attributes either way.
    """
    from liquid import Environment

    default = _locale("en.default.json")
    chosen = default if language == "en" else _locale(f"{language}.json")
    if strings:
        chosen = {"parley": {**chosen["parley"], **strings}}

    def translate(key, **variables):
        group, name = key.split(".")
        text = chosen[group].get(name) or default[group][name]
        for variable, value in variables.items():
            text = re.sub(r"{{\s*" + variable + r"\s*}}", str(value), text)
        return html.escape(text) if escape_translations else text

    environment = Environment()
    environment.filters["t"] = translate
    environment.filters["asset_url"] = lambda name: f"/cdn/assets/{name}"  # Shopify: the extension's CDN folder
    environment.filters["json"] = json.dumps
    source = re.sub(r"{%-?\s*schema\s*-?%}.*?{%-?\s*endschema\s*-?%}", "", _block_source(), flags=re.S)
    block_settings = {"accent": "#008060", "position": "right", "hide_on_mobile": False, **settings}
    return environment.from_string(source).render(
        routes={"root_url": root_url},
        shop={"permanent_domain": "fjord-gear.myshopify.com"},
        request={"locale": {"iso_code": language}},
        block={"settings": block_settings},
    )


class _RootAttributes(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.attributes = None

    def handle_starttag(self, tag, attrs):
        if dict(attrs).get("id") == "parley-root":
            self.attributes = dict(attrs)


def root_attributes(markup: str) -> dict:
    parser = _RootAttributes()
    parser.feed(markup)
    assert parser.attributes is not None
    return parser.attributes


@pytest.mark.parametrize(
    ("root_url", "proxy", "cart_root"),
    [("/", "/apps/parley", "/"), ("/fr", "/fr/apps/parley", "/fr/"), ("/en-ca", "/en-ca/apps/parley", "/en-ca/")],
)
def test_block_builds_the_proxy_path_under_the_locale_root(root_url, proxy, cart_root):
    attributes = root_attributes(render_block(root_url=root_url))
    assert attributes["data-proxy"] == proxy
    assert attributes["data-root"] == cart_root


def test_block_passes_settings_and_every_storefront_string():
    attributes = root_attributes(render_block(language="he", position="left", hide_on_mobile=True, accent="#112233"))
    assert attributes["data-shop"] == "fjord-gear.myshopify.com"
    assert attributes["data-locale"] == "he"
    assert (attributes["data-accent"], attributes["data-position"], attributes["data-hide-mobile"]) == (
        "#112233",
        "left",
        "true",
    )
    hebrew = _locale("he.json")["parley"]
    for key, text in hebrew.items():
        expected = (
            text.replace("{{ minutes }}", "{minutes}")
            .replace("{{ time }}", "{time}")
            .replace("{{ code }}", "{code}")
            .replace("{{ total }}", "{total}")
        )
        assert attributes["data-t-" + key.replace("_", "-")] == expected, key


@pytest.mark.parametrize("escape_translations", [True, False])
def test_block_attributes_survive_quotes_in_a_merchant_edited_translation(escape_translations):
    tricky = 'Say "hi" & we\'ll <answer>'
    markup = render_block(escape_translations=escape_translations, strings={"greeting": tricky})
    assert root_attributes(markup)["data-t-greeting"] == tricky


# --------------------------------------------------------------------------- the widget in Chromium


class FakeParley:
    """A stand-in for Parley's storefront API and for the Shopify storefront around it.

    Two origins, like production: the storefront (pages, theme assets, cart.js, and the
    app proxy path /apps/parley/session) and the app (api_base, with CORS for the
    storefront). It keeps only what the widget's behaviour can be checked against.
    """

    def __init__(self):
        self.lock = threading.Condition()
        self.tokens: dict[str, str] = {}
        self.conversations: dict[str, str] = {}
        self.messages: list[dict] = []
        self.hints: list[tuple[int, str, str, dict]] = []
        self.calls: list[tuple[str, str, object]] = []
        self.cart = {"token": "c1-cart?key=k", "currency": "EUR", "attributes": {}, "items": []}
        self.cart_updates: list[dict] = []
        self.failures_before_next_post = 0
        self.session_accent: str | None = "#008060"
        self.refuse_session_tokens = False  # /session answers 401 to any visitor token it is sent
        self.refuse_posts = False  # POST /messages answers 401 whatever the token
        self.open_streams = 0
        self.most_streams = 0
        self.session_extra: dict = {}  # more of the session answer (identified, email_on_file)
        self.contacts: list[dict] = []  # addresses the widget gave (POST /contact)
        self.contact_failures = 0  # POST /contact answers 503 this many times first
        self.resume_links: dict[str, str] = {}  # a resume link's token → the visitor it hands over
        self.pages: dict[str, str] = {}
        self.storefront_url = ""
        self.api_url = ""
        self._ids = itertools.count(1)
        self._hint_ids = itertools.count(1)

    # -- state the tests drive

    def add_to_cart(self, variant_id: int, title: str, price: int):
        self.cart["items"].append(
            {
                "variant_id": variant_id,
                "product_id": variant_id + 1000,
                "title": title,
                "quantity": 1,
                "price": price,
                "line_price": price,
                "url": f"/products/{variant_id}",
                "sku": "X",
                "vendor": "V",
            }
        )

    def cart_json(self) -> dict:
        items = self.cart["items"]
        return {
            **self.cart,
            "item_count": sum(i["quantity"] for i in items),
            "total_price": sum(i["line_price"] for i in items),
        }

    def _store(self, visitor: str, author: str, body: str, client_id: str | None = None) -> dict:
        conversation = self.conversations.setdefault(visitor, "conv-" + uuid.uuid4().hex[:8])
        message = {
            "id": next(self._ids),
            "client_id": client_id or str(uuid.uuid4()),
            "conversation_id": conversation,
            "author": author,
            "body": body,
            "created_at": datetime.now(UTC).isoformat(),
            "read_at": None,
            "_visitor": visitor,
        }
        self.messages.append(message)
        self.lock.notify_all()
        return message

    def agent_says(self, body: str) -> dict:
        with self.lock:
            visitor = next(iter(self.conversations))
            return self._store(visitor, "agent", body)

    def agent_reads(self):
        with self.lock:
            visitor = next(iter(self.conversations))
            up_to = max(m["id"] for m in self.messages if m["_visitor"] == visitor)
            self.hints.append((next(self._hint_ids), visitor, "read", {"up_to": up_to, "by": "agent"}))
            self.lock.notify_all()

    def stored(self, author="shopper") -> list[dict]:
        with self.lock:
            return [m for m in self.messages if m["author"] == author]

    def calls_to(self, method: str, path: str) -> list:
        with self.lock:
            return [body for (m, p, body) in self.calls if m == method and p.endswith(path)]

    # -- the two web apps

    def storefront_app(self):
        from flask import Flask, Response, jsonify, request, send_from_directory

        app = Flask("storefront")

        @app.get("/page/<name>")
        def page(name):
            return Response(self.pages[name], mimetype="text/html")

        @app.get("/cdn/assets/<path:name>")
        def asset(name):
            return send_from_directory(ASSETS, name, max_age=0)

        @app.get("/cart.js")
        @app.get("/<prefix>/cart.js")
        def cart_js(prefix=None):
            with self.lock:
                self.calls.append(("GET", request.path, None))
                return jsonify(self.cart_json())

        @app.post("/cart/update.js")
        @app.post("/<prefix>/cart/update.js")
        def cart_update(prefix=None):
            body = request.get_json()
            with self.lock:
                self.calls.append(("POST", request.path, body))
                self.cart_updates.append(body)
                self.cart["attributes"].update(body.get("attributes", {}))
                return jsonify(self.cart_json())

        @app.post("/apps/parley/session")
        @app.post("/<prefix>/apps/parley/session")
        def session(prefix=None):
            body = request.get_json()
            with self.lock:
                self.calls.append(("POST", request.path, body))
                if self.refuse_session_tokens and body.get("visitor_token"):
                    return jsonify({"error": "invalid_token", "message": "The visitor token is not valid."}), 401
                visitor = self.tokens.get(body.get("visitor_token") or "")
                if visitor is None:
                    visitor = "v-" + uuid.uuid4().hex[:8]
                    self.tokens["tok-" + visitor] = visitor
                conversation = self.conversations.get(visitor)
                return jsonify(
                    {
                        "visitor_token": "tok-" + visitor,
                        "visitor_id": visitor,
                        "api_base": self.api_url + "/api/storefront/v1",
                        "identified": False,
                        "conversation": {"id": conversation, "status": "open"} if conversation else None,
                        "unread": 0,
                        "settings": {
                            "greeting": None,
                            "accent": self.session_accent,
                            "team": {"state": "away", "replies_in_minutes": 5, "back_at": None},
                        },
                        **self.session_extra,
                    }
                )

        return app

    def api_app(self):
        from flask import Flask, Response, jsonify, request

        app = Flask("parley-api")
        prefix = "/api/storefront/v1"

        @app.after_request
        def cors(response):
            response.headers["Access-Control-Allow-Origin"] = self.storefront_url
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, OPTIONS"
            return response

        @app.route(prefix + "/<path:anything>", methods=["OPTIONS"])
        def preflight(anything):
            return Response(status=204)

        def visitor_or_none(token=None):
            token = token or request.headers.get("Authorization", "").removeprefix("Bearer ")
            return self.tokens.get(token)

        def unauthorized():
            return jsonify({"error": "invalid_token", "message": "The visitor token is not valid."}), 401

        def public(message):
            return {k: v for k, v in message.items() if not k.startswith("_")}

        @app.get(prefix + "/messages")
        def messages():
            visitor = visitor_or_none()
            if visitor is None:
                return unauthorized()
            before = request.args.get("before", type=int)
            limit = request.args.get("limit", 50, type=int)
            with self.lock:
                self.calls.append(("GET", request.full_path, None))
                mine = [m for m in self.messages if m["_visitor"] == visitor and (before is None or m["id"] < before)]
                page = mine[-limit:]
                conversation = self.conversations.get(visitor)
                return jsonify(
                    {
                        "conversation": {"id": conversation, "status": "open"} if conversation else None,
                        "messages": [public(m) for m in page],
                        "has_more": len(mine) > len(page),
                    }
                )

        @app.post(prefix + "/messages")
        def post_message():
            visitor = visitor_or_none()
            body = request.get_json()
            with self.lock:
                self.calls.append(("POST", request.path, body))
            if visitor is None or self.refuse_posts:
                return unauthorized()
            with self.lock:
                if self.failures_before_next_post:
                    self.failures_before_next_post -= 1
                    return jsonify({"error": "unavailable", "message": "Try again."}), 503
                for message in self.messages:
                    if message["_visitor"] == visitor and message["client_id"] == body["client_id"]:
                        return jsonify(
                            {"message": public(message), "conversation": {"id": message["conversation_id"]}}
                        ), 200
                message = self._store(visitor, "shopper", body["body"], body["client_id"])
                return jsonify(
                    {"message": public(message), "conversation": {"id": message["conversation_id"], "status": "open"}}
                ), 201

        @app.post(prefix + "/contact")
        def contact():
            visitor = visitor_or_none()
            if visitor is None:
                return unauthorized()
            body = request.get_json()
            with self.lock:
                self.calls.append(("POST", request.path, body))
                if self.contact_failures:
                    self.contact_failures -= 1
                    return jsonify({"error": "unavailable", "message": "Try again."}), 503
                self.contacts.append({**body, "visitor": visitor})
            return jsonify({"contact_email": body["email"].strip()})

        @app.post(prefix + "/resume")
        def resume():
            if visitor_or_none() is None:
                return unauthorized()
            body = request.get_json()
            with self.lock:
                self.calls.append(("POST", request.path, body))
                visitor = self.resume_links.get(body.get("token"))
                if visitor is None:
                    return jsonify({"error": "unknown_link", "message": "not sent by this shop"}), 404
                return jsonify({"visitor_token": "tok-" + visitor, "conversation_id": self.conversations[visitor]})

        @app.put(prefix + "/cart")
        @app.post(prefix + "/typing")
        @app.post(prefix + "/read")
        def hints():
            if visitor_or_none() is None:
                return unauthorized()
            with self.lock:
                self.calls.append((request.method, request.path, request.get_json()))
            return Response(status=204)

        @app.get(prefix + "/stream")
        def stream():
            visitor = visitor_or_none(request.args.get("token"))
            if visitor is None:
                return unauthorized()
            last = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
            with self.lock:
                sent = int(last) if last else max((m["id"] for m in self.messages), default=0)
                hint_seen = max((h[0] for h in self.hints), default=0)

            def events():
                nonlocal sent, hint_seen
                with self.lock:
                    self.open_streams += 1
                    self.most_streams = max(self.most_streams, self.open_streams)
                try:
                    yield "retry: 1000\n\n"
                    while True:
                        with self.lock:
                            self.lock.wait(timeout=0.3)
                            fresh = [m for m in self.messages if m["_visitor"] == visitor and m["id"] > sent]
                            hints = [h for h in self.hints if h[1] == visitor and h[0] > hint_seen]
                        for message in fresh:
                            sent = message["id"]
                            yield f"id: {sent}\nevent: message\ndata: {json.dumps(public(message))}\n\n"
                        for hint in hints:
                            hint_seen = hint[0]
                            yield f"event: {hint[2]}\ndata: {json.dumps(hint[3])}\n\n"
                        yield ": ping\n\n"
                finally:
                    with self.lock:
                        self.open_streams -= 1

            return Response(events(), mimetype="text/event-stream", headers={"Cache-Control": "no-store"})

        return app


PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Fjord Gear</title>
<link rel="icon" href="data:,">{head}</head>
<body><main><h1>Fjord Gear</h1><p>Wool socks, warm hats.</p><a href="#top">A link on the page</a></main>
{block}
</body></html>"""


def add_page(fake: FakeParley, name: str, language="en", root_url="/", head="", early=False, **settings):
    page = PAGE.format(lang=language, head=head, block=render_block(root_url, language, **settings))
    if early:  # a theme's own loader tag in <head> (an old install), running before the block exists
        page = page.replace("</head>", '<script src="/cdn/assets/parley-loader.js?v=17"></script></head>')
    fake.pages[name] = page
    return f"{fake.storefront_url}/page/{name}"


@pytest.fixture(scope="module")
def chromium():
    with launch_chromium(timeout_ms=15_000) as browser:
        yield browser


@pytest.fixture
def fake():
    from werkzeug.serving import make_server

    fake = FakeParley()
    servers = [
        make_server("127.0.0.1", 0, fake.storefront_app(), threaded=True),
        make_server("127.0.0.1", 0, fake.api_app(), threaded=True),
    ]
    fake.storefront_url = f"http://127.0.0.1:{servers[0].server_port}"
    # "localhost" makes the API a different origin from the storefront, as in production.
    fake.api_url = f"http://localhost:{servers[1].server_port}"
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    yield fake
    for server in servers:
        server.shutdown()


@pytest.fixture
def context(chromium):
    context = chromium.new_context()
    context.set_default_timeout(10_000)
    yield context
    context.close()


def wait_for(condition, timeout=10.0, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {message}")


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def storage(page) -> dict:
    return page.evaluate("() => ({local: {...localStorage}, session: {...sessionStorage}, cookie: document.cookie})")


def send(page, text: str):
    page.fill("#parley-input", text)
    page.press("#parley-input", "Enter")


def test_a_page_view_draws_only_the_launcher_and_stores_nothing(fake, context):
    url = add_page(fake, "home")
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url.removeprefix(fake.storefront_url)))

    page.goto(url)
    launcher = page.locator("#parley-root .parley-launcher")
    launcher.wait_for()
    page.wait_for_timeout(500)

    assert sorted(requests) == ["/cdn/assets/parley-loader.js", "/page/home"]
    assert fake.calls == []
    assert storage(page) == {"local": {}, "session": {}, "cookie": ""}
    assert launcher.evaluate("b => b.tagName") == "BUTTON"
    assert launcher.get_attribute("aria-label") == "Chat with us"
    assert launcher.get_attribute("aria-expanded") == "false"
    assert launcher.evaluate("b => getComputedStyle(b).position") == "fixed"
    assert page.evaluate("() => getComputedStyle(document.querySelector('.parley-launcher')).backgroundColor") == (
        "rgb(0, 128, 96)"
    )


def test_loader_waits_for_the_block_when_it_runs_first(fake, context):
    page = context.new_page()
    page.goto(add_page(fake, "early", early=True))
    page.locator("#parley-root .parley-launcher").wait_for()
    page.wait_for_timeout(300)  # the block's own copy of the loader has run by now, and drew nothing
    assert page.locator(".parley-launcher").count() == 1


def test_the_block_fetches_the_loader_only_after_the_page_has_loaded(fake, context):
    page = context.new_page()
    # Record, when the loader is requested, whether the page's load event had fired.
    page.add_init_script(
        """window.__loaded = false;
           addEventListener('load', () => { window.__loaded = true; });
           new PerformanceObserver((list) => {
             for (const entry of list.getEntries())
               if (entry.name.includes('parley-loader')) window.__loaderAfterLoad = window.__loaded;
           }).observe({type: 'resource'});"""
    )

    # The page's own big picture arrives slowly; the loader must not compete with it.
    def slow_picture(route) -> None:
        time.sleep(0.8)
        route.fulfill(body="<svg xmlns='http://www.w3.org/2000/svg'/>", content_type="image/svg+xml")

    page.route("**/picture.svg", slow_picture)
    url = add_page(fake, "picture")
    fake.pages["picture"] = fake.pages["picture"].replace("<main>", '<main><img src="/picture.svg" alt="">')
    page.goto(url)
    page.locator("#parley-root .parley-launcher").wait_for()
    assert page.evaluate("window.__loaderAfterLoad") is True
    assert page.evaluate("document.querySelectorAll('head script[src*=parley]').length") == 0


def test_phones_get_a_full_screen_panel_and_16px_input_or_no_launcher(fake, chromium):
    # Reduced motion also stops the opening slide, so the box can be measured at once.
    phone = chromium.new_context(viewport={"width": 375, "height": 700}, has_touch=True, reduced_motion="reduce")
    try:
        page = phone.new_page()
        page.goto(add_page(fake, "phone"))
        page.click("#parley-root .parley-launcher")
        panel = page.locator("#parley-panel")
        panel.wait_for()
        assert {k: round(v) for k, v in panel.bounding_box().items()} == {"x": 0, "y": 0, "width": 375, "height": 700}
        assert panel.evaluate("el => getComputedStyle(el).animationName") == "none"
        assert page.locator("#parley-input").evaluate("el => getComputedStyle(el).fontSize") == "16px"

        hidden = phone.new_page()
        hidden.goto(add_page(fake, "phone-hidden", hide_on_mobile=True))
        hidden.wait_for_function("() => document.querySelector('#parley-root .parley-launcher')")
        assert hidden.locator("#parley-root .parley-launcher").is_hidden()
    finally:
        phone.close()


def test_hovering_fetches_the_panel_from_the_loaders_folder_without_a_session(fake, context):
    page = context.new_page()
    page.goto(add_page(fake, "home"))
    with page.expect_request("**/cdn/assets/parley-panel.js"):
        page.hover("#parley-root .parley-launcher")
    page.wait_for_timeout(300)
    assert fake.calls == []
    assert storage(page)["session"] == {} and storage(page)["local"] == {}


def test_first_message_is_stored_once_despite_a_retry_and_tags_the_cart(fake, context):
    fake.add_to_cart(7, "Wool socks", 1290)
    fake.failures_before_next_post = 1
    page = context.new_page()
    page.goto(add_page(fake, "home"))

    page.click("#parley-root .parley-launcher")
    panel = page.locator("#parley-panel")
    panel.wait_for()
    assert page.evaluate("() => document.activeElement.id") == "parley-input"
    wait_for(lambda: fake.calls_to("POST", "/apps/parley/session"), message="the session")
    expect(page.locator(".parley-status")).to_have_text("Usually replies in 5 min")
    expect(page.locator(".parley-greeting")).to_have_text("Hi! How can we help?")

    # Shift+Enter breaks the line; Enter sends.
    page.fill("#parley-input", '<img src=x onerror="window.pwned=1">Do you ship')
    page.press("#parley-input", "Shift+Enter")
    page.keyboard.type("to Tallinn?")
    assert fake.calls_to("POST", "/messages") == []
    page.press("#parley-input", "Enter")

    wait_for(lambda: fake.stored(), message="the message to be stored")
    page.locator(".parley-from-shopper .parley-tick").wait_for()
    attempts = fake.calls_to("POST", "/messages")
    assert len(attempts) == 2 and attempts[0]["client_id"] == attempts[1]["client_id"]
    assert len(fake.stored()) == 1
    text = '<img src=x onerror="window.pwned=1">Do you ship\nto Tallinn?'
    assert fake.stored()[0]["body"] == text
    assert page.locator(".parley-from-shopper .parley-bubble").inner_text() == text
    assert page.locator("#parley-panel img").count() == 0
    assert page.evaluate("() => window.pwned") is None

    cart = attempts[-1]["cart"]
    assert cart["token"] == "c1-cart?key=k" and cart["total_price"] == 1290
    assert cart["items"] == [
        {
            "variant_id": 7,
            "product_id": 1007,
            "title": "Wool socks",
            "quantity": 1,
            "price": 1290,
            "line_price": 1290,
            "url": "/products/7",
        }
    ]
    conversation = fake.stored()[0]["conversation_id"]
    wait_for(lambda: fake.cart_updates, message="the cart attribute")
    page.wait_for_timeout(300)
    assert fake.cart_updates == [{"attributes": {"parley_conversation": conversation}}]

    # Written, and this page has no Customer Privacy API: remembered in both stores.
    remembered = storage(page)
    assert json.loads(remembered["session"]["parley:visitor"])["token"].startswith("tok-")
    assert remembered["local"]["parley:visitor"] == remembered["session"]["parley:visitor"]
    assert remembered["cookie"] == ""


def test_replies_stream_in_with_badge_ticks_and_read_marks(fake, context):
    page = context.new_page()
    page.goto(add_page(fake, "home"))
    page.click("#parley-root .parley-launcher")
    send(page, "Hello")
    wait_for(lambda: fake.open_streams == 1, message="the event stream")

    # Tab stays inside the dialog; Escape closes it and returns focus to the launcher.
    for _ in range(6):
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.getElementById('parley-panel').contains(document.activeElement)")
    page.keyboard.press("Escape")
    assert page.locator("#parley-panel").is_hidden()
    assert page.evaluate("() => document.activeElement.className") == "parley-launcher"
    launcher = page.locator("#parley-root .parley-launcher")
    assert launcher.get_attribute("aria-expanded") == "false"

    reply = fake.agent_says("Yes, we ship to Estonia.")
    badge = page.locator(".parley-badge")
    badge.wait_for()
    assert badge.inner_text() == "1"
    assert launcher.get_attribute("aria-label") == "Chat with us (new messages)"

    launcher.click()
    page.get_by_text("Yes, we ship to Estonia.").wait_for()
    wait_for(lambda: {"up_to": reply["id"]} in fake.calls_to("POST", "/read"), message="the read mark")
    assert badge.is_hidden()
    assert page.locator(".parley-log").get_attribute("aria-live") == "polite"

    fake.agent_reads()
    page.wait_for_function("() => document.querySelector('.parley-from-shopper .parley-tick').textContent === '✓✓'")

    # Typing is announced to the shop, throttled.
    page.locator("#parley-input").press_sequentially("Gre", delay=30)
    wait_for(lambda: fake.calls_to("POST", "/typing"), message="typing")
    assert fake.calls_to("POST", "/typing") == [{"typing": True}]


def test_tabs_share_one_stream_and_hand_it_over(fake, context):
    url = add_page(fake, "home")
    first = context.new_page()
    first.goto(url)
    first.click("#parley-root .parley-launcher")
    send(first, "Hi from tab one")
    wait_for(lambda: fake.open_streams == 1, message="the first tab's stream")
    first.keyboard.press("Escape")

    # A second tab of the same shopper: the stored visitor brings the panel back quietly.
    second = context.new_page()
    second.goto(url)
    wait_for(lambda: len(fake.calls_to("POST", "/apps/parley/session")) == 2, message="the second session")
    second.wait_for_timeout(1000)
    assert fake.open_streams == 1 and fake.most_streams == 1

    fake.agent_says("Both tabs hear this")
    for page in (first, second):
        page.wait_for_function("() => document.querySelector('.parley-badge').textContent === '1'")

    first.close()
    fake.agent_says("After the handover")
    second.wait_for_function("() => document.querySelector('.parley-badge').textContent === '2'")
    wait_for(lambda: fake.open_streams == 1, message="one stream after the handover")

    # Reading in one tab clears the badge everywhere.
    second.click("#parley-root .parley-launcher")
    second.wait_for_function("() => document.querySelectorAll('.parley-msg').length === 3")
    assert second.locator(".parley-badge").is_hidden()
    wait_for(lambda: fake.calls_to("POST", "/read"), message="the read mark")


def test_hebrew_storefront_under_a_locale_root_is_right_to_left(fake, context):
    page = context.new_page()
    page.goto(add_page(fake, "he", language="he", root_url="/he", position="left"))
    launcher = page.locator("#parley-root .parley-launcher")
    launcher.wait_for()
    assert page.locator("#parley-root").get_attribute("dir") == "rtl"
    assert launcher.get_attribute("aria-label") == _locale("he.json")["parley"]["launcher"]
    # "left" means the inline start; in right-to-left that is the physical right.
    box = launcher.bounding_box()
    assert box["x"] > page.viewport_size["width"] / 2

    launcher.click()
    assert page.locator("#parley-panel").get_attribute("dir") == "rtl"
    assert page.locator("#parley-input").get_attribute("placeholder") == _locale("he.json")["parley"]["placeholder"]
    wait_for(lambda: fake.calls_to("POST", "/he/apps/parley/session"), message="the session through /he/apps/parley")
    assert fake.calls_to("POST", "/he/apps/parley/session")[0]["locale"] == "he"
    expect(page.locator(".parley-status")).to_have_text("בדרך כלל עונים תוך 5 דק'")
    send(page, "שלום")
    wait_for(lambda: fake.calls_to("GET", "/he/cart.js"), message="cart.js under the locale root")


CONSENT_API = """<script>
window.Shopify = {
  allowed: false,
  loadFeatures(features, done) {
    window.Shopify.customerPrivacy = { preferencesProcessingAllowed: () => window.Shopify.allowed };
    setTimeout(done, 10);
  },
};
</script>"""


def test_without_preferences_consent_the_visitor_stays_in_the_session(fake, context):
    page = context.new_page()
    page.goto(add_page(fake, "consent", head=CONSENT_API))
    page.click("#parley-root .parley-launcher")
    wait_for(lambda: fake.calls_to("POST", "/apps/parley/session"), message="the session")
    assert storage(page)["session"] == {}  # nothing before the shopper writes

    send(page, "Hello")
    wait_for(lambda: fake.stored(), message="the message")
    page.wait_for_timeout(200)
    remembered = storage(page)
    assert "parley:visitor" in remembered["session"]
    assert remembered["local"] == {}

    page.evaluate(
        "() => { Shopify.allowed = true; document.dispatchEvent(new CustomEvent('visitorConsentCollected',"
        " {detail: {preferencesAllowed: true}})); }"
    )
    page.wait_for_function("() => !!localStorage.getItem('parley:visitor')")
    page.evaluate(
        "() => { Shopify.allowed = false; document.dispatchEvent(new CustomEvent('visitorConsentCollected',"
        " {detail: {preferencesAllowed: false}})); }"
    )
    page.wait_for_function("() => !localStorage.getItem('parley:visitor')")
    assert "parley:visitor" in storage(page)["session"]


# --------------------------------------------------------------------------- the session's facts and a refused token


def test_the_session_names_the_page_without_its_query_and_the_shoppers_time_zone(fake, chromium):
    context = chromium.new_context(timezone_id="Pacific/Auckland")
    try:
        page = context.new_page()
        url = add_page(fake, "jacket")
        page.goto(url + "?email=someone%40example.com&utm_source=mail#reviews")
        page.click("#parley-root .parley-launcher")
        wait_for(lambda: fake.calls_to("POST", "/apps/parley/session"), message="the session")
        [body] = fake.calls_to("POST", "/apps/parley/session")
        # Only the page itself: a query or a fragment can carry personal data.
        assert body["page"] == url
        assert body["timezone"] == "Pacific/Auckland"
        assert body["locale"] == "en"
    finally:
        context.close()


def visitor_in(page) -> dict:
    return json.loads(storage(page)["session"]["parley:visitor"])


def test_a_token_the_server_no_longer_takes_starts_a_new_visitor_and_the_message_is_resent_once(fake, context):
    page = context.new_page()
    page.goto(add_page(fake, "home"))
    page.click("#parley-root .parley-launcher")
    send(page, "Hello from the old visitor")
    wait_for(lambda: fake.stored(), message="the first message")
    page.locator(".parley-from-shopper .parley-tick").wait_for()
    old = visitor_in(page)

    # The server forgets the visitor (merged into another, or erased): its token gets 401.
    # The draft is set without typing events, so the send itself meets the 401 (typing
    # would, through the typing hint, and that path renews the session the same way).
    with fake.lock:
        fake.tokens.clear()
    page.evaluate("() => { document.getElementById('parley-input').value = 'Still there?'; }")
    page.press("#parley-input", "Enter")
    wait_for(lambda: len(fake.stored()) == 2, message="the resent message")
    page.wait_for_function("() => document.querySelectorAll('.parley-from-shopper .parley-tick').length === 1")
    attempts = [body for body in fake.calls_to("POST", "/messages") if body["body"] == "Still there?"]
    assert len(attempts) == 2 and attempts[0]["client_id"] == attempts[1]["client_id"]
    resent = fake.stored()[1]
    assert resent["body"] == "Still there?" and resent["_visitor"] != old["visitor"]
    # The new session was asked with the old token (the server may map it), and the new
    # visitor is the one remembered now.
    sessions = fake.calls_to("POST", "/apps/parley/session")
    assert sessions[-1]["visitor_token"] == old["token"]
    new = visitor_in(page)
    assert new["visitor"] == resent["_visitor"] and new["token"] != old["token"]
    assert json.loads(storage(page)["local"]["parley:visitor"]) == new
    # The old visitor's thread is not the new one's.
    expect(page.locator(".parley-log .parley-bubble")).to_have_text(["Still there?"])


def test_a_session_that_refuses_the_stored_token_starts_over_without_it(fake, context):
    page = context.new_page()
    url = add_page(fake, "home")
    page.goto(url)
    page.click("#parley-root .parley-launcher")
    send(page, "First visit")
    wait_for(lambda: fake.stored(), message="the first message")
    old = visitor_in(page)

    fake.refuse_session_tokens = True
    page.reload()
    expect(page.locator("#parley-panel")).to_be_visible()  # left open: it opens again by itself
    wait_for(
        lambda: [b for b in fake.calls_to("POST", "/apps/parley/session") if not b.get("visitor_token")][1:],
        message="a session without the refused token",
    )
    expect(page.locator(".parley-alert")).to_be_hidden()
    send(page, "Second visit")
    wait_for(lambda: len(fake.stored()) == 2, message="the second message")
    assert fake.stored()[1]["_visitor"] != old["visitor"]
    assert visitor_in(page)["visitor"] == fake.stored()[1]["_visitor"]


def test_a_message_refused_again_after_a_new_session_fails_visibly_instead_of_looping(fake, context):
    page = context.new_page()
    page.goto(add_page(fake, "home"))
    page.click("#parley-root .parley-launcher")
    wait_for(lambda: fake.calls_to("POST", "/apps/parley/session"), message="the session")
    fake.refuse_posts = True
    send(page, "Will this go?")
    failed = page.locator(".parley-log .parley-state-failed")
    expect(failed).to_contain_text("Message not sent.")
    page.wait_for_timeout(1500)
    assert len(fake.calls_to("POST", "/messages")) == 2  # the first try and one resend
    assert page.locator("#parley-input").input_value() == ""
    expect(failed.locator("button")).to_have_text("Try again")


# --------------------------------------------------------------------------- styles and first paint


def test_the_launcher_is_styled_the_moment_it_appears_and_no_stylesheet_blocks_the_page(fake, context):
    page = context.new_page()
    # Record the launcher's computed style in the same task that inserts it: if it ever
    # appeared unstyled, even for one frame, this would see it.
    page.add_init_script(
        """new MutationObserver((records, observer) => {
             const button = document.querySelector('#parley-root .parley-launcher');
             if (!button) return;
             const style = getComputedStyle(button);
             window.__firstLook = {position: style.position, width: style.width, radius: style.borderRadius,
                                   background: style.backgroundColor};
             observer.disconnect();
           }).observe(document, {childList: true, subtree: true});"""
    )
    page.goto(add_page(fake, "home", accent="#123456"))
    page.locator("#parley-root .parley-launcher").wait_for()
    assert page.evaluate("window.__firstLook") == {
        "position": "fixed",
        "width": "56px",
        "radius": "50%",
        "background": "rgb(18, 52, 86)",
    }
    assert page.evaluate("[...document.querySelectorAll('link[rel=stylesheet]')].length") == 0
    blocking = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.renderBlockingStatus === 'blocking').map(e => e.name)"
    )
    assert blocking == []

    # The panel's stylesheet comes with the panel, added by script: never render-blocking,
    # and the panel shows only once it is in.
    with page.expect_request("**/cdn/assets/parley.css"):
        page.click("#parley-root .parley-launcher")
    page.locator("#parley-panel").wait_for()
    assert page.locator("#parley-panel").evaluate("el => getComputedStyle(el).position") == "fixed"
    css = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.name.endsWith('parley.css'))"
        ".map(e => e.renderBlockingStatus)"
    )
    assert css == ["non-blocking"]


def test_without_a_colour_from_settings_or_the_embed_the_widget_keeps_its_own(fake, context):
    fake.session_accent = None
    page = context.new_page()
    page.goto(add_page(fake, "plain", accent=""))
    launcher = page.locator("#parley-root .parley-launcher")
    launcher.click()
    page.locator("#parley-panel").wait_for()
    wait_for(lambda: fake.calls_to("POST", "/apps/parley/session"), message="the session")
    expect(page.locator(".parley-status")).to_have_text("Usually replies in 5 min")
    for selector in ("#parley-root .parley-launcher", ".parley-head"):
        assert page.locator(selector).evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(0, 128, 96)"


# --------------------------------------------------------------------------- the answer by e-mail


def _english() -> dict:
    return _locale("en.default.json")["parley"]


@pytest.mark.parametrize("known", [{"email_on_file": True}, {"identified": True}])
def test_no_offer_to_a_shopper_whose_address_the_shop_has(fake, context, known):
    fake.session_extra = known
    page = context.new_page()
    page.goto(add_page(fake, "home"))
    page.click("#parley-root .parley-launcher")
    send(page, "Do you ship to Tallinn?")
    page.locator(".parley-from-shopper .parley-tick").wait_for()
    page.wait_for_timeout(300)
    assert page.locator(".parley-email").count() == 1  # the widget has the offer, and keeps it hidden
    assert page.locator(".parley-email").is_hidden()
    page.click(".parley-close")
    page.mouse.move(300, -5)  # leaving, too: still nothing
    page.wait_for_timeout(300)
    assert page.locator(".parley-nudge").is_hidden() and page.locator(".parley-email").is_hidden()
    assert fake.calls_to("POST", "/contact") == []


def test_the_team_away_offer_comes_with_the_first_question_and_is_remembered_once_given(fake, context):
    english = _english()
    page = context.new_page()
    page.goto(add_page(fake, "consent", head=CONSENT_API))  # preferences not allowed
    page.click("#parley-root .parley-launcher")
    wait_for(lambda: fake.calls_to("POST", "/apps/parley/session"), message="the session")
    page.wait_for_timeout(300)
    assert page.locator(".parley-email").is_hidden()  # the team is away, but nothing was asked yet
    send(page, "Is the beanie merino?")
    offer = page.locator(".parley-email")
    expect(offer).to_be_visible()
    # In the panel's tab order, and the composer keeps the focus it had.
    assert page.evaluate("() => document.activeElement.id") == "parley-input"

    # The relay of the answer fails: the generic sentence, what was typed kept, no record.
    fake.contact_failures = 1
    page.fill("#parley-email", "kati@example.com")
    page.press("#parley-email", "Enter")
    expect(page.locator(".parley-email-error")).to_have_text(english["email_error"])
    assert page.input_value("#parley-email") == "kati@example.com"
    assert fake.contacts == []

    page.click(".parley-email-send")
    expect(page.locator(".parley-note")).to_have_text(f"{english['email_saved']} kati@example.com")
    assert fake.contacts == [{"email": "kati@example.com", "consent": True, "visitor": fake.stored()[0]["_visitor"]}]
    expect(offer).to_be_hidden()
    remembered = storage(page)
    assert remembered["session"]["parley:email"] == fake.stored()[0]["_visitor"]
    assert "parley:email" not in remembered["local"]  # like the visitor: local only with consent

    # This fake never says email_on_file: the widget's own memory keeps the offer away.
    page.reload()
    expect(page.locator("#parley-panel")).to_be_visible()
    send(page, "And the socks?")
    wait_for(lambda: len(fake.stored()) == 2, message="the second message")
    page.click(".parley-close")
    page.wait_for_timeout(300)
    assert page.locator(".parley-nudge").is_hidden() and page.locator(".parley-email").is_hidden()
    assert len(fake.calls_to("POST", "/contact")) == 2


def test_a_refusal_of_consent_and_an_empty_field_are_said_without_losing_anything(fake, context):
    english = _english()
    page = context.new_page()
    page.goto(add_page(fake, "home"))
    page.click("#parley-root .parley-launcher")
    send(page, "Hi")
    expect(page.locator(".parley-email")).to_be_visible()

    page.click(".parley-email-send")  # nothing typed: no request, the sentence beside the field
    expect(page.locator(".parley-email-error")).to_have_text(english["email_error_invalid"])
    assert fake.calls_to("POST", "/contact") == []

    page.route(
        "**/api/storefront/v1/contact",
        lambda route: route.fulfill(
            status=400,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": fake.storefront_url},
            body=json.dumps({"error": "consent_required", "message": "agree first"}),
        ),
    )
    page.fill("#parley-email", "kati@example.com")
    page.click(".parley-email-send")
    expect(page.locator(".parley-email-error")).to_have_text(english["email_error_consent"])
    assert page.input_value("#parley-email") == "kati@example.com"
    # Answered meanwhile: the offer the shopper is filling in stays until they are done.
    fake.agent_says("Yes, it is.")
    expect(page.locator(".parley-from-agent")).to_have_count(1)
    expect(page.locator(".parley-email")).to_be_visible()


def test_a_resume_link_hands_the_conversation_to_this_device_and_leaves_the_address(fake, context):
    owner = context.new_page()
    owner.goto(add_page(fake, "home"))
    owner.click("#parley-root .parley-launcher")
    send(owner, "Where is my parcel?")
    wait_for(lambda: fake.stored(), message="the message")
    visitor = fake.stored()[0]["_visitor"]
    fake.agent_says("On its way!")
    fake.resume_links["link-1"] = visitor

    other = context.browser.new_context()  # another device: nothing stored, no session yet
    try:
        page = other.new_page()
        page.goto(add_page(fake, "landing") + "?parley_resume=link-1&utm_medium=email#top")
        expect(page.locator("#parley-panel")).to_be_visible()
        expect(page.locator(".parley-bubble")).to_have_text(["Where is my parcel?", "On its way!"])
        assert page.evaluate("() => location.search + location.hash") == "?utm_medium=email#top"
        [claim] = fake.calls_to("POST", "/resume")
        assert claim == {"token": "link-1"}
        # The device holds the thread now: the visitor's token is the widget's own.
        assert json.loads(storage(page)["session"]["parley:visitor"])["visitor"] == visitor
    finally:
        other.close()
