"""Frame sources, chosen by `source.type` through one explicit factory table."""

from __future__ import annotations

from collections.abc import Callable

from edge.config.output import ImageConfig
from edge.config.source import SourceConfig
from edge.io.sources.base import Frame, FrameSource, SourceError, SourceLostError
from edge.io.sources.images_source import ImageFolderSource
from edge.io.sources.opencv_source import OpenCVSource
from edge.io.sources.picamera2_source import Picamera2Source

# type -> constructor; adding a source means adding a line here.
SOURCES: dict[str, Callable[[SourceConfig], FrameSource]] = {
    "opencv": OpenCVSource,
    "images": ImageFolderSource,
    "picamera2": Picamera2Source,
}


def make_source(config: SourceConfig, images: ImageConfig | None = None) -> FrameSource:
    """The source for `config.type`; the config validator has already checked the section
    (file, environment and flags alike), so nothing is checked twice here. `images`: the
    limits an image folder's files are read under (images.max_pixels, max_file_mb)."""
    if config.type == "images" and images is not None:
        return ImageFolderSource(config, images=images)
    return SOURCES[config.type](config)


__all__ = ["Frame", "FrameSource", "SourceConfig", "SourceError", "SourceLostError", "make_source"]
