"""Snippets: a few words of the page around the matches, from the original text, matches in [brackets].

A bracket or backslash of the page's own text is written \\[, \\] or \\\\, so that "[sic]" on the page is
not read as a match (portal.labels.snippet_html reads the snippet so)."""

from __future__ import annotations

import re
from collections.abc import Callable

from .folding import split_words

SNIPPET_WORDS = 12
SNIPPET_CHARS = 200
_SPACE = re.compile(r"\s+")
# A form's dotted or underlined line to fill in: its 40-85 dots took the snippet's room, and the match was cut.
_FILL_IN = re.compile(r"([._·…-])\1{3,}")
_UNESCAPED_OPEN = re.compile(r"(?<!\\)(?:\\\\)*\[(?!.*(?<!\\)(?:\\\\)*\[)", re.DOTALL)  # the last mark's opening


def make_snippet(text: str, is_match: Callable[[str], bool]) -> str:
    """The snippet of `text` with the words `is_match` takes marked."""
    pieces = split_words(text)
    return marked_snippet(pieces, judged(pieces, is_match))[0]


def judged(pieces: list[str], is_match: Callable[[str], bool]) -> list[bool]:
    """A flag per word of `pieces` (a text cut by `split_words`): a page repeats its words, each is judged once."""
    printed = pieces[1::2]
    verdict = {word: is_match(word) for word in set(printed)}
    return [verdict[word] for word in printed]


def marked_snippet(pieces: list[str], matched_flags: list[bool],
                   phrases: list[range] = ()) -> tuple[str, tuple[str, ...]]:
    """The snippet of a text cut by `split_words` (between-words, word, ..., between-words), with a flag per
    word, and the distinct matches as printed, in reading order; the words of each of `phrases` (runs of word
    indexes) are one match, as printed with a space between them."""
    printed = pieces[1::2]
    if not printed:
        return _shorten(_escaped(" ".join("".join(pieces).split()))), ()
    matched = {index for index, flag in enumerate(matched_flags) if flag}
    in_phrases = {index for run in phrases for index in run}
    found = [(index, printed[index]) for index in matched - in_phrases]
    found += [(run.start, " ".join(printed[index] for index in run)) for run in phrases]
    matches = tuple(dict.fromkeys(text for _, text in sorted(found)))
    return _snippet(pieces, len(printed), matched), matches


def _snippet(pieces: list[str], word_count: int, matched: set[int]) -> str:
    windows = _windows(sorted(matched), word_count)
    rendered = [_render(pieces, window, matched) for window in windows]
    if len(windows) == 2 and sum(map(len, rendered)) + 3 > SNIPPET_CHARS:
        windows, rendered = windows[:1], rendered[:1]
    snippet = " … ".join(rendered)
    if windows[0].start > 0:
        snippet = "… " + snippet
    if windows[-1].stop < word_count:
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


def _render(pieces: list[str], window: range, matched: set[int]) -> str:
    out = []
    for index in window:
        if out:
            between = _FILL_IN.sub("…", _SPACE.sub(" ", pieces[2 * index]))  # what stands between it and the last
            out.append(_escaped(between))
        word = pieces[2 * index + 1]
        out.append(f"[{word}]" if index in matched else word)
    return "".join(out)


def _escaped(text: str) -> str:
    """The page's own brackets and backslashes, escaped (words are letters and digits: they have none)."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _shorten(snippet: str) -> str:
    if len(snippet) <= SNIPPET_CHARS:
        return snippet
    cut = snippet[:SNIPPET_CHARS - 1].rstrip()
    if (len(cut) - len(cut.rstrip("\\"))) % 2:
        cut = cut[:-1]  # an escape cut in half: its backslash would escape the ellipsis
    opened = _UNESCAPED_OPEN.search(cut)
    if opened and "]" not in cut[opened.start():]:
        cut = cut[:opened.start()].rstrip()  # a mark cut in half ("[Primă…"): the reader saw a bare bracket
    return cut + "…"
