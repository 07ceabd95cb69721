"""Credential evidence files: type checked from the content, stored under a random name.

Files live flat in app.config["UPLOAD_FOLDER"]; `Certification.evidence_path` holds the
random file name only, never a path a user chose.
"""

from __future__ import annotations

import logging
import os
import secrets

from flask import current_app
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

log = logging.getLogger(__name__)

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
# Magic bytes at the start of each accepted type, with the extension we store it under.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


class EvidenceError(ValueError):
    """An upload that is not acceptable evidence, with a message for the form."""


def sniff(head: bytes) -> tuple[str, str] | None:
    """(mimetype, extension) of a PDF, PNG or JPEG judged from its first bytes, or None."""
    for magic, mimetype, extension in SIGNATURES:
        if head.startswith(magic):
            return mimetype, extension
    return None


def save_evidence(upload: FileStorage) -> tuple[str, str, str]:
    """Check and store an upload; returns (stored name, original name, mimetype) or raises EvidenceError."""
    data = upload.stream.read(MAX_EVIDENCE_BYTES + 1)
    if not data:
        raise EvidenceError("The file is empty.")
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceError("The file is larger than 5 MB.")
    kind = sniff(data[:16])
    if kind is None:
        raise EvidenceError("Upload a PDF, JPEG or PNG file (this file is none of these, whatever its name says).")
    mimetype, extension = kind
    stored = secrets.token_hex(16) + extension
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, stored), "xb") as out:
        out.write(data)
    original = (secure_filename(upload.filename or "") or f"evidence{extension}")[:200]
    return stored, original, mimetype


def evidence_file(stored: str) -> str | None:
    """The absolute path of a stored file, if it is inside the upload folder and exists."""
    folder = os.path.realpath(current_app.config["UPLOAD_FOLDER"])
    path = os.path.realpath(os.path.join(folder, stored))
    if not stored or os.path.commonpath([folder, path]) != folder or not os.path.isfile(path):
        return None
    return path


def remove_evidence(stored: str) -> None:
    """Delete a stored file (after the row that named it is committed away)."""
    path = evidence_file(stored)
    if path is None:
        return
    try:
        os.remove(path)
    except OSError as error:
        log.warning("Could not remove evidence file %s: %s", stored, error)
