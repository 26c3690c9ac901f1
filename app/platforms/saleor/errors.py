"""A request from Saleor that Parley refuses: the HTTP status to answer, a code and a
sentence. Which status matters to Saleor: it retries 5xx and never a 4xx."""

from __future__ import annotations


class SaleorRequestError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
