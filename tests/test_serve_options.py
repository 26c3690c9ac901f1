"""What `parley serve` asks of gunicorn and of the kernel so one worker holds its streams:
the connections per worker, a listen backlog deep enough for a reconnect storm, and an
open-file limit above what those connections need."""

from __future__ import annotations

import resource
import subprocess
import sys

from app.cli import LISTEN_BACKLOG, STREAMS_PER_WORKER, serve_options


def test_serve_holds_ten_thousand_streams_per_worker_with_a_deep_backlog():
    options = serve_options("127.0.0.1", 8000, 2, {})
    assert options["bind"] == "127.0.0.1:8000" and options["workers"] == 2
    assert options["worker_class"] == "gevent"
    assert options["worker_connections"] == STREAMS_PER_WORKER >= 10_000
    assert options["backlog"] == LISTEN_BACKLOG >= 10_000
    assert options["accesslog"] is None  # no request lines (and their tokens) in the log


def test_the_environment_can_set_streams_per_worker_and_the_backlog():
    options = serve_options("0.0.0.0", 9000, 1, {"STREAMS_PER_WORKER": "20000", "LISTEN_BACKLOG": "4096"})
    assert (options["worker_connections"], options["backlog"]) == (20000, 4096)


def test_the_file_limit_is_raised_to_what_the_streams_need_within_the_hard_limit():
    # In a child process: lower its soft limit first, as a default 1,024 would be.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    code = (
        "import resource\n"
        "from app.cli import raise_file_limit\n"
        "_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))\n"
        "print(raise_file_limit(25000), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    expected = 25000 if hard == resource.RLIM_INFINITY else min(25000, hard)
    assert [int(v) for v in out] == [expected, expected]
