"""Selling from the thread (issue 15): how long the agent's product search takes against
a catalogue of 10,000 products in the Shopify stand-in, and the widget bytes a card adds.

Search: the Admin GraphQL call Parley makes for the panel (app/platforms/shopify/products.py,
real HTTP to the stand-in served on loopback, gql and httpx as in production), cold (a new
query each time) and warm (the panel's cache), each as a ratio to its anchor measured in
the same run: the smallest Admin call there is, `shop { currencyCode }`, over the same
transport. The stand-in's search is a linear scan of its catalogue (Shopify's is an
index), so the cold ratio is an upper bound of what the panel adds over a round trip.

Bytes: parley-panel.js and parley.css compressed (gzip -9) with and without the card code,
as a share of the panel and of Shopify's 10,000-byte cap per app-embed script.
"""

from __future__ import annotations

import gzip
import re
import statistics
import time
from pathlib import Path
from typing import Any

from app.platforms.shopify.admin_api import AdminAPI
from app.platforms.shopify.products import RESULTS, SEARCH_QUERY, ShopifyProducts, search_terms
from standins.server import StandinServer
from standins.shopify.standin import ShopifyStandin
from standins.shopify.transport import standin_http

ASSETS = Path(__file__).resolve().parent.parent / "extensions" / "parley-chat" / "assets"
SHOP = "bench-selling.myshopify.com"
PRODUCTS = 10_000
RUNS = 20
WORDS = ("wool", "rain", "linen", "canvas", "merino", "trail", "harbour", "fjord", "enamel", "waxed")
KINDS = ("beanie", "jacket", "mug", "tote", "scarf", "sock", "mitten", "bottle", "cap", "parka")
CARD_JS = re.compile(r"  // -{10,} cards from the agent.*?(?=  // -{10,} cart\n)", re.S)
CARD_CSS = re.compile(r"\n/\* Cards the agent sends.*\Z", re.S)
SCRIPT_CAP = 10_000
RESTORE_RATE = 100.0  # points a second, Shopify's Standard plan (and the stand-in's)


def _gzip(text: str) -> int:
    return len(gzip.compress(text.encode(), compresslevel=9, mtime=0))


def card_bytes() -> dict[str, Any]:
    js = (ASSETS / "parley-panel.js").read_text()
    css = (ASSETS / "parley.css").read_text()
    js_without, css_without = CARD_JS.sub("", js), CARD_CSS.sub("", css)
    assert js_without != js and css_without != css, "the card code's markers moved"
    added_js, added_css = _gzip(js) - _gzip(js_without), _gzip(css) - _gzip(css_without)
    return {
        "panel_js_gzip": _gzip(js),
        "card_js_gzip_added": added_js,
        "card_css_gzip_added": added_css,
        "card_js_share_of_panel": round(added_js / _gzip(js), 3),
        "card_js_share_of_script_cap": round(added_js / SCRIPT_CAP, 3),
        "note": "loaded only with the panel, on the first open; a page view downloads none of it",
    }


def _catalogue(standin: ShopifyStandin) -> None:
    for n in range(PRODUCTS):
        word, kind = WORDS[n % len(WORDS)], KINDS[(n // len(WORDS)) % len(KINDS)]
        standin.add_product(
            SHOP,
            10_000 + n,
            f"{word}-{kind}-{n}",
            f"{word.title()} {kind.title()} {n}",
            [{"id": 1_000_000 + n, "sku": f"{kind[:3].upper()}-{n:05d}", "price": "19.90", "inventory": n % 7}],
        )


def _token(standin: ShopifyStandin, url: str) -> str:
    with standin_http(url).client() as http:
        answer = http.post(
            f"https://{SHOP}/admin/oauth/access_token",
            json={
                "client_id": standin.api_key,
                "client_secret": standin.api_secret,
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token": standin.mint_id_token(SHOP),
                "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
            },
        )
    return str(answer.json()["access_token"])


def _p50_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def search_latency() -> dict[str, Any]:
    standin = ShopifyStandin("bench-key", "bench-secret")
    standin.add_shop(SHOP)
    _catalogue(standin)
    with StandinServer(standin) as server:
        url = server.url
        api = AdminAPI(SHOP, _token(standin, url), "2026-10", standin_http(url))
        products = ShopifyProducts(lambda shop: api)
        cost = api.execute(SEARCH_QUERY, {"query": search_terms("wool"), "first": RESULTS}).cost.get(
            "requestedQueryCost"
        )
        anchor, cold, warm, found, notices = [], [], [], [], []
        for run in range(RUNS):
            # Shopify's bucket refills at 100 points a second and a search costs more than
            # that: the runs are spaced so the bucket refills (a person types between
            # searches), and none is throttled; throttled_runs says if one was.
            time.sleep(cost / RESTORE_RATE + 0.2)
            started = time.perf_counter()
            api.execute("query { shop { currencyCode } }")
            anchor.append(time.perf_counter() - started)
            query = f"{WORDS[run % len(WORDS)]} {KINDS[run % len(KINDS)]} {run}"
            started = time.perf_counter()
            answer = products.search(SHOP, query)
            cold.append(time.perf_counter() - started)
            found.append(len(answer["products"]))
            if answer["notice"]:
                notices.append(answer["notice"])
            started = time.perf_counter()
            products.search(SHOP, query)
            warm.append(time.perf_counter() - started)
    return {
        "catalogue": PRODUCTS,
        "runs": RUNS,
        "anchor_shop_query_p50_ms": _p50_ms(anchor),
        "search_cold_p50_ms": _p50_ms(cold),
        "search_warm_p50_ms": _p50_ms(warm),
        "search_cold_ratio": round(statistics.median(cold) / statistics.median(anchor), 2),
        "search_warm_ratio": round(statistics.median(warm) / statistics.median(anchor), 4),
        "results_per_search_p50": statistics.median(found),
        "search_query_cost": cost,
        "throttled_runs": len(notices),
    }


def run() -> dict[str, Any]:
    return {
        "what": "the agent's product search and the widget bytes a card adds",
        "bytes": card_bytes(),
        "search": search_latency(),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
