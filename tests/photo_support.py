"""Synthetic phone photos of real pages, for the perspective tests and bench/photographed.py: a sheet on a brown
table lit from one side, seen by a pinhole camera pointed at its middle."""

from __future__ import annotations

import cv2
import numpy as np

# How the phone is held: tilted back from above the sheet (degrees about its horizontal axis; its top edge is then
# the far one), turned about its upright axis, and turned in the picture.
VIEWS = {
    "tilted": {"pitch": -30.0, "yaw": 0.0, "roll": 2.0},
    "turned": {"pitch": -25.0, "yaw": 22.0, "roll": 3.0},
}


def table(height: int, width: int) -> np.ndarray:
    """A brown table top, darker away from the lamp (RGB)."""
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 0.8 + 0.3 * np.exp(-(((columns - width / 3) / width) ** 2 + ((rows - height / 4) / height) ** 2))
    return np.clip(light[..., None] * np.array([110, 72, 42], np.float32), 0, 255).astype(np.uint8)


def camera_corners(width: int, height: int, size: tuple[int, int], pitch: float, yaw: float,
                   roll: float) -> np.ndarray:
    """Where the camera sees the corners (top left, top right, bottom right, bottom left) of a width x height
    sheet in a photo of `size` (width, height), the sheet filling about 80 % of it: turned by `pitch` about its
    horizontal axis, `yaw` about its upright one and `roll` in its plane, seen from two sheet heights away (the
    focal length then about 0.8 of the photo's diagonal, a phone's main camera's)."""
    corners = np.array([[-width, -height, 0], [width, -height, 0], [width, height, 0], [-width, height, 0]]) / 2.0
    p, y, r = np.radians([pitch, yaw, roll])
    turn_x = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    turn_y = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    turn_z = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    seen = corners @ (turn_z @ turn_y @ turn_x).T + [0, 0, 2.0 * max(width, height)]
    projected = seen[:, :2] / seen[:, 2:]  # on a screen one unit away
    spread = (projected.max(axis=0) - projected.min(axis=0)).max()
    return projected * 0.8 * min(size) / spread + np.array(size) / 2  # the scale is the focal length in pixels


def photographed(page: np.ndarray, view: dict[str, float]) -> np.ndarray:
    """`page` (grey or RGB) photographed on the table as `view` says (see VIEWS), in a photo 1.25 times its size
    (RGB)."""
    page = cv2.cvtColor(page, cv2.COLOR_GRAY2RGB) if page.ndim == 2 else page
    height, width = page.shape[:2]
    size = (round(width * 1.25), round(height * 1.25))
    corners = camera_corners(width, height, size, **view).astype(np.float32)
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    matrix = cv2.getPerspectiveTransform(source, corners)
    sheet = cv2.warpPerspective(page, matrix, size, flags=cv2.INTER_AREA)
    inside = cv2.warpPerspective(np.full((height, width), 255, np.uint8), matrix, size, flags=cv2.INTER_AREA)
    share = inside[..., None].astype(np.float32) / 255
    return (share * sheet + (1 - share) * table(size[1], size[0])).round().astype(np.uint8)


def cut_crooked(page: np.ndarray, margin: int = 0) -> np.ndarray:
    """`page` (RGB), `margin` px of its paper added above it, its top cut 3 degrees off, lying straight on the
    table (RGB)."""
    paper = np.percentile(page.reshape(-1, 3), 90, axis=0).astype(np.uint8)
    page = np.concatenate([np.broadcast_to(paper, (margin, page.shape[1], 3)), page])
    height, width = page.shape[:2]
    cut = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(cut, np.int32([[0, 0], [width, round(width * np.tan(np.radians(3)))], [width, height],
                                      [0, height]]), 255)
    canvas = table(height + 400, width + 400)
    canvas[200:200 + height, 200:200 + width][cut > 0] = page[cut > 0]
    return canvas
