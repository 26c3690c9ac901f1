"""The order look-up limits: shared by every process through a real Redis, counted in
memory while Redis is down (the limit still holds), per visitor and per address, and
keyed by an HMAC so no address is stored in Redis."""

from __future__ import annotations

import os
import secrets
import uuid

import pytest
import redis

from app.answers.attempts import LookupAttempts
from tests.support.services import service_unavailable

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture(scope="module")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis is not reachable at {REDIS_URL} ({exc.__class__.__name__})")
    return REDIS_URL


def test_two_processes_share_one_count_through_redis(redis_url):
    secret = secrets.token_hex(16)
    first, second = LookupAttempts(secret, redis_url), LookupAttempts(secret, redis_url)
    visitor = str(uuid.uuid4())
    address = f"{uuid.uuid4().hex}@example.com"
    allowed = [(first if n % 2 else second).allow(1, visitor, address) for n in range(6)]
    assert allowed == [True] * 5 + [False]
    # No address in Redis: only HMAC'd keys.
    keys = [key.decode() for key in redis.Redis.from_url(redis_url).keys("*parley-order-lookup*")]
    assert keys and not any(address.split("@")[0] in key for key in keys)


def test_the_address_is_limited_across_visitors_and_in_any_case(redis_url):
    attempts = LookupAttempts(secrets.token_hex(16), redis_url)
    address = f"{uuid.uuid4().hex}@Example.com"
    allowed = [attempts.allow(1, str(uuid.uuid4()), address if n % 2 else address.upper()) for n in range(6)]
    assert allowed == [True] * 5 + [False]
    assert attempts.allow(2, str(uuid.uuid4()), address)  # another shop's count is its own


def test_redis_down_still_limits_in_memory():
    attempts = LookupAttempts(secrets.token_hex(16), DEAD_REDIS)
    visitor = str(uuid.uuid4())
    allowed = [attempts.allow(1, visitor, f"guess{n}@example.com") for n in range(6)]
    assert allowed == [True] * 5 + [False]
