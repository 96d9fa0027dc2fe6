"""The guest screen's mirror: the camera's picture alone, at up to the loop's own rate.

Nothing is drawn on it (the guest page marks faces in HTML over the picture, and flips it
so guests see a mirror), so a frame costs one resize at most and one JPEG encoding, on the
view's own thread like the operator's live view; nothing at all while nobody watches.
"""

from __future__ import annotations

import cv2

from edge.decide.explain import Explanation
from edge.io import image_io
from edge.loop import LoopView
from edge.web.live import LiveView

NO_REASON = Explanation("", "")


def no_reason(view: LoopView) -> Explanation:
    """The mirror marks nothing: its frames need no explanation."""
    return NO_REASON


class MirrorView(LiveView):
    def __init__(self, fps: float = 30.0, width: int = 960, quality: int = 75) -> None:
        super().__init__(fps=fps, width=width, quality=quality)

    def _draw(self, view: LoopView, why: Explanation) -> bytes:
        image = view.scored.frame.image
        height, width = image.shape[:2]
        if width > self.width:
            size = (self.width, max(1, round(height * self.width / width)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return image_io.encode_jpeg(image, quality=self.quality)
