"""A photo laid out on the printer's paper: fitted, captioned, branded; then one PDF page.

The page is drawn as one image at the configured dpi (photo fitted inside the margins
above a caption band, the overlay PNG composited over the whole page), and wrapped in a
one-page PDF whose page is exactly the paper: CUPS then prints it as it is, on any driver,
with no scaling of its own. Pure functions (no I/O): the print queue reads the files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from edge.io.image_io import encode_jpeg

POINTS_PER_INCH = 72.0
MM_PER_INCH = 25.4
# Paper names as CUPS drivers (PPD PageSize) call them: (width, height) in millimetres.
PAPERS_MM = {
    "a3": (297.0, 420.0),
    "a4": (210.0, 297.0),
    "a5": (148.0, 210.0),
    "a6": (105.0, 148.0),
    "letter": (215.9, 279.4),
    "legal": (215.9, 355.6),
    "postcard": (100.0, 148.0),  # Canon Selphy, "KP-108IN"
}
_INCHES_OR_MM = re.compile(r"^(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(mm|in)?$")
_POINTS = re.compile(r"^w(\d+(?:\.\d+)?)h(\d+(?:\.\d+)?)$")
CAPTION_BAND = 0.07  # of the page's height, under the photo
CAPTION_FONT = cv2.FONT_HERSHEY_DUPLEX


@dataclass(frozen=True)
class Page:
    """The paper (in points, as PDF measures it) and how finely the page is drawn."""

    width_pt: float
    height_pt: float
    dpi: int = 300
    margin_mm: float = 5.0

    @property
    def pixels(self) -> tuple[int, int]:
        return (
            round(self.width_pt / POINTS_PER_INCH * self.dpi),
            round(self.height_pt / POINTS_PER_INCH * self.dpi),
        )


def paper_points(name: str) -> tuple[float, float] | None:
    """(width, height) in points of a paper name: A4, Letter, 4x6 (inches), 100x148mm,
    w288h432 (points), Custom.4x6in, PWG names (iso_a4_210x297mm); None if unknown."""
    text = name.strip().lower().removeprefix("custom.")
    if "_" in text:  # PWG self-describing: the size is the last part
        text = text.rsplit("_", 1)[-1]
    text = text.removesuffix(".fullbleed").removesuffix(".borderless")
    if text in PAPERS_MM:
        width, height = PAPERS_MM[text]
        return _mm(width), _mm(height)
    match = _INCHES_OR_MM.match(text)
    if match:
        width, height, unit = float(match[1]), float(match[2]), match[3] or "in"
        if unit == "mm":
            return _mm(width), _mm(height)
        return width * POINTS_PER_INCH, height * POINTS_PER_INCH
    match = _POINTS.match(text)
    if match:
        return float(match[1]), float(match[2])
    return None


def lay_out(
    photo: np.ndarray, page: Page, caption: str = "", overlay: np.ndarray | None = None
) -> np.ndarray:
    """The page as a BGR image: white, the photo fitted (whole, centred) inside the margins
    above the caption band, the caption centred in its band, the overlay (BGRA) on top."""
    width, height = page.pixels
    canvas = np.full((height, width, 3), 255, np.uint8)
    margin = round(page.margin_mm / MM_PER_INCH * page.dpi)
    band = round(height * CAPTION_BAND) if caption else 0
    area_w, area_h = width - 2 * margin, height - 2 * margin - band
    if area_w < 8 or area_h < 8:
        raise ValueError(f"margins of {page.margin_mm} mm leave no room on the page")
    photo_h, photo_w = photo.shape[:2]
    scale = min(area_w / photo_w, area_h / photo_h)
    fit_w, fit_h = max(1, round(photo_w * scale)), max(1, round(photo_h * scale))
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    fitted = cv2.resize(photo, (fit_w, fit_h), interpolation=shrink)
    x = margin + (area_w - fit_w) // 2
    y = margin + (area_h - fit_h) // 2
    canvas[y : y + fit_h, x : x + fit_w] = fitted
    if caption:
        _draw_caption(canvas, caption, top=margin + area_h, band=band, margin=margin)
    if overlay is not None:
        _composite(canvas, overlay)
    return canvas


def page_pdf(page_image: np.ndarray, page: Page, quality: int = 92) -> bytes:
    """A one-page PDF of exactly the paper's size showing `page_image` (a JPEG inside)."""
    height, width = page_image.shape[:2]
    jpeg = encode_jpeg(page_image, quality=quality)
    w, h = f"{page.width_pt:.2f}", f"{page.height_pt:.2f}"
    draw = f"q {w} 0 0 {h} 0 0 cm /Photo Do Q".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] "
        "/Resources << /XObject << /Photo 4 0 R >> >> /Contents 5 0 R >>".encode(),
        (
            f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace "
            f"/DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>"
        ).encode()
        + b"\nstream\n"
        + jpeg
        + b"\nendstream",
        f"<< /Length {len(draw)} >>".encode() + b"\nstream\n" + draw + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _draw_caption(canvas: np.ndarray, text: str, top: int, band: int, margin: int) -> None:
    text = text.encode("ascii", "replace").decode()  # the Hershey fonts draw ASCII only
    width = canvas.shape[1]
    (size_w, size_h), _ = cv2.getTextSize(text, CAPTION_FONT, 1.0, 1)
    scale = min(0.45 * band / max(size_h, 1), 0.9 * (width - 2 * margin) / max(size_w, 1))
    thickness = max(1, round(scale * 1.2))
    (text_w, text_h), _ = cv2.getTextSize(text, CAPTION_FONT, scale, thickness)
    origin = ((width - text_w) // 2, top + (band + text_h) // 2)
    cv2.putText(canvas, text, origin, CAPTION_FONT, scale, (0, 0, 0), thickness, cv2.LINE_AA)


def _composite(canvas: np.ndarray, overlay: np.ndarray) -> None:
    """Alpha-blend a BGRA (or opaque BGR) overlay, stretched to the page, onto it."""
    height, width = canvas.shape[:2]
    scaled = cv2.resize(overlay, (width, height), interpolation=cv2.INTER_AREA)
    if scaled.ndim == 2:
        scaled = cv2.cvtColor(scaled, cv2.COLOR_GRAY2BGR)
    if scaled.shape[2] == 3:
        canvas[:] = scaled
        return
    alpha = scaled[:, :, 3:4].astype(np.float32) / 255.0
    blended = scaled[:, :, :3].astype(np.float32) * alpha + canvas.astype(np.float32) * (1 - alpha)
    canvas[:] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _mm(value: float) -> float:
    return value / MM_PER_INCH * POINTS_PER_INCH
