"""Private services for the benchmarks: a redis-server of their own on a free port, and a
PostgreSQL database of their own, so a bench run never touches what tests or others use
(pub/sub channels are global across Redis databases; the test suite drops its schema)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

SERVER_URL = os.environ.get("BENCH_POSTGRES_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BENCH_DATABASE = "parley_bench"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """A redis-server of the bench's own on a free port, which it may stop and start again
    (the delivery bench's outage)."""

    def __init__(self, binary: str, workdir: str):
        self.binary, self.workdir = binary, workdir
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def restartable_redis() -> Iterator[PrivateRedis | None]:
    """A PrivateRedis, started; None without a redis-server binary."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with tempfile.TemporaryDirectory() as workdir:
        server = PrivateRedis(binary, workdir)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def private_redis() -> Iterator[str | None]:
    """A fresh redis-server for this run (its URL), or BENCH_REDIS_URL when set; None when
    neither is possible (no redis-server binary)."""
    if os.environ.get("BENCH_REDIS_URL"):
        yield os.environ["BENCH_REDIS_URL"]
        return
    with restartable_redis() as server:
        yield server.url if server is not None else None


def private_postgres_url() -> str | None:
    """BENCH_POSTGRES_URL when set; else a database of the bench's own on the local server,
    created when missing; None when no server answers."""
    if os.environ.get("BENCH_POSTGRES_URL"):
        return os.environ["BENCH_POSTGRES_URL"]
    server = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": BENCH_DATABASE}
            ).first()
            if exists is None:
                conn.execute(sa.text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
    except sa.exc.OperationalError:
        return None
    finally:
        server.dispose()
    return make_url(SERVER_URL).set(database=BENCH_DATABASE).render_as_string(hide_password=False)
