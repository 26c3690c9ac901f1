"""A request from Saleor that Parley refuses: the HTTP status to answer, a code and a
sentence. Which status matters to Saleor: it retries 5xx and never a 4xx."""

from __future__ import annotations

from app.errors import ParleyError


class SaleorRequestError(ParleyError):
    pass
