"""What the Parley app embed costs a storefront page, measured by Lighthouse.

The demo product page of the Shopify stand-in (the real app embed block, the real widget
files, compressed as Shopify's CDN and edge do), loaded by Lighthouse (tools/lighthouse,
pinned by its package-lock.json) in Debian's Chromium, offline: never a downloaded
browser, never the internet. Runs alternate, with the embed switched on and off,
RUNS times each; each figure is the median of its runs, and the differences are
with minus without, so the machine's speed cancels out.

Goals (issue 11): score difference 0, LCP difference at most 50 ms, and at most
4,000 compressed bytes added to a page view.

    .venv/bin/python -m bench.lighthouse      # this benchmark alone
    BENCH_LIGHTHOUSE_RUNS=5 make bench        # more runs per side (default 3)
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
PRODUCT = "rain-jacket"  # the demo storefront's product page
RUNS = int(os.environ.get("BENCH_LIGHTHOUSE_RUNS", "3"))
MEDIANS = ("score", "lcp_ms", "fcp_ms", "speed_index_ms", "tbt_ms", "cls", "total_bytes", "document_bytes")
GOALS = {"score_difference": 0, "lcp_difference_ms": 50, "page_view_bytes": 4000}
CHROME_FLAGS = " ".join(
    [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
)


def _missing() -> str | None:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is missing (apt-get install chromium); Lighthouse never downloads a browser here"
    if not shutil.which("node") or not shutil.which("npm"):
        return "node and npm are needed for Lighthouse (apt-get install nodejs npm)"
    if not (TOOL / "node_modules" / "lighthouse").is_dir():
        subprocess.run(
            ["npm", "ci", "--prefix", str(TOOL), "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return None


# ---- the storefront: Parley and the Shopify stand-in on loopback sockets ------------------------


def _serve(app: Any) -> tuple[Callable[[], None], str]:
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop, f"http://127.0.0.1:{server.server_port}"


class _Later:
    """A WSGI app attached after its socket is bound (the stand-in must know Parley's URL first)."""

    app: Any = None

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        return self.app(environ, start_response)


@contextmanager
def storefront(workdir: Path) -> Iterator[tuple[Any, str]]:
    """(the stand-in's storefront, the product page's URL); the demo shop installed in Parley."""
    from cryptography.fernet import Fernet

    from app import create_app
    from app.config import load_settings
    from app.db import make_engine
    from app.migrate import upgrade
    from standins.demo import DEMO_SHOP, demo_settings, install_demo_shop, with_demo_pages
    from standins.server import StandinServer
    from standins.shopify.standin import ShopifyStandin
    from standins.shopify.storefront import enable_storefront
    from standins.shopify.transport import standin_http

    api_key, api_secret = "parley-bench-client-id", "parley-bench-secret-" + secrets.token_hex(8)
    later = _Later()
    stop_parley, parley_url = _serve(later)
    standin = ShopifyStandin(api_key, api_secret)
    standin.add_shop(DEMO_SHOP, name="Parley Demo Store")
    shop_front = enable_storefront(standin, parley_url, deliver_webhooks=False)
    shop_front.compress = True  # as Shopify serves pages and extension assets
    standin_server = StandinServer(standin).start()
    try:
        database_url = f"sqlite:///{workdir / 'parley.db'}"
        upgrade(make_engine(database_url))
        settings = load_settings(
            environ={"PARLEY_ENV": "test"},
            **demo_settings(
                parley_url,
                standin_server.url,
                database_url=database_url,
                shopify_api_key=api_key,
                shopify_api_secret=api_secret,
                secret_key=secrets.token_urlsafe(32),
                token_encryption_key=Fernet.generate_key().decode(),
            ),
        )
        app = with_demo_pages(create_app(settings, shopify_http=standin_http(standin_server.url)), standin)
        status = install_demo_shop(app, standin)
        if status != 200:
            raise RuntimeError(f"installing {DEMO_SHOP} answered HTTP {status}")
        later.app = app
        yield shop_front, f"{standin_server.url}/store/{DEMO_SHOP}/products/{PRODUCT}"
    finally:
        stop_parley()
        standin_server.stop()
        shop_front.close()


# ---- Lighthouse -------------------------------------------------------------------------------


def lighthouse(url: str, workdir: Path) -> dict:
    """One Lighthouse performance run (its default: a mid-range phone, simulated slow 4G)."""
    report = workdir / f"lighthouse-{secrets.token_hex(4)}.json"
    environ = {**os.environ, "CHROME_PATH": CHROMIUM, "HOME": str(workdir)}
    subprocess.run(
        [
            "node",
            str(TOOL / "node_modules" / "lighthouse" / "cli" / "index.js"),
            url,
            "--quiet",
            "--only-categories=performance",
            "--output=json",
            f"--output-path={report}",
            f"--chrome-flags={CHROME_FLAGS}",
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env=environ,
    )
    return json.loads(report.read_text())


def figures(report: dict) -> dict:
    """Score, LCP and bytes of one report, and what of it is Parley's."""
    audits = report["audits"]
    requests = audits["network-requests"]["details"]["items"]
    parley = [r for r in requests if "parley" in r["url"].rsplit("/", 1)[-1]]
    document = next(r for r in requests if r["resourceType"] == "Document")
    blocking = audits["render-blocking-resources"].get("details", {}).get("items", [])
    return {
        "score": round(report["categories"]["performance"]["score"] * 100),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "fcp_ms": round(audits["first-contentful-paint"]["numericValue"]),
        "speed_index_ms": round(audits["speed-index"]["numericValue"]),
        "tbt_ms": round(audits["total-blocking-time"]["numericValue"]),
        "cls": round(audits["cumulative-layout-shift"]["numericValue"], 4),
        "total_bytes": round(audits["total-byte-weight"]["numericValue"]),
        "document_bytes": document["transferSize"],
        "parley_files": {r["url"].rsplit("/", 1)[-1]: r["transferSize"] for r in parley},
        "parley_bytes": sum(r["transferSize"] for r in parley),
        "render_blocking": [item["url"].rsplit("/", 1)[-1] for item in blocking],
    }


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def run(runs: int = RUNS) -> dict:
    missing = _missing()
    if missing:
        return {"skipped": missing}
    with tempfile.TemporaryDirectory(prefix="parley-lighthouse-") as tmp, storefront(Path(tmp)) as (shop_front, url):
        results: dict[str, list[dict]] = {"with_embed": [], "without_embed": []}
        for _ in range(runs):
            for side, enabled in (("with_embed", True), ("without_embed", False)):
                shop_front.embed_enabled = enabled
                results[side].append(figures(lighthouse(url, Path(tmp))))
    medians = {side: {key: _median(found, key) for key in MEDIANS} for side, found in results.items()}
    with_embed, without = medians["with_embed"], medians["without_embed"]
    # What a page view pays for the embed: its files, and the block's markup in the page.
    page_view_bytes = statistics.median(r["parley_bytes"] for r in results["with_embed"]) + (
        with_embed["document_bytes"] - without["document_bytes"]
    )
    differences = {
        "score_difference": with_embed["score"] - without["score"],
        "lcp_difference_ms": with_embed["lcp_ms"] - without["lcp_ms"],
        "fcp_difference_ms": with_embed["fcp_ms"] - without["fcp_ms"],
        "total_bytes_difference": with_embed["total_bytes"] - without["total_bytes"],
        "page_view_bytes": page_view_bytes,
    }
    return {
        "what": f"Lighthouse on the demo product page ({PRODUCT}), {runs} runs with and without the app embed",
        "medians": medians,
        "differences": differences,
        "goals": GOALS,
        "goals_met": {
            "score_difference": differences["score_difference"] >= -GOALS["score_difference"],
            "lcp_difference_ms": differences["lcp_difference_ms"] <= GOALS["lcp_difference_ms"],
            "page_view_bytes": page_view_bytes <= GOALS["page_view_bytes"],
        },
        "parley_files_on_page_view": results["with_embed"][-1]["parley_files"],
        "render_blocking_with_embed": sorted({name for r in results["with_embed"] for name in r["render_blocking"]}),
        "runs": results,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
