"""Attachment files: kept under CERTHUB_DATA_DIR/incidents/attachments/ (outside the web root,
never served by the static or media handlers), named by their SHA-256 so that the same file
attached twice is stored once. Only the API/UI handlers that checked the incident's visibility
open them (services.open_attachment)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

CHUNK = 1024 * 1024


def root() -> Path:
    return Path(settings.DATA_DIR) / "incidents" / "attachments"


def max_bytes() -> int:
    return int(settings.INCIDENT_ATTACHMENT_MAX_MB) * 1024 * 1024


def path_for(sha256: str) -> Path:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return root() / sha256[:2] / sha256


def too_large(limit: int) -> InvalidInput:
    return InvalidInput(_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)},
                        field="file")


def store(content) -> tuple[str, int]:
    """Write ``content`` (bytes or a file-like object) and return (sha256, size); InvalidInput
    past the size limit, with nothing kept."""
    limit = max_bytes()
    folder = root()
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            chunks = [content] if isinstance(content, bytes | bytearray) else \
                iter(lambda: content.read(CHUNK), b"")
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                digest.update(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        final = path_for(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp_name, final)
        os.chmod(final, 0o600)
        return sha, size
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)


def open_file(sha256: str):
    return path_for(sha256).open("rb")
