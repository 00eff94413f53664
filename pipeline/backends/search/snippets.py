"""Snippets: a few words of the page around the matches, from the original text, matches in [brackets]."""

from __future__ import annotations

import re
from collections.abc import Callable

from .folding import word_matches

SNIPPET_WORDS = 12
SNIPPET_CHARS = 200


def make_snippet(text: str, is_match: Callable[[str], bool]) -> str:
    return snippet_and_matches(text, is_match)[0]


def snippet_and_matches(text: str, is_match: Callable[[str], bool]) -> tuple[str, tuple[str, ...]]:
    """The snippet, and the distinct words of `text` (as printed) that match, in reading order."""
    found = [(match.span(), is_match(match.group())) for match in word_matches(text)]
    spans = [span for span, _ in found]
    matched = {index for index, (_, hit) in enumerate(found) if hit}
    printed = tuple(dict.fromkeys(text[spans[i][0]:spans[i][1]] for i in sorted(matched)))
    if not spans:
        return _shorten(" ".join(text.split())), ()
    return _snippet(text, spans, matched), printed


def _snippet(text: str, spans: list[tuple[int, int]], matched: set[int]) -> str:
    windows = _windows(sorted(matched), len(spans))
    rendered = [_render(text, spans, window, matched) for window in windows]
    if len(windows) == 2 and sum(map(len, rendered)) + 3 > SNIPPET_CHARS:
        windows, rendered = windows[:1], rendered[:1]
    snippet = " … ".join(rendered)
    if windows[0].start > 0:
        snippet = "… " + snippet
    if windows[-1].stop < len(spans):
        snippet += " …"
    return _shorten(snippet)


def _windows(matches: list[int], word_count: int) -> list[range]:
    """About 12 words from just before the first match; a shorter second one for a later match."""
    first = matches[0] if matches else 0
    start = max(0, min(first - 3, word_count - SNIPPET_WORDS))
    windows = [range(start, min(word_count, start + SNIPPET_WORDS))]
    later = [index for index in matches if index >= windows[0].stop]
    if later:
        second = range(max(windows[0].stop, later[0] - 2), min(word_count, later[0] + 4))
        if second.start == windows[0].stop:  # touching: one window reads better
            windows[0] = range(windows[0].start, second.stop)
        else:
            windows.append(second)
    return windows


def _render(text: str, spans: list[tuple[int, int]], window: range, matched: set[int]) -> str:
    pieces = []
    for index in window:
        start, end = spans[index]
        if pieces:
            pieces.append(re.sub(r"\s+", " ", text[spans[index - 1][1]:start]))
        word = text[start:end]
        pieces.append(f"[{word}]" if index in matched else word)
    return "".join(pieces)


def _shorten(snippet: str) -> str:
    if len(snippet) <= SNIPPET_CHARS:
        return snippet
    return snippet[:SNIPPET_CHARS - 1].rstrip() + "…"
