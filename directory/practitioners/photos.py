"""Practitioner photos: checked and re-encoded by Pillow, stored under a random name.

A photo is never stored as uploaded: Pillow opens it (refusing decompression bombs before
decoding a pixel), verifies it, and writes a fresh JPEG at most MAX_SIDE pixels on its long
side. Nothing of the original file survives but its pixels: no EXIF, no GPS position, no
comments. Files live in UPLOAD_FOLDER/photos/; `Practitioner.photo_path` holds the file name only.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import warnings

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_SIDE = 800
# Larger than any camera photo; a header claiming more is a decompression bomb.
MAX_PIXELS = 50_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
NOT_AN_IMAGE = "Upload a JPEG, PNG or WebP photo (this file is none of these, whatever its name says)."


class PhotoError(ValueError):
    """An upload that is not an acceptable photo, with a message for the form."""


def photo_folder() -> str:
    """The folder photos are stored in (created on first use)."""
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "photos")
    os.makedirs(folder, exist_ok=True)
    return folder


def _read(upload: FileStorage) -> bytes:
    """The upload's bytes, refused when empty or too large."""
    data = upload.stream.read(MAX_PHOTO_BYTES + 1)
    if not data:
        raise PhotoError("The file is empty.")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError("The photo is larger than 5 MB.")
    return data


def _check_header(data: bytes) -> None:
    """Refuse anything but a JPEG, PNG or WebP whose header is sound and not a decompression bomb."""
    try:
        with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PhotoError(f"The photo is too large ({width} × {height} pixels). Upload a smaller one.")
            image.verify()
    except PhotoError:
        raise
    except Image.DecompressionBombError:
        raise PhotoError("The photo is too large (too many pixels). Upload a smaller one.") from None
    except UnidentifiedImageError:
        raise PhotoError(NOT_AN_IMAGE) from None
    except Exception:  # Pillow raises many kinds of error for a damaged file
        raise PhotoError("The photo could not be read: the file seems damaged. Try another one.") from None


def reencode(data: bytes) -> bytes:
    """A clean JPEG of the photo: upright, at most MAX_SIDE px, without EXIF or any metadata."""
    _check_header(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS)) as image:
                image.load()
                picture = _upright(image)
        picture = _flatten(picture)
        picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        # No exif= / icc_profile= argument: the new file carries pixels only.
        picture.save(out, format="JPEG", quality=85, optimize=True)
    except Exception:  # a truncated or damaged file fails only when decoded
        raise PhotoError("The photo could not be read: the file seems damaged. Try another one.") from None
    return out.getvalue()


def _upright(image: Image.Image) -> Image.Image:
    """The pixels turned as the camera said, since the orientation tag is not kept."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a damaged EXIF block does not make the picture unusable
        return image.copy()


def _flatten(image: Image.Image) -> Image.Image:
    """An RGB picture; transparent areas become white rather than black."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def save_photo(upload: FileStorage) -> str:
    """Check, re-encode and store an uploaded photo; returns its stored name or raises PhotoError."""
    clean = reencode(_read(upload))
    stored = secrets.token_hex(16) + ".jpg"
    with open(os.path.join(photo_folder(), stored), "xb") as out:
        out.write(clean)
    return stored


def photo_file(stored: str | None) -> str | None:
    """The absolute path of a stored photo, if it is inside the photo folder and exists."""
    if not stored:
        return None
    folder = os.path.realpath(photo_folder())
    path = os.path.realpath(os.path.join(folder, stored))
    if os.path.commonpath([folder, path]) != folder or path == folder or not os.path.isfile(path):
        return None
    return path


def remove_photo(stored: str | None) -> None:
    """Delete a stored photo (once the row that named it no longer does)."""
    path = photo_file(stored)
    if path is None:
        return
    try:
        os.remove(path)
    except OSError as error:
        log.warning("Could not remove photo %s: %s", stored, error)
