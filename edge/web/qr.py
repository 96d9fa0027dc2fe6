"""QR codes for share links, made with OpenCV's encoder (no extra dependency)."""

from __future__ import annotations

import base64

import cv2
import numpy as np

MODULE_PX = 8  # screen pixels per QR module: a phone reads it from a metre or two
QUIET = 4  # modules of white margin the standard asks for (OpenCV's own is narrower)


def qr_png(text: str) -> bytes:
    """A PNG of the QR code holding `text`, black on white, with its quiet zone."""
    code = cv2.QRCodeEncoder.create().encode(text)
    if code is None or code.size == 0:
        raise ValueError(f"cannot make a QR code of {len(text)} characters")
    dark = np.argwhere(code < 128)
    (top, left), (bottom, right) = dark.min(axis=0), dark.max(axis=0)
    modules = np.pad(code[top : bottom + 1, left : right + 1], QUIET, constant_values=255)
    scaled = cv2.resize(
        modules,
        (modules.shape[1] * MODULE_PX, modules.shape[0] * MODULE_PX),
        interpolation=cv2.INTER_NEAREST,
    )
    ok, png = cv2.imencode(".png", scaled)
    if not ok:
        raise ValueError("PNG encoding of the QR code failed")
    return png.tobytes()


def qr_data_url(text: str) -> str:
    """The QR code as a data: URL, for an <img> without another request."""
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode("ascii")
