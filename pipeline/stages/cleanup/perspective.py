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

from .geometry import MIN_INK_PIXELS, SKEW_ANALYSIS_SIDE, estimate_skew, rotate
from .measure import ink_mask, letters_of_page, percentile_of_bytes, text_height
from .work import to_grey

OUTLINE_SIDE = 500  # px, longer side of the copy the outline is looked for on (a corner found within ~0.2 %)
FRAME = 3  # px of that copy: its outer frame is the background, darker than the paper, or no sheet lies on it
MIN_CONVERGENCE = 1.5  # degrees between two opposite edges: less is a scan's skew or a sheet's crooked cut
TEXT_SHARE = 0.3  # of the edges' angle: the text of the sheet's opposite thirds is turned this far apart at least
LETTER_SHARE = 0.5  # of the width's change (logarithms): the letters' size changes this much at least, and
MAX_LETTER_SHARE = 5  # at most this much (more is the page's own: a heading above, small print below)
MIN_SHEET_SHARE = 0.15  # of the image: a smaller bright quadrilateral is no photographed sheet (one turned 45
# degrees in the picture fills 16 % of it)
QUAD_FIT = 0.02  # the outline's hull may reach out of its four edges by this share of their area ...
MISSING_SHARE = 0.08  # ... and the sheet may miss this share of it (a corner folded or curled, a thumb)
OTHER_SHEET_SHARE = 0.25  # of the sheet: a second bright region as large is a second sheet
EDGE_SUPPORT, SUPPORT_BINS = 0.6, 50  # share of each edge's length the outline must run along
EDGE_MIDDLE, EDGE_BAND = 0.1, 0.03  # an edge's line is fitted to the outline along its middle, this close to it
BAND_SKEW_RANGE = 10  # degrees either way a band's text is looked for from the sheet's direction
MIN_FOCAL, MAX_FOCAL = 0.3, 3.0  # a camera's focal length, in the photo's diagonals (wide angle to 3x tele)
PHONE_FOCAL = 0.85  # a phone's main camera's (26 mm for 35 mm film), where it cannot be found
PARALLEL = 1e-6  # the vanishing directions' depths' product (the method's n23 n33) under which it is not
SHEET_TURN = 3  # degrees: a sheet turned less in the photo is measured as it lies (see _sheet_turn)


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
    contours = sorted(contours, key=cv2.contourArea, reverse=True)
    outline, area = contours[0], cv2.contourArea(contours[0])
    if area < MIN_SHEET_SHARE * small.size:
        return None
    if len(contours) > 1 and cv2.contourArea(contours[1]) >= OTHER_SHEET_SHARE * area:
        return None  # two sheets side by side: warping one of them cut the other from the page and its text
    # Four corners of the outline's convex hull, where lines fitted along its edges meet: a corner folded or
    # curled, a thumb over an edge, bite into the outline, not into its hull, and leave its edges straight.
    hull = cv2.convexHull(outline)
    quad = _four_corners(hull)
    if quad is None:
        return None
    points = outline.reshape(-1, 2).astype(np.float64)
    corners = _fitted(points, _in_order(quad.astype(np.float64)))
    if corners is None:
        return None
    sheet = cv2.contourArea(corners.astype(np.float32))
    if cv2.contourArea(hull) > (1 + QUAD_FIT) * sheet or area < (1 - MISSING_SHARE) * sheet:
        return None  # no four straight edges (a torn or irregular sheet), or too much of it missing
    if not all(_supported(points, start, end) for start, end in zip(corners, np.roll(corners, -1, axis=0))):
        return None
    if _convergence(corners) < MIN_CONVERGENCE:
        return None
    return corners * step


def _four_corners(hull: np.ndarray) -> np.ndarray | None:
    """The hull simplified to four points (Douglas-Peucker, tolerance raised from 1 % of its perimeter until four
    are left), or None when it never has exactly four."""
    perimeter = cv2.arcLength(hull, True)
    for tolerance in (0.01, 0.02, 0.03, 0.04, 0.05):
        quad = cv2.approxPolyDP(hull, tolerance * perimeter, True).reshape(-1, 2)
        if len(quad) == 4:
            return quad
        if len(quad) < 4:
            return None
    return None


def _supported(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> bool:
    """Whether the outline runs along the edge from `start` to `end` for EDGE_SUPPORT of its length: an edge
    drawn across a missing part (a torn corner's diagonal, a bite) is not one of the sheet's."""
    position, distance, length = _along_edge(points, start, end)
    near = position[(distance < max(2.0, EDGE_BAND * length / 3)) & (position >= 0) & (position <= 1)]
    covered = np.unique(np.clip((near * SUPPORT_BINS).astype(int), 0, SUPPORT_BINS - 1))
    return len(covered) >= EDGE_SUPPORT * SUPPORT_BINS


def _in_order(quad: np.ndarray) -> np.ndarray:
    """Top left, top right, bottom right, bottom left: the corners clockwise (as seen, rows counting down) from the
    one with the least x + y. Told by x + y and x - y alone, a sheet turned 45 degrees had one corner twice."""
    centre = quad.mean(axis=0)
    clockwise = quad[np.argsort(np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0]))]
    return np.roll(clockwise, -int(np.argmin(clockwise.sum(axis=1))), axis=0)


def _fitted(outline: np.ndarray, corners: np.ndarray) -> np.ndarray | None:
    """The corners where straight lines fitted to the outline's four edges meet. The outline's own corners lie
    inside the sheet's: the median and the sampling round them off (by 10-40 px of a 3000 px photo, and a warp
    to those corners left the lines a little bent); the middle of each edge is straight. None if two edges are
    parallel."""
    lines = []
    for start, end in zip(corners, np.roll(corners, -1, axis=0)):
        position, distance, length = _along_edge(outline, start, end)
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


def _along_edge(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Where `points` lie along the edge from `start` to `end` (0 at its start, 1 at its end), how far from its
    line (px), and the edge's length."""
    along, length = end - start, float(np.linalg.norm(end - start))
    offset = points - start
    position = offset @ along / length ** 2
    distance = np.abs(offset[:, 0] * along[1] - offset[:, 1] * along[0]) / length
    return position, distance, length


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
    """The quadrilateral `corners` warped to the rectangle the sheet is: its width to height as the camera saw
    them (`sheet_aspect`), as large as its nearest edges are in the photo (no part of it is reduced)."""
    top_left, top_right, bottom_right, bottom_left = corners
    width = max(np.linalg.norm(top_right - top_left), np.linalg.norm(bottom_right - bottom_left))
    height = max(np.linalg.norm(bottom_left - top_left), np.linalg.norm(bottom_right - top_right))
    aspect = sheet_aspect(corners, scan.shape) or width / height
    width = max(width, height * aspect)
    width, height = round(width), round(width / aspect)
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(scan, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def sheet_aspect(corners: np.ndarray, shape: tuple[int, ...]) -> float | None:
    """The sheet's width over its height, from the four corners of its photo (top left, top right, bottom right,
    bottom left), for a camera whose optical axis meets the photo's middle and whose pixels are square: the method
    of Zhang and He ("Whiteboard scanning and image enhancement", 2007), which also finds the camera's focal
    length. Written by hand: OpenCV finds homographies, not a rectangle's proportions. The lengths of the edges
    alone say little: a sheet photographed from near its foot came out a third too short (a 1.6 high page
    1.1). None where the method has nothing to go on (two edges parallel in the photo) or finds a focal length no
    camera has (a photo cut down to the sheet, a warp that no camera made): then the edges' lengths serve."""
    height, width = shape[:2]
    centre_x, centre_y = width / 2, height / 2
    m1, m2, m4, m3 = (np.array([x, y, 1.0]) for x, y in corners)  # the paper's m1 m2 m3 m4: tl, tr, bl, br
    try:
        k2 = np.dot(np.cross(m1, m4), m3) / np.dot(np.cross(m2, m4), m3)
        k3 = np.dot(np.cross(m1, m4), m2) / np.dot(np.cross(m3, m4), m2)
    except FloatingPointError:
        return None
    n2, n3 = k2 * m2 - m1, k3 * m3 - m1
    if not np.all(np.isfinite(n2)) or not np.all(np.isfinite(n3)):
        return None
    diagonal = math.hypot(width, height)
    if abs(n2[2] * n3[2]) < PARALLEL:
        # Two opposite edges parallel (a sheet seen from straight in front of one edge): the focal length cannot
        # be found, a phone's main camera's is taken.
        focal = PHONE_FOCAL * diagonal
    else:
        focal_squared = -((n2[0] * n3[0] - (n2[0] * n3[2] + n2[2] * n3[0]) * centre_x + n2[2] * n3[2] * centre_x ** 2)
                          + (n2[1] * n3[1] - (n2[1] * n3[2] + n2[2] * n3[1]) * centre_y
                             + n2[2] * n3[2] * centre_y ** 2)) / (n2[2] * n3[2])
        if not (MIN_FOCAL * diagonal) ** 2 <= focal_squared <= (MAX_FOCAL * diagonal) ** 2:
            return None
        focal = math.sqrt(focal_squared)
    inverse = np.linalg.inv(np.array([[focal, 0, centre_x], [0, focal, centre_y], [0, 0, 1.0]]))
    across, down = inverse @ n2, inverse @ n3
    return math.sqrt(float(across @ across) / float(down @ down))


def _text_agrees(grey: np.ndarray, corners: np.ndarray) -> bool:
    """Whether the sheet's text converges as its edges do, where they converge by MIN_CONVERGENCE or more. A sheet
    cut crooked, a ruler or a book's gutter shadow along a scan's edge, has the outline of a photo taken askew,
    but straight text: its lines and strokes run alike from side to side, its letters are as large at both ends.

    Top and bottom edges converging: the lines of the upper third are turned from those of the lower third the
    same way, by at least TEXT_SHARE of the edges' angle. Sides converging: so are the upright strokes (letters'
    stems, a typewriter's columns, the margins) of the left third from those of the right third, or the letters
    of the upper third are smaller than those of the lower as the sheet is narrower there (by LETTER_SHARE to
    MAX_LETTER_SHARE of it, in logarithms, and by 2 px: a pixel is a tenth of a small letter). Stems are a weak
    measure on proportional print; a sheet seen from near its bottom edge shows its far letters smaller."""
    top_left, top_right, bottom_right, bottom_left = corners
    across = _direction(bottom_left, bottom_right) - _direction(top_left, top_right)
    down = _direction(top_left, bottom_left) - _direction(top_right, bottom_right)
    if abs(across) >= MIN_CONVERGENCE:
        turn = _sheet_turn((top_left, top_right), (bottom_left, bottom_right), upright=False)
        lines = (_band_skew(grey, _band(corners, 0.0, 1 / 3, across=False), False, turn),
                 _band_skew(grey, _band(corners, 2 / 3, 1.0, across=False), False, turn))
        if not _turned_as(lines, across):
            return False
    if abs(down) >= MIN_CONVERGENCE:
        turn = _sheet_turn((top_left, bottom_left), (top_right, bottom_right), upright=True)
        strokes = (_band_skew(grey, _band(corners, 0.0, 1 / 3, across=True), True, turn),
                   _band_skew(grey, _band(corners, 2 / 3, 1.0, across=True), True, turn))
        if not _turned_as(strokes, down) and not _letters_shrink(grey, corners):
            return False
    return True


def _turned_as(skews: tuple[float | None, float | None], edges: float) -> bool:
    """Whether the text of two bands (their skews, counter-clockwise) is turned as the edges around them are
    (`edges`: the difference of their directions, clockwise as rows count down), by TEXT_SHARE of it at least. The
    lines of the upper band lie at minus its skew; the strokes of the left band, on its side, likewise."""
    first, last = skews
    if first is None or last is None:
        return False
    turned = first - last
    return turned * edges > 0 and abs(turned) >= TEXT_SHARE * abs(edges)


def _letters_shrink(grey: np.ndarray, corners: np.ndarray) -> bool:
    """Whether the letters of the sheet's upper and lower thirds differ in size as its width there does."""
    top_left, top_right, bottom_right, bottom_left = corners
    top_width, bottom_width = np.linalg.norm(top_right - top_left), np.linalg.norm(bottom_right - bottom_left)
    upper_width, lower_width = (5 * top_width + bottom_width) / 6, (top_width + 5 * bottom_width) / 6  # mid-band
    heights = []
    for band in (_band(corners, 0.0, 1 / 3, across=False), _band(corners, 2 / 3, 1.0, across=False)):
        part = _band_part(grey, band)
        heights.append(text_height(part) if part is not None else None)
    upper, lower = heights
    if not upper or not lower or abs(upper - lower) < 2:
        return False
    letters, widths = math.log(upper / lower), math.log(upper_width / lower_width)
    return letters * widths > 0 and LETTER_SHARE * abs(widths) <= abs(letters) <= MAX_LETTER_SHARE * abs(widths)


def _band(corners: np.ndarray, start: float, end: float, across: bool) -> np.ndarray:
    """The quadrilateral of the sheet from `start` to `end` of its height (shares along its left and right
    edges), or with `across`, of its width (along its top and bottom edges)."""
    top_left, top_right, bottom_right, bottom_left = corners

    def at(a: np.ndarray, b: np.ndarray, share: float) -> np.ndarray:
        return a + share * (b - a)

    if across:
        return np.array([at(top_left, top_right, start), at(top_left, top_right, end),
                         at(bottom_left, bottom_right, end), at(bottom_left, bottom_right, start)])
    return np.array([at(top_left, bottom_left, start), at(top_right, bottom_right, start),
                     at(top_right, bottom_right, end), at(top_left, bottom_left, end)])


def _band_skew(grey: np.ndarray, band: np.ndarray, upright: bool, turn: float) -> float | None:
    """The skew of the lines of text in the quadrilateral `band` of the sheet, measured on the band alone; with
    `upright`, the skew of its upright strokes (the letters' stems, a typewriter's columns, the margins): the skew
    of the band turned on its side. None when it has nothing to measure. `turn`: the band is first turned back by
    this skew (the sheet's, see `_sheet_turn`), and its text measured from there."""
    part = _band_part(grey, band)
    if part is None:
        return None
    if upright:
        part = np.ascontiguousarray(part.T)
    if turn:
        part = rotate(part, -turn, percentile_of_bytes(part, 90))
    _, ys, _ = letters_of_page(part, SKEW_ANALYSIS_SIDE)
    if len(ys) < MIN_INK_PIXELS:
        return None
    return estimate_skew(part, BAND_SKEW_RANGE) + turn


def _band_part(grey: np.ndarray, band: np.ndarray) -> np.ndarray | None:
    """The quadrilateral `band` of `grey` on paper: cut out, what lies outside it the paper's colour, and the marks
    its edges cut through left out. The band's edges run at the angle they measure across the text: the letters
    they cut in two lined up along them (a strip of four lines cut 3 degrees off at its top measured its upper
    third's lines 2 degrees askew, as its edge). None when the band is too thin to hold any."""
    left, top = np.maximum(np.floor(band.min(axis=0)).astype(int), 0)
    right, bottom = np.ceil(band.max(axis=0)).astype(int) + 1
    part = grey[top:bottom, left:right]
    inside = np.zeros(part.shape, np.uint8)
    cv2.fillConvexPoly(inside, np.round(band - [left, top]).astype(np.int32), 1)
    edge = max(3, max(part.shape) // 60)  # the sheet's edges are no lines of text
    inside = cv2.erode(inside, np.ones((edge, edge), np.uint8))
    if not inside.any():
        return None
    paper = percentile_of_bytes(part[inside > 0], 90)
    part = np.where(inside > 0, part, paper).astype(np.uint8)
    ink = ink_mask(part)
    _, marks = cv2.connectedComponents(ink, connectivity=8)
    rim = (inside > 0) & (cv2.erode(inside, np.ones((3, 3), np.uint8)) == 0) & (ink > 0)
    part[np.isin(marks, np.unique(marks[rim]))] = paper
    return part


def _sheet_turn(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray], upright: bool) -> float:
    """The skew by which the bands between two opposite edges are turned back before they are measured: the
    edges' mean direction as a skew (of the bands turned on their side for `upright`), 0 when it is under
    SHEET_TURN. A sheet turned 38 degrees in the photo had its lines near the end of the skew search's range, and
    its upright strokes were measured 5 and 38 degrees askew on its two sides. Near 0 the bands are measured as
    they are: turned, their letters blur a little, and a book's gutter shadow then outweighed their stems."""
    if upright:  # turned on its side, a band's left and right edges run as its lines (x and y swapped)
        first, second = tuple(point[::-1] for point in first), tuple(point[::-1] for point in second)
    direction = (_direction(*first) + _direction(*second)) / 2  # clockwise, as rows count down
    return -direction if abs(direction) >= SHEET_TURN else 0.0
