"""Which way a page's lines run, to a whole degree: the search the deskew (geometry.estimate_skew) and the
sideways test (orientation.columns_to_lines) make, on the letters of a measuring copy 1200 px long.

Within NEAR_SKEW degrees either way first, where almost every scan's lines lie; further only where no lines are
found there (a sheet laid visibly crooked), and a further peak is taken only if it is one of lines of text, not of
a halftone's dots or of hatching's strokes (bench/RESULTS.md, thirty-third session).
"""

from __future__ import annotations

import cv2
import numpy as np

from .measure import line_sharpness, projection

NEAR_SKEW = 5  # degrees: the lines are looked for this far either way first (see whole_degree_sharpness)
# Degrees: then this far, and only where they are not found there either, as far as the profile says (40 by
# default): a sheet laid 6-15 degrees askew is measured, and costs, as before the search reached 40.
MIDDLE_SKEW = 15
CLEAR_PEAK = 2.5  # the sharpest whole degree over the median of those searched: the lines are found there
LINES_PEAK_FLANK = 1.3  # the sharpest whole degree's higher neighbour over that median (see lines_found)
STROKES_REPEAT, MIN_LINE_PITCH = 0.3, 10  # strokes repeating this closely are no lines (see _strokes_repeat)
LINES_ENVELOPE = 97  # px of a 1200 px copy: wider than lines are apart (double-spaced typescript on A5: 48)


def whole_degree_sharpness(ys: np.ndarray, xs: np.ndarray, max_angle: float) -> tuple[np.ndarray, np.ndarray]:
    """(angles, `line_sharpness` at each): the whole degrees from -max_angle to max_angle where the lines are.

    Those up to NEAR_SKEW either way come first: almost every scan's lines lie there (`lines_found`). Only
    when they are not found there are the rest searched, and kept if their peak is one of lines of text
    (`lines_of_text`): a page with no lines to speak of (handwriting, a photograph, a plan) keeps the near
    search's answer, as when no more was searched. A page laid 8 degrees askew, searched within 5 only: its
    sharpest whole degree over the median 1.1-2.3 (the corpus's real scans); straight, 2.8-36."""
    near = whole_degrees(ys, xs, min(max_angle, NEAR_SKEW))
    if max_angle <= NEAR_SKEW or lines_found(near[1]):
        return near
    measured = near
    if max_angle > MIDDLE_SKEW:
        measured = whole_degrees(ys, xs, MIDDLE_SKEW, near)
        if lines_found(measured[1]) and lines_of_text(ys, xs, *measured):
            return measured
    far = whole_degrees(ys, xs, max_angle, measured)  # what was measured is not measured again
    return far if lines_of_text(ys, xs, *far) else near


def whole_degrees(ys: np.ndarray, xs: np.ndarray, reach: float,
                  known: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(angles, `line_sharpness` at each) for the whole degrees from -reach to reach; those in `known` (angles and
    their sharpness, measured before) are not measured again."""
    angles = np.arange(-reach, reach + 0.5, 1.0)
    measured = dict(zip(known[0].tolist(), known[1].tolist())) if known is not None else {}
    return angles, np.array([measured[a] if a in measured else line_sharpness(ys, xs, a) for a in angles.tolist()])


def lines_of_text(ys: np.ndarray, xs: np.ndarray, angles: np.ndarray, scores: np.ndarray) -> bool:
    """Whether the sharpest of the whole degrees `angles` (their `scores`) is a peak of lines of text: it stands
    out (`_lines_peak`, at either end of the range too) and is no peak of strokes (`_strokes_repeat`)."""
    return _lines_peak(scores) and not _strokes_repeat(ys, xs, float(angles[int(np.argmax(scores))]))


def _strokes_repeat(ys: np.ndarray, xs: np.ndarray, angle: float) -> bool:
    """Whether the marks projected at `angle` repeat closer than lines of text can: the projection's
    autocorrelation, past its first fall below zero, has a peak of STROKES_REPEAT or more at a lag under
    MIN_LINE_PITCH px (on the copies the lines are looked for on, 1200 px long: 2.5 mm of an A4 page, the lines of
    7 pt type). Hatching (a plan's hatched buildings, dashed hatching), a brick wall or rain in a photograph make
    peaks of lines, and on a page without lines within 5 degrees they won: their strokes repeat 3-9 px apart, with
    peaks of 0.6-0.97. The corpus's 30 text pages laid 5.5-15 degrees askew (128 of them, on white and on a dark
    bed) repeat 14-35 px apart, and have no such peak; nor did 17 synthetic pages of a few lines, forms, an index
    card, a receipt and a newspaper page (at most 0.14)."""
    profile = projection(ys, xs, angle).astype(np.float64)
    profile -= cv2.blur(profile[:, None], (1, LINES_ENVELOPE))[:, 0]  # where lines repeat, not where text lies
    spectrum = np.fft.rfft(profile, 2 * len(profile))
    autocorrelation = np.fft.irfft(spectrum * np.conj(spectrum))[:MIN_LINE_PITCH + 1]
    if len(autocorrelation) < 3 or autocorrelation[0] <= 0:
        return False
    repeat = autocorrelation / autocorrelation[0]
    below_zero = np.flatnonzero(repeat < 0)
    if not len(below_zero):
        return False
    return any(repeat[lag] >= STROKES_REPEAT and repeat[lag] >= repeat[lag - 1] and repeat[lag] >= repeat[lag + 1]
               for lag in range(int(below_zero[0]) + 1, len(repeat) - 1))


def lines_found(scores: np.ndarray) -> bool:
    """Whether the sharpest of `scores` (whole degrees apart) is a peak of text lines (`_lines_peak`) within them,
    not at either end, where a peak further out shows its flank."""
    return 0 < int(np.argmax(scores)) < len(scores) - 1 and _lines_peak(scores)


def _lines_peak(scores: np.ndarray) -> bool:
    """Whether the sharpest of `scores` (whole degrees apart) is a peak of text lines: CLEAR_PEAK times their
    median, and a degree wide, its higher neighbour LINES_PEAK_FLANK times the median. Lines of letters give
    peaks about a degree wide (their height against their length): on the corpus's real scans laid askew by
    whole degrees, where the peak falls on one of them, the higher neighbour measured 1.5-8.8 times the median.
    A halftone photograph's dot lattice gives narrower ones, between the degrees: laid 1 degree askew, the
    sharpest of 31 degrees was 2.9 times their median (at 7 degrees), its neighbours 1.0 times."""
    i = int(np.argmax(scores))
    median = np.median(scores)
    flank = max(scores[i - 1] if i > 0 else 0.0, scores[i + 1] if i < len(scores) - 1 else 0.0)
    return bool(scores[i] >= CLEAR_PEAK * median and flank >= LINES_PEAK_FLANK * median)
