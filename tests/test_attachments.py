"""Pictures both ways through the API, on SQLite and PostgreSQL: the shopper's upload from
the widget and the agent's from the Support page become picture messages of their
conversation; the picture comes back cleaned (no GPS), with its type, disposition, nosniff
and private caching, to the conversation's two sides only; hostile or oversized files get
a 400 in the user's language and store nothing."""

from __future__ import annotations

import io
import os
import struct
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlmodel import select

from app.media.attachments import PICTURE_BODY, REFUSALS
from app.media.images import MAX_BYTES
from app.models import Attachment, Message
from tests.support.shoppers import API, auth, shopper_writes
from tests.support.shops import OTHER, SHOP, bearer, install

DATA = Path(__file__).parent / "data" / "images"
GPS_PHOTO = (DATA / "gps.jpg").read_bytes()


def start(client, standin, locale: str = "en", shop: str = SHOP) -> dict:
    query = standin.proxy_query(shop)
    return client.post(f"/proxy/session?{urlencode(query)}", json={"locale": locale}).get_json()


def upload(client, session: dict, raw: bytes, client_id: str | None = None, filename: str = "photo.jpg"):
    return client.post(
        f"{API}/attachments",
        data={"file": (io.BytesIO(raw), filename), "client_id": client_id or str(uuid.uuid4())},
        headers=auth(session),
        content_type="multipart/form-data",
    )


def picture_url(message: dict) -> str:
    return f"{API}/attachments/{message['meta']['attachment']['id']}"


def counts(services) -> tuple[int, int]:
    with services.db.session() as session:
        attachments = session.exec(select(sa.func.count()).select_from(Attachment)).one()
        messages = session.exec(select(sa.func.count()).select_from(Message)).one()
    return attachments, messages


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 bytes a pixel, bigger than any JSON body may be."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG", compress_level=0)
    return out.getvalue()


def bomb() -> bytes:
    """A valid PNG that claims 100,000 × 100,000 pixels in a few hundred bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")


# -- the shopper's picture ----------------------------------------------------------------


def test_a_shoppers_photo_comes_back_without_its_gps_position(client, standin, services, shop_id):
    session = start(client, standin)
    sent = upload(client, session, GPS_PHOTO)
    assert sent.status_code == 201, sent.data
    message = sent.get_json()["message"]
    assert message["author"] == "shopper" and message["body"] == PICTURE_BODY
    assert message["meta"]["attachment"]["content_type"] == "image/jpeg"
    assert (message["meta"]["attachment"]["width"], message["meta"]["attachment"]["height"]) == (640, 480)

    picture = client.get(picture_url(message), query_string={"token": session["visitor_token"]})
    assert picture.status_code == 200
    assert picture.mimetype == "image/jpeg"
    assert picture.headers["X-Content-Type-Options"] == "nosniff"
    assert picture.headers["Content-Disposition"].startswith('inline; filename="picture-')
    assert picture.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert b"Parley Test Camera" in GPS_PHOTO and b"Parley Test Camera" not in picture.data
    with Image.open(io.BytesIO(picture.data)) as image:
        assert dict(image.getexif()) == {} and image.size == (640, 480)

    # The agent sees the same picture in the thread and can open it.
    conversation_id = sent.get_json()["conversation"]["id"]
    thread = client.get(f"/admin/api/conversations/{conversation_id}", headers=bearer(standin)).get_json()
    assert thread["messages"][-1]["meta"]["attachment"] == message["meta"]["attachment"]
    seen = client.get(f"/admin/api/attachments/{message['meta']['attachment']['id']}", headers=bearer(standin))
    assert seen.status_code == 200 and seen.data == picture.data


def test_a_raw_body_upload_and_a_photo_bigger_than_any_json_body(client, standin, services, shop_id):
    session = start(client, standin)
    big = noise_png(1100)  # about 3.6 MB: above the 1 MB every other request may send
    assert 1024 * 1024 * 3 < len(big) < MAX_BYTES
    sent = client.post(
        f"{API}/attachments?client_id=raw-1", data=big, headers={**auth(session), "Content-Type": "image/png"}
    )
    assert sent.status_code == 201, sent.data
    assert sent.get_json()["message"]["meta"]["attachment"]["width"] == 1100


def test_the_first_message_may_be_a_picture_and_a_resend_stores_it_once(client, standin, services, shop_id):
    session = start(client, standin)
    first = upload(client, session, GPS_PHOTO, client_id="pic-1")
    again = upload(client, session, GPS_PHOTO, client_id="pic-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["message"]["id"] == again.get_json()["message"]["id"]
    assert counts(services) == (1, 1)
    history = client.get(f"{API}/messages", headers=auth(session)).get_json()
    assert [m["meta"]["attachment"]["id"] for m in history["messages"]] == [
        first.get_json()["message"]["meta"]["attachment"]["id"]
    ]


HOSTILE = {
    "html": (b"<html><script>alert(1)</script></html>", "image_not_an_image"),
    "pdf": (b"%PDF-1.7 pretending to be a picture", "image_not_an_image"),
    "truncated": ((DATA / "truncated.png").read_bytes(), "image_not_an_image"),
    "bomb": (bomb(), "image_too_many_pixels"),
    "empty": (b"", "image_empty"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_file_is_refused_in_the_shoppers_language_and_nothing_is_stored(
    client, standin, services, shop_id, kind
):
    raw, code = HOSTILE[kind]
    session = start(client, standin, locale="he")
    shopper_writes(client, standin, SHOP, "an earlier question")  # someone else's, kept
    before = counts(services)
    refused = upload(client, session, raw)
    assert refused.status_code == 400
    assert refused.get_json() == {"error": code, "message": REFUSALS[code[6:]]["he"], "field": "file"}
    assert counts(services) == before


def test_an_oversized_file_is_refused_before_it_is_read(client, standin, services, shop_id):
    session = start(client, standin, locale="pl")
    before = counts(services)
    huge = b"\xff\xd8\xff" + b"\0" * (MAX_BYTES + 64 * 1024)
    refused = client.post(
        f"{API}/attachments?client_id=huge", data=huge, headers={**auth(session), "Content-Type": "image/jpeg"}
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "image_too_large"
    assert refused.get_json()["message"] == REFUSALS["too_large"]["pl"]
    multipart = upload(client, session, huge)
    assert multipart.status_code == 400 and multipart.get_json()["error"] == "image_too_large"
    assert counts(services) == before


def test_a_missing_file_or_client_id_is_a_400(client, standin, services, shop_id):
    session = start(client, standin)
    no_file = client.post(
        f"{API}/attachments", data={"client_id": "x"}, headers=auth(session), content_type="multipart/form-data"
    )
    assert no_file.status_code == 400 and no_file.get_json()["error"] == "missing_file"
    no_id = client.post(f"{API}/attachments", data=GPS_PHOTO, headers={**auth(session), "Content-Type": "image/jpeg"})
    assert no_id.status_code == 400 and no_id.get_json()["error"] == "invalid_client_id"
    unsigned = client.post(f"{API}/attachments?client_id=a", data=GPS_PHOTO, headers={"Content-Type": "image/jpeg"})
    assert unsigned.status_code == 401
    assert counts(services) == (0, 0)


# -- who may see it --------------------------------------------------------------------------


def test_only_the_conversations_two_sides_see_a_picture(client, standin, services, shop_id):
    standin.add_shop(OTHER, name="Other Shop")
    install(services, OTHER)
    owner = start(client, standin)
    message = upload(client, owner, GPS_PHOTO).get_json()["message"]
    url = picture_url(message)
    stranger = start(client, standin)  # another shopper of the same shop
    elsewhere = start(client, standin, shop=OTHER)

    assert client.get(url, query_string={"token": owner["visitor_token"]}).status_code == 200
    assert client.get(url, headers=auth(owner)).status_code == 200
    assert client.get(url, query_string={"token": stranger["visitor_token"]}).status_code == 404
    assert client.get(url, query_string={"token": elsewhere["visitor_token"]}).status_code == 404
    assert client.get(url).status_code == 401
    admin_url = f"/admin/api/attachments/{message['meta']['attachment']['id']}"
    assert client.get(admin_url, headers=bearer(standin, OTHER)).status_code == 404
    assert client.get(admin_url).status_code == 401
    assert client.get(f"{API}/attachments/{uuid.uuid4()}", headers=auth(owner)).status_code == 404


# -- the agent's picture --------------------------------------------------------------------


def test_an_agents_picture_reaches_the_shopper(client, standin, services, shop_id):
    sent = shopper_writes(client, standin, SHOP, "is this the right size label?")
    conversation_id = sent["conversation"]["id"]
    reply = client.post(
        f"/admin/api/conversations/{conversation_id}/attachments",
        data={"file": (io.BytesIO(GPS_PHOTO), "label.jpg"), "client_id": "agent-pic-1"},
        headers=bearer(standin),
        content_type="multipart/form-data",
    )
    assert reply.status_code == 201, reply.data
    message = reply.get_json()["message"]
    assert message["author"] == "agent" and message["meta"]["attachment"]["content_type"] == "image/jpeg"
    session = {"visitor_token": sent["visitor_token"]}
    history = client.get(f"{API}/messages", headers=auth(session)).get_json()
    assert history["messages"][-1]["meta"]["attachment"]["id"] == message["meta"]["attachment"]["id"]
    picture = client.get(picture_url(message), headers=auth(session))
    assert picture.status_code == 200 and b"Parley Test Camera" not in picture.data
    with services.db.session() as db_session:
        stored = db_session.get(Attachment, message["meta"]["attachment"]["id"])
        assert stored.uploaded_by == "agent" and stored.conversation_id == conversation_id


def test_an_agents_refused_file_is_a_400_in_the_staff_language_and_nothing_is_stored(
    client, standin, services, shop_id
):
    sent = shopper_writes(client, standin, SHOP, "hello")
    before = counts(services)
    refused = client.post(
        f"/admin/api/conversations/{sent['conversation']['id']}/attachments?client_id=a-1",
        data=b"GIF89a not really",
        headers={**bearer(standin), "Content-Type": "image/gif", "Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"},
    )
    assert refused.status_code == 400
    assert refused.get_json()["message"] == REFUSALS["not_an_image"]["ru"]
    assert counts(services) == before


def test_an_agent_cannot_post_a_picture_into_another_shops_conversation(client, standin, services, shop_id):
    standin.add_shop(OTHER, name="Other Shop")
    install(services, OTHER)
    theirs = shopper_writes(client, standin, OTHER, "private")
    before = counts(services)
    refused = client.post(
        f"/admin/api/conversations/{theirs['conversation']['id']}/attachments?client_id=x-1",
        data=GPS_PHOTO,
        headers={**bearer(standin, SHOP), "Content-Type": "image/jpeg"},
    )
    assert refused.status_code == 404
    assert counts(services) == before


def test_a_picture_asked_for_again_is_not_sent_again(client, standin, services, shop_id):
    session = start(client, standin)
    message = upload(client, session, GPS_PHOTO).get_json()["message"]
    first = client.get(picture_url(message), headers=auth(session))
    assert first.headers["ETag"]
    again = client.get(picture_url(message), headers={**auth(session), "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    head = client.head(picture_url(message), headers=auth(session))
    assert head.status_code == 200 and head.headers["Content-Type"] == "image/jpeg" and head.data == b""
