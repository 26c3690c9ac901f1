"""`make bench`: every benchmark, each reporting ratios against a baseline measured in the same run."""

from __future__ import annotations

import json
import sys

from bench import delivery, inbox, webhooks, widget


def main() -> int:
    results = {
        "widget": widget.run(),
        "webhooks": webhooks.run(),
        "delivery": delivery.run(),
        "inbox": inbox.run(),
    }
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
