"""smilebooth's edge app.

OpenCV reads its decoders' size ceiling once, when cv2 is loaded: set it before anything
imports cv2, as a backstop under `edge.io.image_io`'s own header check (the largest
`images.max_pixels` allowed), so no decoder can ever allocate OpenCV's default 2^30 pixels.
"""

import os

os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(100_000_000))
