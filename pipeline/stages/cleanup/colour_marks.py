"""Coloured stamps and signatures over black text: left out of the grey image Tesseract reads (`ocr_grey`)."""

from __future__ import annotations

import cv2
import numpy as np

from .measure import percentile_of_bytes
from .work import to_grey

COLOUR_SAMPLE_SIDE = 800  # px: every n-th pixel of the scan, its colours counted (no averaging needed)
INK_DARKNESS = 0.7  # of the paper's brightness: darker is ink (of any colour)
STRONG_COLOUR, NO_COLOUR = 80, 40  # a pixel's chroma (largest channel minus smallest): a stamp's, black ink's
COLOUR_MARKS_SHARE = 0.03  # of the ink, at least, strongly coloured ...
BLACK_TEXT_SHARE = 0.5  # ... while this share of it, at least, is black or grey: black text under coloured marks


def ocr_grey(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """The grey image the steps work on and Tesseract reads, and whether it leaves out coloured marks.

    Municipal records are stamped and signed in colour over their black typescript. In grey (luminance) a red
    stamp is as dark as the letters under it, and Tesseract read the stamp into them: a typescript stamped in red
    and signed in blue read worse than raw Tesseract (CER 0.25, raw 0.21, unstamped 0.02). On a page whose ink
    is mostly black or grey and partly strongly coloured, each pixel is given its brightest channel instead: black
    and grey ink stay as dark as they are, paper as light, and a red, blue or violet mark nearly as light as the
    paper; a letter under a stamp stays darker than the stamp around it. A page written in coloured ink (blue
    ballpoint, a violet ribbon) is mostly coloured ink: it keeps its luminance. The access image keeps the colours."""
    if image.ndim != 3:
        return image.copy(), False
    step = max(1, max(image.shape[:2]) // COLOUR_SAMPLE_SIDE)
    # Every n-th pixel by OpenCV's nearest-neighbour resize: NumPy's strided copy of a colour scan is 10x slower.
    sample = cv2.resize(image, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_NEAREST) if step > 1 else image
    chroma = cv2.subtract(brightest_channel(sample), _darkest_channel(sample))
    luminance = cv2.cvtColor(sample, cv2.COLOR_RGB2GRAY)
    ink = luminance < INK_DARKNESS * percentile_of_bytes(luminance, 90)
    inked = np.count_nonzero(ink)
    if inked < 0.002 * ink.size:
        return to_grey(image), False
    coloured = np.count_nonzero(ink & (chroma > STRONG_COLOUR))
    black = np.count_nonzero(ink & (chroma < NO_COLOUR))
    if coloured < COLOUR_MARKS_SHARE * inked or black < BLACK_TEXT_SHARE * inked:
        return to_grey(image), False
    return brightest_channel(image), True


def brightest_channel(image: np.ndarray) -> np.ndarray:
    """Each pixel's brightest channel: the grey image without the coloured marks (see `ocr_grey`)."""
    red, green, blue = cv2.split(image)
    return cv2.max(cv2.max(red, green), blue)


def _darkest_channel(image: np.ndarray) -> np.ndarray:
    red, green, blue = cv2.split(image)
    return cv2.min(cv2.min(red, green), blue)

