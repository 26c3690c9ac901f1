"""Pictures are checked by content and re-encoded: GPS and every other EXIF tag gone (read
back with Pillow, and by looking for the bytes), the photo upright and scaled, hostile
files refused with a reason."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from app.media.images import MAX_SIDE, ImageRefused, clean

DATA = Path(__file__).parent / "data" / "images"


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (10, 20, 30)).save(out, format="PNG")
    return out.getvalue()


def test_a_photo_with_gps_tags_comes_out_without_any_metadata():
    raw = (DATA / "gps.jpg").read_bytes()
    with Image.open(io.BytesIO(raw)) as before:
        assert before.getexif().get_ifd(0x8825)  # the fixture carries a GPS position
    cleaned = clean(raw)
    assert cleaned.content_type == "image/jpeg" and (cleaned.width, cleaned.height) == (640, 480)
    with Image.open(io.BytesIO(cleaned.data)) as after:
        assert dict(after.getexif()) == {}
        assert "exif" not in after.info and "icc_profile" not in after.info
    assert b"Exif" not in cleaned.data and b"Parley Test Camera" not in cleaned.data


def test_a_sideways_photo_is_turned_upright_and_a_big_one_scaled_down():
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    Image.new("RGB", (4000, 3000), (1, 2, 3)).save(out, format="JPEG", exif=exif.tobytes())
    cleaned = clean(out.getvalue())
    assert (cleaned.width, cleaned.height) == (MAX_SIDE * 3 // 4, MAX_SIDE)


def test_transparency_is_kept_as_png():
    cleaned = clean(png(200, 100, "RGBA"))
    assert cleaned.content_type == "image/png"


def bomb() -> bytes:
    """A valid PNG that claims 100,000 × 100,000 pixels (10 gigapixels) in a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"", "empty"),
        (b"<html><script>alert(1)</script></html>", "not_an_image"),
        (b"%PDF-1.7 pretending to be a picture", "not_an_image"),
        ((DATA / "truncated.png").read_bytes(), "not_an_image"),
        (bomb(), "too_many_pixels"),
        (b"\xff\xd8\xff" + b"\0" * (11 * 1024 * 1024), "too_large"),
    ],
)
def test_hostile_files_are_refused_with_a_reason(raw, code):
    with pytest.raises(ImageRefused) as refused:
        clean(raw)
    assert refused.value.code == code
