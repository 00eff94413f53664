"""A sheet photographed at an angle (a phone held over a table): its outline is a quadrilateral whose opposite
edges converge, and its lines converge with them. Straightening turns a page by one angle and cannot make such
lines parallel: the lines of a phone photo's lower half were read out of order. The sheet is warped to the
rectangle it is, on the whole scan before it is split or cleaned (pagework): the page people see is the flattened
sheet as well (the photo itself stays the master, untouched).

Only beyond doubt: the sheet must lie whole on a darker background, its outline must be four straight edges, two
opposite ones converging by MIN_CONVERGENCE degrees or more (a scanned sheet is a rectangle, at most turned: the
deskew and the crop handle it), and where its top and bottom edges converge, its lines of text must converge
with them (`_text_agrees`). A sheet cut crooked is no photograph taken askew, and its text, printed straight,
would be bent by the warp: its upper and lower lines run alike, unlike its edges, and it is left as it is.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ...profiles import MAX_SKEW_ANGLE
from .geometry import MIN_INK_PIXELS, SKEW_ANALYSIS_SIDE, estimate_skew
from .measure import ink_mask, letters_of_page, percentile_of_bytes
from .work import to_grey

OUTLINE_SIDE = 500  # px, longer side of the copy the outline is looked for on (a corner found within ~0.2 %)
FRAME = 3  # px of that copy: its outer frame is the background, darker than the paper, or no sheet lies on it
MIN_CONVERGENCE = 1.5  # degrees between two opposite edges: less is a scan's skew or a sheet's crooked cut
TEXT_SHARE = 0.3  # of the top and bottom edges' angle: the upper and lower thirds' lines are turned this far apart
MIN_SHEET_SHARE = 0.3  # of the image: a smaller bright quadrilateral is no photographed sheet
QUAD_FIT = 0.03  # the outline may stray from its four edges by this share of its area (a corner's curl)
EDGE_MIDDLE, EDGE_BAND = 0.1, 0.03  # an edge's line is fitted to the outline along its middle, this close to it


def flatten_perspective(scan: np.ndarray, bed_darkness: float) -> np.ndarray | None:
    """The photographed sheet warped to its rectangle (RGB or grey, as `scan`), or None to keep the scan."""
    corners = sheet_corners(scan, bed_darkness)
    if corners is None:
        return None
    return _warp(scan, corners) if _text_agrees(to_grey(scan), corners) else None


def sheet_corners(scan: np.ndarray, bed_darkness: float) -> np.ndarray | None:
    """The four corners (top left, top right, bottom right, bottom left; x, y in the scan's pixels) of a sheet
    photographed askew, or None when there is none beyond doubt (see the module's docstring). Looked for on every
    page, so on a copy of every n-th pixel (0.5-1 ms): an outline needs no averaged copy."""
    step = -(-max(scan.shape[:2]) // OUTLINE_SIDE)
    sample = cv2.resize(scan, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_NEAREST)
    small = cv2.medianBlur(to_grey(sample), 5)  # letters are not background
    # Paper is at least `bed_darkness` of the paper's brightness, and brighter than Otsu's threshold between
    # sheet and background as well: a wooden table lit well is more than half as bright as paper in the shade.
    otsu, _ = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bar = max(percentile_of_bytes(small, 90) * bed_darkness, otsu)
    frame = np.concatenate([small[:FRAME].ravel(), small[-FRAME:].ravel(), small[:, :FRAME].ravel(),
                            small[:, -FRAME:].ravel()])
    if percentile_of_bytes(frame, 90) >= bar:
        return None  # paper reaches the image's edge somewhere: the sheet does not lie whole on a background
    bright = (small >= bar).astype(np.uint8)
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)  # every point: edges are fitted
    if not contours:
        return None
    outline = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(outline)
    if area < MIN_SHEET_SHARE * small.size:
        return None
    quad = cv2.approxPolyDP(outline, 0.02 * cv2.arcLength(outline, True), True).reshape(-1, 2)
    if len(quad) != 4 or not cv2.isContourConvex(quad):
        return None
    if abs(cv2.contourArea(quad) - area) > QUAD_FIT * area:
        return None
    corners = _fitted(outline.reshape(-1, 2).astype(np.float64), _in_order(quad.astype(np.float64)))
    if corners is None or _convergence(corners) < MIN_CONVERGENCE:
        return None
    return corners * step


def _in_order(quad: np.ndarray) -> np.ndarray:
    """Top left, top right, bottom right, bottom left: the corners with the least and most x + y, and those
    with the most and least x - y."""
    total, difference = quad.sum(axis=1), quad[:, 0] - quad[:, 1]
    return quad[[np.argmin(total), np.argmax(difference), np.argmax(total), np.argmin(difference)]]


def _fitted(outline: np.ndarray, corners: np.ndarray) -> np.ndarray | None:
    """The corners where straight lines fitted to the outline's four edges meet. The outline's own corners lie
    inside the sheet's: the median and the sampling round them off (by 10-40 px of a 3000 px photo, and a warp
    to those corners left the lines a little bent); the middle of each edge is straight. None if two edges are
    parallel."""
    lines = []
    for start, end in zip(corners, np.roll(corners, -1, axis=0)):
        along, length = end - start, float(np.linalg.norm(end - start))
        offset = outline - start
        position = offset @ along / length ** 2  # 0 at the edge's start, 1 at its end
        distance = np.abs(offset[:, 0] * along[1] - offset[:, 1] * along[0]) / length
        near = (position > EDGE_MIDDLE) & (position < 1 - EDGE_MIDDLE) & (distance < EDGE_BAND * length)
        if np.count_nonzero(near) < 2:
            return None
        lines.append(cv2.fitLine(outline[near].astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel())
    met = []
    for (dx1, dy1, x1, y1), (dx2, dy2, x2, y2) in zip(np.roll(lines, 1, axis=0), lines):
        across = dx1 * dy2 - dy1 * dx2
        if abs(across) < 1e-6:
            return None
        t = ((x2 - x1) * dy2 - (y2 - y1) * dx2) / across
        met.append((x1 + t * dx1, y1 + t * dy1))
    return np.array(met, dtype=np.float64)


def _convergence(corners: np.ndarray) -> float:
    """The larger of the angles, in degrees, between the top and bottom edges and between the left and right."""
    top_left, top_right, bottom_right, bottom_left = corners
    across = abs(_direction(top_left, top_right) - _direction(bottom_left, bottom_right))
    down = abs(_direction(top_left, bottom_left) - _direction(top_right, bottom_right))
    return max(across, down)


def _direction(start: np.ndarray, end: np.ndarray) -> float:
    """The direction from `start` to `end` in degrees, clockwise from the x axis (rows count downwards)."""
    return math.degrees(math.atan2(end[1] - start[1], end[0] - start[0]))


def _warp(scan: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The quadrilateral `corners` warped to a rectangle as wide as its longer top or bottom edge and as high as its
    longer left or right edge: the sheet's far edges, seen shorter, are brought to the size of its near ones."""
    top_left, top_right, bottom_right, bottom_left = corners
    width = round(max(np.linalg.norm(top_right - top_left), np.linalg.norm(bottom_right - bottom_left)))
    height = round(max(np.linalg.norm(bottom_left - top_left), np.linalg.norm(bottom_right - top_right)))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(scan, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _text_agrees(grey: np.ndarray, corners: np.ndarray) -> bool:
    """Whether the sheet's lines of text converge as its top and bottom edges do: the lines of its upper third
    are turned from those of its lower third the same way, by at least TEXT_SHARE of the edges' angle. A sheet
    whose top and bottom edges are parallel (a photo taken from below or above its middle) has parallel lines
    either way: nothing to check there."""
    top_left, top_right, bottom_right, bottom_left = corners
    edges = _direction(bottom_left, bottom_right) - _direction(top_left, top_right)
    if abs(edges) < MIN_CONVERGENCE:
        return True
    upper, lower = _band_skew(grey, corners, 0.0, 1 / 3), _band_skew(grey, corners, 2 / 3, 1.0)
    if upper is None or lower is None:
        return False
    # Skews are counter-clockwise; the edges' directions, in the image's rows going down, clockwise.
    lines = upper - lower
    return lines * edges > 0 and abs(lines) >= TEXT_SHARE * abs(edges)


def _band_skew(grey: np.ndarray, corners: np.ndarray, start: float, end: float) -> float | None:
    """The skew of the lines of the band of the sheet from `start` to `end` of its height (shares along its left
    and right edges), measured on the band alone; None when it has no lines to measure."""
    top_left, top_right, bottom_right, bottom_left = corners
    band = np.array([top_left + start * (bottom_left - top_left), top_right + start * (bottom_right - top_right),
                     top_right + end * (bottom_right - top_right), top_left + end * (bottom_left - top_left)])
    left, top = np.floor(band.min(axis=0)).astype(int)
    right, bottom = np.ceil(band.max(axis=0)).astype(int) + 1
    part = grey[max(0, top):bottom, max(0, left):right]
    inside = np.zeros(part.shape, np.uint8)
    cv2.fillConvexPoly(inside, np.round(band - [max(0, left), max(0, top)]).astype(np.int32), 1)
    edge = max(3, max(part.shape) // 60)  # the sheet's edges are no lines of text
    inside = cv2.erode(inside, np.ones((edge, edge), np.uint8))
    paper = percentile_of_bytes(part[inside > 0], 90)
    part = np.where(inside > 0, part, paper).astype(np.uint8)
    # The band's edges run at the angle they measure across the text: the letters they cut in two would line
    # up along them (a strip of four lines cut 3 degrees off at its top measured its upper third's lines 2
    # degrees askew, as its edge). Marks touching an edge are left out.
    ink = ink_mask(part)
    _, marks = cv2.connectedComponents(ink, connectivity=8)
    rim = (inside > 0) & (cv2.erode(inside, np.ones((3, 3), np.uint8)) == 0) & (ink > 0)
    part[np.isin(marks, np.unique(marks[rim]))] = paper
    _, ys, _ = letters_of_page(part, SKEW_ANALYSIS_SIDE)
    if len(ys) < MIN_INK_PIXELS:
        return None
    return estimate_skew(part, MAX_SKEW_ANGLE)
