"""'Score a photo': an uploaded photo through its own pipeline, as `smilebooth score` does.

The web server gets its own interpreters (never the frame loop's: an interpreter is not
thread-safe), built on the first upload, and one upload at a time goes through them.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any

from edge.annotate import annotate
from edge.config.output import ImageConfig
from edge.io import image_io
from edge.io.serialize import frame_to_dict
from edge.perception.pipeline import Pipeline


class NotAnImageError(ValueError):
    """The upload is not a photo this device can read; the message says why."""


class PhotoScorer:
    def __init__(self, build: Callable[[], Pipeline], images: ImageConfig) -> None:
        self._build = build
        self._images = images
        self._pipeline: Pipeline | None = None
        self._lock = threading.Lock()

    def score(self, data: bytes) -> dict[str, Any]:
        """The JSON `smilebooth score` prints, plus the annotated photo as a data URL."""
        with self._lock:  # one decode at a time too: four uploads never hold four images
            read = image_io.decode_image(data, self._images)
            if read.image is None:
                raise NotAnImageError(read.problem or "not a readable image")
            if self._pipeline is None:
                self._pipeline = self._build()
            result = self._pipeline.process(read.image)
        jpeg = image_io.encode_jpeg(annotate(read.image, result), quality=85)
        return {
            **frame_to_dict(result),
            "warning": read.warning,
            "annotated": "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii"),
        }
