"""The Pi source's buffers, against the picamera2 look-alike on real video."""

from __future__ import annotations

import gc
import weakref

import pytest

from edge.sources.fake_picamera2 import FakePicamera2
from tests._loop_helpers import STAGE, video


def test_the_look_alike_frees_released_requests_and_stalls_like_a_camera() -> None:
    camera = FakePicamera2(video(STAGE))
    camera.configure(camera.create_video_configuration(main={"size": (640, 360)}))
    camera.start()
    request = camera.capture_request()
    gone = weakref.ref(request)
    request.release()
    with pytest.raises(RuntimeError, match="negative ref_count"):
        request.release()  # as CompletedRequest does
    del request
    gc.collect()
    assert gone() is None and not camera.held  # nothing kept once released
    held = [camera.capture_request() for _ in range(6)]  # buffer_count of a video config
    with pytest.raises(RuntimeError, match="holds all 6 buffers"):
        camera.capture_request()
    for request in held:
        request.release()
    camera.capture_request().release()
    camera.close()
