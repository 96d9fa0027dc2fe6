"""What the guest screen shows now: the mirror with a line of guidance, the flash, the new
photo with its QR code, or the idle slideshow.

Built on the web server's side from the loop's newest decided frame (the NowBoard), a few
times a second while a guest screen is open. It hands out one share link only: the newest
photo's, for the few seconds it is on the screen. The words come from edge.decide.explain.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from typing import Any

from edge.config.web import WebConfig
from edge.decide.explain import EVERYONE_IN, face_ready, guest_line
from edge.io import image_io
from edge.loop import LoopView
from edge.web.gallery import PHOTO_NAME, Gallery, JpegCache, NoSuchPhotoError, narrowed_jpeg
from edge.web.now import NowBoard
from edge.web.qr import qr_data_url
from edge.web.share import ShareLinks

SLIDE_WIDTH = 1280  # the slideshow's pictures: a full HD screen, without decoding each time
SLIDE_CACHE = 16


class GuestScreen:
    def __init__(
        self, config: WebConfig, gallery: Gallery, shares: ShareLinks, board: NowBoard | None
    ) -> None:
        self.config = config
        self.gallery = gallery
        self.shares = shares
        self.board = board
        self._faces_at = time.monotonic()  # the last time someone was in view
        self._qr: tuple[str, str] | None = None  # (link, PNG data URL) of the newest photo
        self._slides = JpegCache(SLIDE_CACHE)
        self._lock = threading.Lock()

    def state(self, base_url: str) -> dict[str, Any]:
        """The screen's content now; `base_url` is how a phone reaches this booth."""
        view = self.board.view if self.board is not None else None
        review = self._review(base_url)
        if view is not None and view.scored.tracked.tracks:
            self._faces_at = time.monotonic()
        if review is not None:
            return {"mode": "review", "photo": review}
        if view is not None and view.trigger.phase == "burst":
            return {"mode": "flash"}
        idle = view is None or time.monotonic() - self._faces_at >= self.config.idle_s
        if idle:
            slides = self._slide_names()
            if slides:  # the newest name changes the slides' URLs (no names are shown)
                key = hashlib.sha256(slides[0].encode()).hexdigest()[:8]
                return {"mode": "idle", "slides": len(slides), "key": key}
        if view is None:
            return {"mode": "waiting", "line": EVERYONE_IN, "faces": []}
        return {"mode": "mirror", **self._mirror(view)}

    def slide(self, index: int) -> bytes:
        """The index-th newest photo, screen-sized; NoSuchPhotoError past the slideshow."""
        names = self._slide_names()
        if not 0 <= index < len(names):
            raise NoSuchPhotoError(f"slide {index}")
        path = self.gallery.photo(names[index])
        try:
            key = (path.name, path.stat().st_mtime)
        except OSError as exc:  # deleted since the listing
            raise NoSuchPhotoError(path.name) from exc
        cached = self._slides.get(key)
        if cached is not None:
            return cached
        image = image_io.read_image(path).image
        if image is None:
            raise NoSuchPhotoError(path.name)
        data = narrowed_jpeg(image, SLIDE_WIDTH, quality=85)
        self._slides.put(key, data)
        return data

    # -- parts ---------------------------------------------------------------------------

    def _mirror(self, view: LoopView) -> dict[str, Any]:
        assert self.board is not None
        board = self.board
        counted = view.scored.tracked.counted
        line = guest_line(
            view.trigger,
            view.now,
            view.verdict,
            view.scored.group.face_count,
            view.controls,
            board.trigger,
        )
        smoothed = {face.track_id: face for face in counted}
        height, width = view.scored.frame.image.shape[:2]
        faces = []
        tracked = view.scored.tracked
        for track, face in zip(tracked.tracks, tracked.result.faces, strict=True):
            values = smoothed.get(track.track_id)
            if values is None:
                continue
            smiling, eyes_open = face_ready(values)
            box = face.face.box
            faces.append(
                {
                    "x": round(box.x1 / width, 4),
                    "y": round(box.y1 / height, 4),
                    "w": round((box.x2 - box.x1) / width, 4),
                    "h": round((box.y2 - box.y1) / height, 4),
                    "smiling": smiling,
                    "eyes_open": eyes_open,
                }
            )
        return {
            "line": line.text,
            "countdown": line.countdown,
            "faces": faces,
            "aspect": round(width / height, 4),
        }

    def reviewing(self) -> str | None:
        """The photo on the screen's review now: the newest, while it is new (taken under
        review_s ago). The only photo a guest may print from the screen."""
        name = self.board.last_photo() if self.board is not None else None
        if name is None:
            return None
        try:
            taken = self.gallery.photo(name).stat().st_mtime
        except (NoSuchPhotoError, OSError):  # deleted meanwhile: nothing to review
            return None
        return name if time.time() - taken < self.config.review_s else None

    def _review(self, base_url: str) -> dict[str, str] | None:
        """The newest photo while it is new (taken under review_s ago): its share link for
        phones (`link`, in the QR code) and the same link as a path (`path`), which the
        screen loads its picture from: the address phones use may be one the booth's own
        browser cannot open (a loopback-bound server, a public_url behind a proxy)."""
        name = self.reviewing()
        if name is None:
            return None
        try:
            path = f"/s/{self.shares.token(name)}"
        except (NoSuchPhotoError, OSError):  # deleted meanwhile: nothing to review
            return None
        link = base_url + path
        with self._lock:
            if self._qr is None or self._qr[0] != link:
                self._qr = (link, qr_data_url(link))
            qr = self._qr[1]
        return {"link": link, "path": path, "qr": qr}

    def _slide_names(self) -> list[str]:
        """The newest photos' names, newest first: the store's names sort by time, so one
        listing does (no sidecar is read, four times a second)."""
        count = self.config.slideshow_photos
        folder = self.gallery.folder
        if count == 0 or not folder.is_dir():
            return []
        names = sorted((n for n in os.listdir(folder) if PHOTO_NAME.match(n)), reverse=True)
        return names[:count]
