"""Where a picture's bytes live: one small interface. The database backend keeps them
in the attachment row, which works for one process and for many without anything else
to run; object storage can stand behind the same interface when a shop's pictures
outgrow the database."""

from __future__ import annotations

from typing import Protocol

from app.models import Attachment


class Storage(Protocol):
    name: str

    def put(self, attachment: Attachment, data: bytes) -> None:
        """Keep the bytes for this (not yet committed) attachment row."""
        ...

    def get(self, attachment: Attachment) -> bytes | None: ...

    def delete(self, attachment: Attachment) -> None: ...


class DatabaseStorage:
    name = "database"

    def put(self, attachment: Attachment, data: bytes) -> None:
        attachment.storage = self.name
        attachment.data = data

    def get(self, attachment: Attachment) -> bytes | None:
        return attachment.data

    def delete(self, attachment: Attachment) -> None:
        attachment.data = None  # the row goes with its conversation
