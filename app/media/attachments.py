"""Pictures in a conversation: stored after cleaning, served only to its two sides."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.clock import Clock
from app.db import Database
from app.errors import ParleyError
from app.media.images import CleanImage, ImageRefused, clean
from app.media.storage import Storage
from app.models import Attachment, Conversation

# What the shopper or merchant reads when a file is refused (the widget translates the code).
REFUSALS = {
    "empty": "the file is empty",
    "too_large": "the picture is larger than 10 MB",
    "too_many_pixels": "the picture has too many pixels (at most 40 million)",
    "not_an_image": "that file is not a picture we can show (JPEG, PNG, WebP or GIF), or it is damaged",
}


@dataclass(frozen=True)
class Stored:
    attachment: Attachment
    image: CleanImage


class Attachments:
    def __init__(self, db: Database, clock: Clock, storage: Storage):
        self.db = db
        self.clock = clock
        self.storage = storage

    def add(self, session: Session, conversation: Conversation, uploaded_by: str, raw: bytes) -> Stored:
        """Clean and keep a picture in the caller's transaction (its message goes in the same one)."""
        try:
            image = clean(raw)
        except ImageRefused as exc:
            raise ParleyError(400, f"image_{exc.code}", REFUSALS[exc.code], field="file") from None
        attachment = Attachment(
            shop_id=conversation.shop_id,
            conversation_id=conversation.id,
            uploaded_by=uploaded_by,
            content_type=image.content_type,
            width=image.width,
            height=image.height,
            size=len(image.data),
            sha256=image.sha256,
            created_at=self.clock(),
        )
        self.storage.put(attachment, image.data)
        session.add(attachment)
        session.flush()
        return Stored(attachment, image)

    def read(
        self, shop_id: int, attachment_id: str, conversation_ids: set[str] | None = None
    ) -> tuple[Attachment, bytes]:
        """The picture and its bytes, if it belongs to this shop (and, for a shopper, to one of
        their conversations); 404 otherwise, whether it exists or not."""
        with self.db.session() as session:
            attachment = session.get(Attachment, attachment_id)
        if (
            attachment is None
            or attachment.shop_id != shop_id
            or (conversation_ids is not None and attachment.conversation_id not in conversation_ids)
        ):
            raise ParleyError(404, "not_found", "no such picture")
        data = self.storage.get(attachment)
        if data is None:
            raise ParleyError(404, "not_found", "no such picture")
        return attachment, data
