"""Where on the page image a search hit is: the OCR word boxes of the words that matched.

Kept out of the search backends: they return the printed words that matched (`SearchHit.matches`), and the
boxes come from the page's hOCR in the archive, the same way for every backend.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import replace

from .archive import Archive
from .backends.search.folding import fold, word_matches
from .backends.search.protocol import SearchHit, SearchResults, WordBox
from .corrections import page_hocr_path
from .hocr import read_hocr

log = logging.getLogger(__name__)


def with_word_boxes(archive: Archive, results: SearchResults) -> SearchResults:
    return replace(results, hits=tuple(_locate(archive, hit) for hit in results.hits))


def _locate(archive: Archive, hit: SearchHit) -> SearchHit:
    hocr = page_hocr_path(archive, hit.document, hit.page)  # corrected words are where staff put them
    if not hit.matches or not hocr.is_file():
        return hit
    try:
        page = read_hocr(hocr)
    except ET.ParseError as exc:  # the hit is still shown, without boxes; `show` and the viewer name the file
        log.warning("%s is damaged (%s): the hit on page %s is shown without its word boxes", hocr, exc, hit.page)
        return hit
    boxed = _matched_words([[fold(part.group()) for part in word_matches(word.text)] for word in page.words],
                           hit.matches)
    boxes = tuple(WordBox(word.text, *word.bbox) for index, word in enumerate(page.words) if index in boxed)
    return replace(hit, boxes=boxes, page_width=page.size[0], page_height=page.size[1])


def _matched_words(words: list[list[str]], matches: tuple[str, ...]) -> set[int]:
    """Indexes of the OCR words (each as its folded parts: an OCR word may carry punctuation, "Primăria,", or be
    two words joined by a hyphen) that are a match: a single word's wherever it stands, a phrase's (a match of
    several words) only where its words follow each other."""
    singles, phrases = set(), []
    for match in matches:
        tokens = [fold(part.group()) for part in word_matches(match)]
        if len(tokens) == 1:
            singles.update(tokens)
        elif tokens:
            phrases.append(tokens)
    found = {index for index, parts in enumerate(words) if not singles.isdisjoint(parts)}
    flat = [(index, part) for index, parts in enumerate(words) for part in parts]
    for tokens in phrases:
        for start in range(len(flat) - len(tokens) + 1):
            if [part for _, part in flat[start:start + len(tokens)]] == tokens:
                found.update(index for index, _ in flat[start:start + len(tokens)])
    return found
