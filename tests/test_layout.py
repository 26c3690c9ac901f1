"""The house rules hold, and the tool that enforces them would notice if they did not.

The import contracts live in pyproject.toml ([tool.importlinter]) and `make lint` runs
them in CI. Here they run on the real tree (all kept), then on a copy of it with one
deliberate violation per contract (each reported broken), so a contract that could
never fail would fail this test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# (file to add, what it imports, the contract that must then be broken)
VIOLATIONS = [
    (
        "app/chat/leak_flask.py",
        "import flask",
        "The core (chat, commerce, answers, media) imports neither Flask nor a platform",
    ),
    (
        "app/platforms/shopify/leak_saleor.py",
        "from app.platforms.saleor import api",
        "Platforms never import each other",
    ),
    (
        "app/inbound/leak_web.py",
        "from app.web import context",
        "Platforms, inbound events and realtime know nothing of the web layer",
    ),
    (
        "app/web/admin/leak_platform.py",
        "from app.platforms.shopify import adapter",
        "The web layer branches on no platform: only its platform subpackages import one",
    ),
    (
        "app/chat/leak_root.py",
        "from app import wiring",
        "Nothing imports the composition root but the app factory and the CLI",
    ),
    ("app/commerce/leak_standin.py", "import standins.server", "The product never imports the stand-ins"),
    ("app/realtime/leak_cycle.py", "import app.chat.conversations", "No import cycles between the packages of app"),
]


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the dev extras (make test does)")
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
    )


def contract_lines(output: str) -> dict[str, str]:
    return {m.group(1).strip(): m.group(2) for m in re.finditer(r"^(.+?) (KEPT|BROKEN)(?: \(.*\))?$", output, re.M)}


def test_every_import_contract_is_kept_by_the_tree():
    done = lint_imports(ROOT)
    states = contract_lines(done.stdout)
    assert done.returncode == 0, done.stdout[-3000:]
    assert {contract for _, _, contract in VIOLATIONS} <= set(states), states
    assert set(states.values()) == {"KEPT"}


def test_each_contract_is_broken_by_its_violation(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("app", "standins"):
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    for path, line, _ in VIOLATIONS:
        (tree / path).write_text(f'"""A deliberate violation (tests/test_layout.py)."""\n\n{line}\n')

    done = lint_imports(tree)
    states = contract_lines(done.stdout)
    assert done.returncode != 0
    assert {contract: states.get(contract) for _, _, contract in VIOLATIONS} == {
        contract: "BROKEN" for _, _, contract in VIOLATIONS
    }, done.stdout[-4000:]
