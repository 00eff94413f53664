"""Show-through: a page whose reading came out poor is read once more with the reverse side's text whitened.

Thin paper shows the print of its back as grey mirrored letters, which Tesseract reads as lines of gibberish
or lets break up the real lines (the DIBCO 2011 Fraktur strips: CER 0.42 and 0.59 read as cleaned; with the
show-through whitened 0.17 and 0.23). Whitening it (cleanup.photometric.whiten_show_through: grey marks without
an ink core) is not safe on every page: on a faded typescript the ink itself is grey and whole letters went
(faded scan variants of the corpus: mean CER 0.087 -> 0.167, one page 0.106 -> 0.976). So the default profile
does not whiten while cleaning. After a poor first reading (quality below the profile's
`quality.show_through_check_below`) of a page that shows such marks, the page is read again with them
whitened, and the reading with the higher quality score is kept. The score is not a sure judge: of the 216
scan variants of the corpus's real pages two readings were replaced, one for the better (Kant as a low-quality
JPEG: 0.078 -> 0.068) and one for the worse (Kant speckled: 0.057 -> 0.072, while its score rose 0.79 -> 0.85).
"""

from __future__ import annotations

import numpy as np

from ..profiles import CleanProfile
from .cleanup.photometric import NEAR_CORE_PX, whiten_show_through


def without_show_through(page: np.ndarray, profile: CleanProfile, text_height: int | None) -> np.ndarray | None:
    """The OCR image `page` (its letters `text_height` px high, if measured) with its show-through whitened, to
    be read again; None when it shows no show-through. The caller asks only after a poor reading."""
    # The letters' size says the image's scale: NEAR_CORE_PX is at 300 dpi, where letters are about the
    # target size.
    scale = text_height / profile.resolution.target_text_px if text_height else 1.0
    return whiten_show_through(page, profile.show_through.min_share, max(1, round(NEAR_CORE_PX * scale)))
