"""Profile photos: a practitioner uploads one, the site keeps a small clean copy, patients see it.

Every image here is made with Pillow in memory: a camera photo with its GPS position, a PNG whose
header claims billions of pixels, a truncated JPEG, and files that only pretend to be images.
"""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from PIL import ExifTags, Image

from directory.extensions import db
from tests.conftest import csrf_token_from, login
from tests.factories import PractitionerFactory


def camera_photo(size=(2400, 1600), fmt="JPEG", gps=True) -> bytes:
    """A photo as a phone writes it: large, with the camera model and where it was taken."""
    image = Image.new("RGB", size, (180, 120, 90))
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Phone 12"
    if gps:
        place = exif.get_ifd(ExifTags.IFD.GPSInfo)
        place[ExifTags.GPS.GPSLatitudeRef] = "N"
        place[ExifTags.GPS.GPSLatitude] = (40.0, 1.0, 5.0)
        place[ExifTags.GPS.GPSLongitudeRef] = "W"
        place[ExifTags.GPS.GPSLongitude] = (105.0, 16.0, 14.0)
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height pixels: a decompression bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def photo_folder(app) -> str:
    """Where stored photos live."""
    return os.path.join(app.config["UPLOAD_FOLDER"], "photos")


def stored_photos(app) -> list[str]:
    """The files in the photo folder."""
    folder = photo_folder(app)
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def upload(client, content: bytes, filename: str = "me.jpg"):
    """Post the photo form as the browser does, with its CSRF token."""
    page = client.get("/dashboard/photo")
    return client.post(
        "/dashboard/photo",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "photo": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def remove(client):
    """Press "Remove my photo" on the photo page."""
    page = client.get("/dashboard/photo")
    return client.post("/dashboard/photo/delete", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


@pytest.fixture
def signed_in(client, practitioner_user):
    """The practitioner, signed in."""
    login(client, practitioner_user)
    return client


def profile_of(user):
    """The user's profile as stored now."""
    db.session.expire_all()
    return user.practitioner


# --- Uploading --------------------------------------------------------------------------------


def test_practitioner_uploads_a_camera_photo_and_only_a_small_clean_copy_is_kept(app, signed_in, practitioner_user):
    original = camera_photo()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload says where

    response = upload(signed_in, original)

    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/#photo")
    [name] = stored_photos(app)
    assert profile_of(practitioner_user).photo_path == name and name.endswith(".jpg") and "me" not in name
    with open(os.path.join(photo_folder(app), name), "rb") as stored_file:
        stored = stored_file.read()
    kept = Image.open(io.BytesIO(stored))
    assert kept.format == "JPEG" and max(kept.size) == 800 and kept.size == (800, 533)
    assert not kept.getexif() and not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Exif" not in stored and b"Phone 12" not in stored


@pytest.mark.parametrize("fmt, filename", [("PNG", "me.png"), ("WEBP", "me.webp")])
def test_png_and_webp_photos_are_accepted_and_stored_as_jpeg(app, signed_in, practitioner_user, fmt, filename):
    response = upload(signed_in, camera_photo(size=(300, 400), fmt=fmt, gps=False), filename)
    assert response.status_code == 302
    [name] = stored_photos(app)
    with Image.open(os.path.join(photo_folder(app), name)) as kept:
        assert kept.format == "JPEG" and kept.size == (300, 400)  # a small photo is not enlarged


def test_a_transparent_logo_gets_a_white_background(app, signed_in):
    logo = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    out = io.BytesIO()
    logo.save(out, format="PNG")
    assert upload(signed_in, out.getvalue(), "logo.png").status_code == 302
    [name] = stored_photos(app)
    with Image.open(os.path.join(photo_folder(app), name)) as kept:
        assert kept.convert("RGB").getpixel((100, 50)) >= (250, 250, 250)


def test_a_sideways_phone_photo_is_stored_upright(app, signed_in):
    image = Image.new("RGB", (400, 200), (10, 200, 10))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned: show rotated 90 degrees
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    upload(signed_in, out.getvalue())
    [name] = stored_photos(app)
    with Image.open(os.path.join(photo_folder(app), name)) as kept:
        assert kept.size == (200, 400)


def _truncated_jpeg() -> bytes:
    whole = camera_photo(size=(600, 600), gps=False)
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (b"%PDF-1.4\n%%EOF\n", "cv.pdf", "Upload a JPEG, PNG or WebP photo"),
        (b"Just some text, renamed.\n", "holiday.jpg", "Upload a JPEG, PNG or WebP photo"),
        (b"GIF89a" + b"\x00" * 40, "anim.gif", "Upload a JPEG, PNG or WebP photo"),
        (png_claiming(100_000, 100_000), "bomb.png", "too large"),
        (png_claiming(8_000, 8_000), "huge.png", "too large (8000 × 8000 pixels)"),
        (_truncated_jpeg(), "cut.jpg", "seems damaged"),
        (b"", "empty.jpg", "The file is empty"),
    ],
)
def test_a_file_that_is_not_a_usable_photo_is_refused_with_a_message_and_nothing_is_kept(
    app, signed_in, practitioner_user, content, filename, message
):
    response = upload(signed_in, content, filename)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and 'role="alert"' in html
    assert stored_photos(app) == [] and profile_of(practitioner_user).photo_path is None


def test_a_new_photo_replaces_the_old_one_and_its_file(app, signed_in, practitioner_user):
    upload(signed_in, camera_photo(gps=False))
    [first] = stored_photos(app)
    upload(signed_in, camera_photo(size=(500, 500), fmt="PNG", gps=False), "new.png")
    [second] = stored_photos(app)
    assert second != first and profile_of(practitioner_user).photo_path == second


def test_removing_the_photo_deletes_its_file_and_the_profile_shows_initials(app, signed_in, practitioner_user):
    upload(signed_in, camera_photo(gps=False))
    response = remove(signed_in)
    assert response.status_code == 302 and stored_photos(app) == []
    profile = profile_of(practitioner_user)
    assert profile.photo_path is None
    page = signed_in.get(f"/practitioners/{profile.id}").get_data(as_text=True)
    assert 'class="profile-initials' in page and ">PP</span>" in page


def test_when_saving_the_profile_fails_the_photo_just_written_is_removed(
    app, signed_in, practitioner_user, monkeypatch
):
    def broken_commit():
        raise RuntimeError("database went away")

    page = signed_in.get("/dashboard/photo")
    monkeypatch.setattr(db.session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        signed_in.post(
            "/dashboard/photo",
            data={
                "csrf_token": csrf_token_from(page.get_data(as_text=True)),
                "photo": (io.BytesIO(camera_photo(gps=False)), "me.jpg"),
            },
            content_type="multipart/form-data",
        )
    assert stored_photos(app) == []


def test_submitting_without_choosing_a_file_asks_for_one(signed_in):
    page = signed_in.get("/dashboard/photo")
    response = signed_in.post("/dashboard/photo", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 400 and "Choose a photo to upload." in response.get_data(as_text=True)


# --- Seeing it --------------------------------------------------------------------------------


def test_patients_see_the_photo_of_a_listed_profile_and_browsers_may_keep_it(app, client, practitioner_user):
    signed_in = app.test_client()
    login(signed_in, practitioner_user)
    upload(signed_in, camera_photo(gps=False))
    profile = profile_of(practitioner_user)

    page = client.get(f"/practitioners/{profile.id}").get_data(as_text=True)
    src = f"/practitioners/{profile.id}/photo/{profile.photo_path}"
    assert f'src="{src}"' in page and 'alt="Photo of Pat Practitioner"' in page
    photo = client.get(src)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert "max-age=31536000" in photo.headers["Cache-Control"] and "public" in photo.headers["Cache-Control"]
    assert client.get(f"/practitioners/{profile.id}/photo/not-the-photo.jpg").status_code == 404


def test_the_photo_of_an_unpublished_profile_is_only_for_its_owner(app, client, practitioner_user):
    signed_in = app.test_client()
    login(signed_in, practitioner_user)
    upload(signed_in, camera_photo(gps=False))
    profile = profile_of(practitioner_user)
    profile.published = False
    db.session.commit()
    src = f"/practitioners/{profile.id}/photo/{profile.photo_path}"
    assert client.get(src).status_code == 404
    own = signed_in.get(src)
    assert own.status_code == 200 and own.headers["Cache-Control"] == "private, no-store"


def test_the_api_gives_the_photo_url_or_null(app, client, practitioner_user):
    profile = practitioner_user.practitioner
    assert client.get(f"/api/v1/practitioners/{profile.id}").get_json()["photo_url"] is None
    signed_in = app.test_client()
    login(signed_in, practitioner_user)
    upload(signed_in, camera_photo(gps=False))
    profile = profile_of(practitioner_user)
    url = client.get(f"/api/v1/practitioners/{profile.id}").get_json()["photo_url"]
    assert url.endswith(f"/practitioners/{profile.id}/photo/{profile.photo_path}")


# --- The profile's links ----------------------------------------------------------------------


def test_back_to_results_returns_to_the_search_the_patient_came_from(client, practitioner_user):
    profile = practitioner_user.practitioner
    page = client.get(f"/practitioners/{profile.id}?from=near%3DBoulder%26radius%3D25%26condition%3Dtmj")
    assert 'href="/search?near=Boulder&amp;radius=25&amp;condition=tmj">&larr; Back to results' in page.get_data(
        as_text=True
    ).replace("←", "&larr;")


def test_back_to_results_follows_a_same_site_referer_but_never_another_site(client, practitioner_user):
    profile = practitioner_user.practitioner
    url = f"/practitioners/{profile.id}"
    same_site = client.get(url, headers={"Referer": "http://localhost/search?near=Denver&radius=10"})
    assert 'href="/search?near=Denver&amp;radius=10"' in same_site.get_data(as_text=True)
    elsewhere = client.get(url, headers={"Referer": "https://evil.example/search?near=Denver"})
    assert "Back to results" not in elsewhere.get_data(as_text=True)
    assert "Back to results" not in client.get(url).get_data(as_text=True)


def test_each_location_offers_call_and_directions(client):
    profile = PractitionerFactory(phone="+1 (303) 555-0100", locations=[(40.015, -105.2705), (39.7392, -104.9903)])
    db.session.commit()
    page = client.get(f"/practitioners/{profile.id}").get_data(as_text=True)
    assert page.count('href="tel:+13035550100"') >= 2
    assert "destination=40.015000,-105.270500" in page and "destination=39.739200,-104.990300" in page
