"""What a test does when a real service it needs is missing."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def service_unavailable(reason: str) -> None:
    """A real service the suite needs is missing: a failure under CI=true, a skip on a laptop.

    CI provides PostgreSQL, Redis, npm and Chromium, so there a skip would hide a gap.
    """
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: CI must exercise it for real", pytrace=False)
    pytest.skip(f"{reason} (provided under CI, where it is required)")
