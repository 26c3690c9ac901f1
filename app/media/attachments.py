"""Pictures in a conversation: stored after cleaning, served only to its two sides.

A picture travels as a message of its conversation: the message's meta names the
attachment (`{"attachment": {...}}`), and the attachment row is stored in the same
transaction as the message, so a thread never shows a picture that is not there and
a refused file stores nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session

from app.clock import Clock
from app.db import Database
from app.errors import ParleyError
from app.media.images import MAX_BYTES, MAX_PIXELS, CleanImage, ImageRefused, clean
from app.media.storage import Storage
from app.models import Attachment, Conversation, Message

T = TypeVar("T")

# The text a picture message carries where only text goes (the inbox preview, an alert or
# reply e-mail, a data export); the thread shows the picture instead.
PICTURE_BODY = "📷"

_MB = MAX_BYTES // (1024 * 1024)
_MEGAPIXELS = MAX_PIXELS // 1_000_000

# Why a file is refused, in the widget's six languages: the shopper reads it in the
# widget, the merchant on the Support page (the widget also has its own strings per code).
REFUSALS: dict[str, dict[str, str]] = {
    "empty": {
        "en": "The file is empty.",
        "et": "Fail on tühi.",
        "pl": "Plik jest pusty.",
        "ru": "Файл пустой.",
        "he": "הקובץ ריק.",
        "ar": "الملف فارغ.",
    },
    "too_large": {
        "en": f"The picture is larger than {_MB} MB.",
        "et": f"Pilt on suurem kui {_MB} MB.",
        "pl": f"Zdjęcie jest większe niż {_MB} MB.",
        "ru": f"Изображение больше {_MB} МБ.",
        "he": f"התמונה גדולה מ־{_MB} MB.",
        "ar": f"الصورة أكبر من {_MB} ميغابايت.",
    },
    "too_many_pixels": {
        "en": f"The picture has too many pixels (at most {_MEGAPIXELS} million).",
        "et": f"Pildil on liiga palju piksleid (kuni {_MEGAPIXELS} miljonit).",
        "pl": f"Zdjęcie ma za dużo pikseli (najwyżej {_MEGAPIXELS} milionów).",
        "ru": f"В изображении слишком много пикселей (не больше {_MEGAPIXELS} млн).",
        "he": f"בתמונה יש יותר מדי פיקסלים (עד {_MEGAPIXELS} מיליון).",
        "ar": f"الصورة تحتوي على عدد كبير جدًا من البكسلات (الحد {_MEGAPIXELS} مليون).",
    },
    "not_an_image": {
        "en": "That file is not a picture we can show (JPEG, PNG, WebP or GIF), or it is damaged.",
        "et": "See fail pole pilt, mida saame näidata (JPEG, PNG, WebP või GIF), või on see vigane.",
        "pl": "Ten plik nie jest obrazem, który możemy pokazać (JPEG, PNG, WebP lub GIF), albo jest uszkodzony.",
        "ru": "Этот файл не является изображением, которое мы можем показать (JPEG, PNG, WebP или GIF), "
        "или он повреждён.",
        "he": "הקובץ הזה אינו תמונה שאפשר להציג (JPEG,‏ PNG,‏ WebP או GIF), או שהוא פגום.",
        "ar": "هذا الملف ليس صورة يمكننا عرضها (JPEG أو PNG أو WebP أو GIF)، أو أنه تالف.",
    },
}


def language_of(locale: str | None) -> str:
    """The refusal language for a locale ("he-IL" → "he"); English when it is none of the six."""
    language = (locale or "en").split("-")[0].split("_")[0].lower()
    return language if language in REFUSALS["empty"] else "en"


def refusal(code: str, locale: str | None) -> ParleyError:
    """The 400 for a refused file, its message in the user's language."""
    return ParleyError(400, f"image_{code}", REFUSALS[code][language_of(locale)], field="file")


def check(raw: bytes, locale: str | None) -> CleanImage:
    """The cleaned picture, or the 400 that says (in the user's language) why not."""
    try:
        return clean(raw)
    except ImageRefused as exc:
        raise refusal(exc.code, locale) from None


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    """What a message's meta says of its picture: enough to lay it out before it loads."""
    return {
        "id": attachment.id,
        "content_type": attachment.content_type,
        "width": attachment.width,
        "height": attachment.height,
        "size": attachment.size,
    }


@dataclass(frozen=True)
class _Pending:
    image: CleanImage
    uploaded_by: str


# The picture of the send in progress (one per request: greenlet- and thread-local), picked
# up by `Attachments` as a chat observer inside the send's own transaction.
_pending: ContextVar[_Pending | None] = ContextVar("parley_pending_picture", default=None)


class Attachments:
    """Keeps and reads pictures; a ChatObserver, so a picture message and its attachment
    row commit or roll back together."""

    def __init__(self, db: Database, clock: Clock, storage: Storage):
        self.db = db
        self.clock = clock
        self.storage = storage

    # -- sending ------------------------------------------------------------------------

    def send(self, image: CleanImage, uploaded_by: str, send_message: Callable[[], T]) -> T:
        """Run `send_message` (a chat action storing a message) with `image` attached to
        the message it stores. A resend with the same client id stores nothing new."""
        token = _pending.set(_Pending(image, uploaded_by))
        try:
            return send_message()
        finally:
            _pending.reset(token)

    def shopper_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        self._attach(session, conversation, message, "shopper")

    def agent_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        self._attach(session, conversation, message, "agent")

    def _attach(self, session: Session, conversation: Conversation, message: Message, side: str) -> None:
        pending = _pending.get()
        if pending is None or pending.uploaded_by != side:
            return
        _pending.set(None)  # one picture, one message
        attachment = self.add(session, conversation, side, pending.image)
        message.meta = {**(message.meta or {}), "attachment": attachment_json(attachment)}
        session.add(message)
        session.flush()

    def add(self, session: Session, conversation: Conversation, uploaded_by: str, image: CleanImage) -> Attachment:
        """Keep a cleaned picture in the caller's transaction (its message goes in the same one)."""
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
        return attachment

    # -- reading ------------------------------------------------------------------------

    def read(self, shop_id: int, attachment_id: str, visitor_id: str | None = None) -> tuple[Attachment, bytes]:
        """The picture and its bytes, if it belongs to this shop (and, for a shopper, to one of
        their conversations); 404 otherwise, whether it exists or not."""
        with self.db.session() as session:
            attachment = session.get(Attachment, attachment_id)
            conversation = session.get(Conversation, attachment.conversation_id) if attachment else None
        if (
            attachment is None
            or conversation is None
            or attachment.shop_id != shop_id
            or conversation.shop_id != shop_id
            or (visitor_id is not None and conversation.visitor_id != visitor_id)
        ):
            raise ParleyError(404, "not_found", "no such picture")
        data = self.storage.get(attachment)
        if data is None:
            raise ParleyError(404, "not_found", "no such picture")
        return attachment, data
