"""What an uploaded picture must be before Parley keeps it.

Checked by content with Pillow, never by name or by the type the browser claims:
JPEG, PNG, WebP or GIF, at most MAX_BYTES as sent and MAX_PIXELS decoded (a small file
that decodes to gigapixels is a decompression bomb), fully decodable (a truncated file
is refused). Then re-encoded: turned upright by its EXIF orientation, scaled down to
MAX_SIDE, and written afresh as JPEG (photos) or PNG (anything with transparency), so
no EXIF, GPS, XMP or comment survives.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class ImageRefused(ValueError):
    """Why a file is not taken, as a short code (the web layer says it in the user's language)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


def clean(raw: bytes) -> CleanImage:
    if not raw:
        raise ImageRefused("empty")
    if len(raw) > MAX_BYTES:
        raise ImageRefused("too_large")
    try:
        with warnings.catch_warnings():
            # Pillow warns, then raises, on decompression bombs: both are a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.format not in FORMATS:
                    raise ImageRefused("not_an_image")
                if probe.width * probe.height > MAX_PIXELS:
                    raise ImageRefused("too_many_pixels")
                probe.verify()  # structure and checksums, without decoding the pixels
            with Image.open(io.BytesIO(raw)) as image:
                image.load()  # a truncated file fails here
                upright = ImageOps.exif_transpose(image) or image
                return _reencode(upright)
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused("not_an_image") from None


def _reencode(image: Image.Image) -> CleanImage:
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    transparent = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    if transparent:
        image.convert("RGBA").save(out, format="PNG", optimize=True)
        content_type = "image/png"
    else:
        image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
        content_type = "image/jpeg"
    data = out.getvalue()
    return CleanImage(data, content_type, image.width, image.height, hashlib.sha256(data).hexdigest())
