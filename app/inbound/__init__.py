"""Platform webhooks after their signature held: stored on acknowledgement, then
processed once by a worker (store.py, worker.py). Platform-neutral: each platform
hands in one processor for its events."""
