"""`make bench`: every benchmark, each reporting ratios against a baseline measured in the same run."""

from __future__ import annotations

import json
import os
import sys

from bench import delivery, inbox, lighthouse, webhooks, widget


def main() -> int:
    results = {
        "widget": widget.run(),
        "lighthouse": lighthouse.run(),
        "webhooks": webhooks.run(),
        **(
            {"webhooks_postgresql": webhooks.run(os.environ["BENCH_POSTGRES_URL"])}
            if os.environ.get("BENCH_POSTGRES_URL")
            else {}
        ),
        "delivery": delivery.run(),
        "inbox": inbox.run(),
    }
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
