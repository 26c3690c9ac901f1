"""What a processor raises about a stored event."""

from __future__ import annotations


class PermanentError(ValueError):
    """The event cannot be processed, now or later; the reason is kept on the event.
    Any other exception from a processor is retried on a later sweep."""
