"""Live delivery: the event broker (in-process or Redis) that wakes listeners, and the
SSE streams that replay from the database after Last-Event-ID."""
