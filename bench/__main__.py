"""`make bench`: every benchmark, each reporting ratios against a baseline measured in the same run."""

from __future__ import annotations

import json
import os
import sys

from bench import answers, delivery, inbox, inbox_events, lighthouse, outbox, selling, send_path, webhooks, widget


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
        "send_path": send_path.run(),
        "inbox_events": inbox_events.run(),
        "outbox": outbox.run(),
        "answers": answers.run(),
        "selling": selling.run(),
    }
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
