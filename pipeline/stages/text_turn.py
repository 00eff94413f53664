"""Turn a reading onto a straightened page: its word boxes (hOCR and the page's words) and its PDF text layer.

A clean page skewed by less than Tesseract minds is read as scanned (see cleanup.READ_SKEWED_BELOW), while the
page people see is straightened. Its reading is then turned by the same small angle about the page's centre,
so that the text layer, search hits and redaction boxes lie on the straightened image. A word box becomes the
upright box around the turned one (at half a degree, a 300 px wide word grows by ~3 px in height).
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pikepdf

from ..hocr import BBOX
from ..model import PixelBox
from .ocr import OcrOutput


def turn_reading(reading: OcrOutput, angle: float) -> OcrOutput:
    """`reading` turned counter-clockwise by `angle` degrees about the page's centre, as `geometry.rotate`
    turns the image; its hOCR and text-layer files are rewritten in place."""
    width, height = reading.page.width, reading.page.height
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)

    def turned(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        return turn_box(box, matrix, (width, height))

    hocr = reading.hocr.read_text(encoding="utf-8")
    reading.hocr.write_text(BBOX.sub(lambda m: "bbox %d %d %d %d" % turned(tuple(map(int, m.groups()))), hocr),
                            encoding="utf-8")
    _turn_text_layer(reading.text_pdf, angle)
    return reading.reloaded()


def turn_boxes(boxes: tuple[PixelBox, ...], angle: float, size: tuple[int, int]) -> tuple[PixelBox, ...]:
    """`boxes` on a page of `size` (width, height) turned as `turn_reading` turns its words."""
    matrix = cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), angle, 1.0)
    return tuple(turn_box(box, matrix, size) for box in boxes)


def turn_box(box: tuple[int, int, int, int], matrix: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The upright box around `box` (left, top, right, bottom) turned by the 2x3 `matrix`, kept on the page."""
    left, top, right, bottom = box
    corners = np.array([[left, top, 1], [right, top, 1], [left, bottom, 1], [right, bottom, 1]], dtype=np.float64)
    xs, ys = (corners @ matrix.T).T
    width, height = size
    return (max(0, math.floor(xs.min())), max(0, math.floor(ys.min())),
            min(width, math.ceil(xs.max())), min(height, math.ceil(ys.max())))


def _turn_text_layer(path: Path, angle: float) -> None:
    """Wrap the text-only page's content in a turn about the page's centre. PDF space has y upwards, where a
    counter-clockwise turn (as seen) is the usual rotation matrix."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        left, bottom, right, top = (float(v) for v in page.mediabox)
        cx, cy = (left + right) / 2, (bottom + top) / 2
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        e, f = cx - c * cx + s * cy, cy - s * cx - c * cy
        page.contents_add(pikepdf.Stream(pdf, f"q {c:.6f} {s:.6f} {-s:.6f} {c:.6f} {e:.4f} {f:.4f} cm\n".encode()),
                          prepend=True)
        page.contents_add(pikepdf.Stream(pdf, b"\nQ\n"))
        pdf.save(path)
