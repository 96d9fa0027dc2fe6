"""Share links: one unguessable token per photo, so a guest can fetch that photo and nothing else.

The token is random (128 bits from `secrets`), never derived from the file name, and kept
beside the photo as `<photo stem>.share` so links survive a restart. A token grants its
photo only while the photo exists: deleting the photo (the gallery's delete, or the disk
budget) revokes it, and a `.share` file left without its photo is removed. Lookups read a
small index, rebuilt only when the folder changes, so guessing costs a dictionary lookup.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import re
import secrets
import threading
from pathlib import Path

from edge.web.gallery import Gallery, NoSuchPhotoError

SUFFIX = ".share"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16): 128 random bits


class ShareLinks:
    def __init__(self, gallery: Gallery) -> None:
        self.gallery = gallery
        self._index: dict[str, str] = {}  # token -> photo name
        self._seen: int | None = None  # the folder's mtime when the index was built
        self._lock = threading.Lock()

    def token(self, name: str) -> str:
        """The photo's token, made (and saved beside it) the first time it is asked for."""
        path = self.gallery.photo(name)
        with self._lock:
            existing = _read_token(path.with_suffix(SUFFIX))
            if existing is not None:
                return existing
            made = secrets.token_urlsafe(16)
            _write_private(path.with_suffix(SUFFIX), made)
            self._seen = None  # the folder changed: rebuild on the next lookup
            return made

    def photo(self, token: str) -> Path:
        """The photo this token opens; NoSuchPhotoError for any other string."""
        if not TOKEN.match(token):
            raise NoSuchPhotoError("no such link")
        with self._lock:
            self._refresh()
            found = next(
                (name for known, name in self._index.items() if hmac.compare_digest(known, token)),
                None,
            )
        if found is None:
            raise NoSuchPhotoError("no such link")
        return self.gallery.photo(found)  # gone since the index was read: no such photo

    def _refresh(self) -> None:
        folder = self.gallery.folder
        try:
            stamp = folder.stat().st_mtime_ns
        except OSError:
            self._index, self._seen = {}, None
            return
        if stamp == self._seen:
            return
        index: dict[str, str] = {}
        for share in folder.glob(f"*{SUFFIX}"):
            photo = share.with_suffix(".jpg")
            if not photo.is_file() or photo.is_symlink():
                with contextlib.suppress(OSError):
                    share.unlink()  # its photo is gone: the link goes with it
                continue
            token = _read_token(share)
            if token is not None:
                index[token] = photo.name
        self._index, self._seen = index, folder.stat().st_mtime_ns


def _read_token(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if TOKEN.match(text) else None


def _write_private(path: Path, token: str) -> None:
    """Owner-only, written whole under a temporary name then renamed."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, token.encode("ascii"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
