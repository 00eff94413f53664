"""Derive a document's metadata from its OCR text: confidence, dates, a title guess and a document type.

Dates: see stages.dates.
Document type: keyword phrases from configs/doctypes.yaml, matched on diacritic-folded lowercase text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config_yaml import read_yaml_file
from ..errors import UsageError, validation_problems
from ..model import DocumentMetadata, PageText
from .dates import find_dates

UNKNOWN_TYPE = "unknown"
NAMING_WEIGHT = 3  # a phrase of this weight names the document type on its own (configs/doctypes.yaml)
HINT_WEIGHT = 2  # ... of this weight is a strong hint; lighter ones are words common elsewhere too ...
COMMON_WORDS_THAT_DECIDE = 3  # ... which decide a type only when this many different ones are found


# ---------------------------------------------------------------- document-type rules


class Phrase(BaseModel):
    """A keyword phrase and how much it says about a type. A trailing `*` on a word allows any ending."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    text: str = Field(min_length=1)
    weight: float = Field(gt=0)


class DocType(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1)
    description: str = ""
    phrases: tuple[Phrase, ...] = Field(min_length=1)


class DocTypeRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    min_score: float = Field(default=3, gt=0)
    # One phrase repeated on every page (a letterhead, "primăria") must not outvote a strong phrase.
    max_hits_per_phrase: int = Field(default=3, ge=1)
    types: tuple[DocType, ...] = ()


def load_doctype_rules(path: Path) -> DocTypeRules:
    """Read document-type rules from YAML (see configs/doctypes.yaml for the layout)."""
    data = read_yaml_file(path, "document-type rules") or {}
    if not isinstance(data, dict) or not isinstance(data.get("types", {}), dict):
        raise UsageError(f"{path}: expected a mapping with `types:` mapping type names to their phrases")
    if unknown := set(data) - set(DocTypeRules.model_fields):  # a misspelt key's value was never used
        raise UsageError(f"{path}: unknown setting(s): {', '.join(sorted(map(str, unknown)))} (known: "
                         f"{', '.join(DocTypeRules.model_fields)})")
    try:
        return DocTypeRules(
            min_score=data.get("min_score", 3),
            max_hits_per_phrase=data.get("max_hits_per_phrase", 3),
            types=tuple(_doc_type(name, body or {}) for name, body in data.get("types", {}).items()),
        )
    except ValidationError as exc:
        raise UsageError(f"{path}: invalid document-type rules: {validation_problems(exc)}") from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path}: invalid document-type rules: {exc}") from exc


def _doc_type(name: str, body: dict) -> DocType:
    if unknown := set(body) - {"description", "phrases"}:
        raise ValueError(f"type {name}: unknown setting(s): {', '.join(sorted(map(str, unknown)))} (known: "
                         "description, phrases)")
    # The same phrase written with and without diacritics is one phrase after folding: keep it once.
    phrases: dict[str, Phrase] = {}
    for text, weight in (body.get("phrases") or {}).items():
        key = _fold(str(text))
        if key not in phrases or phrases[key].weight < weight:
            phrases[key] = Phrase(text=str(text), weight=weight)
    if name == UNKNOWN_TYPE:
        raise ValueError(f"`{UNKNOWN_TYPE}` is reserved for documents no rule matches")
    return DocType(name=name, description=body.get("description", ""), phrases=tuple(phrases.values()))


# ---------------------------------------------------------------- the stage


def extract_metadata(pages: Sequence[PageText], languages: Sequence[str], rules: DocTypeRules) -> DocumentMetadata:
    """Metadata of one document from its pages in reading order; `languages` are Tesseract codes."""
    title = _guess_title(pages[0], rules) if pages else ""
    doc_type, reason, scores = _classify(pages, title, rules)
    return DocumentMetadata(
        page_count=len(pages),
        languages=tuple(languages),
        mean_confidence=_mean_confidence(pages),
        dates=find_dates(pages, languages),
        title=title,
        doc_type=doc_type,
        doc_type_reason=reason,
        extra={"doc_type_scores": scores},
    )


def _mean_confidence(pages: Sequence[PageText]) -> float:
    """Same weighting as PageText.mean_confidence (word length), over all the document's words."""
    words = [w for page in pages for w in page.words if w.conf >= 0]
    total_length = sum(len(w.text) for w in words)
    return sum(len(w.text) * w.conf for w in words) / total_length if total_length else 0.0


def _fold(text: str) -> str:
    """Lowercase without diacritics, so 'Autorizație' matches 'AUTORIZATIE'. Private: a shared one will replace it."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # ł and ґ are letters of their own, not letters with a combining mark, so NFKD leaves them alone.
    return stripped.casefold().translate(_EXTRA_FOLDS)


_EXTRA_FOLDS = str.maketrans({"ł": "l", "ґ": "г"})


# ---------------------------------------------------------------- title

_TITLE_SEARCH_LINES = 15  # titles sit in the header; deeper lines are body text
_TITLE_MAX_CHARS = 120
_TITLE_MIN_LETTER_SHARE = 0.6  # below this a line is mostly numbers and punctuation ("Nr. 1234/12.04.1975")
_TITLE_MIN_CONFIDENCE = 50.0  # Tesseract confidence below which a line is likely misread


def _guess_title(page: PageText, rules: DocTypeRules) -> str:
    """A readable header line of the first page, preferring one that names the document type."""
    # Without control and format characters (NUL, zero-width spaces): the PDF's XMP cannot hold them, and the
    # catalog's title should say what the PDF's does.
    lines = [" ".join("".join(c for c in line if unicodedata.category(c) not in ("Cc", "Cf")).split())
             for line in page.text.splitlines()]
    lines = [line for line in lines if line][:_TITLE_SEARCH_LINES]
    confidences = _line_confidences(lines, page)
    # A common word ("primăria") does not make a title: it took a line from the middle of the text.
    candidates = [(line, weight if (weight := _strongest_keyword(line, rules)) >= HINT_WEIGHT else 0.0)
                  for line, confidence in zip(lines, confidences) if _readable(line, confidence)]
    # A one-word line is usually a stray word ("ROMÂNIA"), unless it names the type ("Baugenehmigung").
    candidates = [(line, weight) for line, weight in candidates
                  if _word_count(line) >= 2 or weight >= rules.min_score]
    if not candidates:
        return ""
    # max() keeps the first of equal weights, so the topmost line wins ties, and wins when no line has a keyword.
    best, _ = max(candidates, key=lambda candidate: candidate[1])
    return _shorten(best, _TITLE_MAX_CHARS)


def _readable(line: str, confidence: float | None) -> bool:
    visible = [ch for ch in line if not ch.isspace()]
    letters = sum(ch.isalpha() for ch in visible)
    if letters < _TITLE_MIN_LETTER_SHARE * len(visible):
        return False
    return confidence is None or confidence >= _TITLE_MIN_CONFIDENCE


def _word_count(line: str) -> int:
    return sum(any(ch.isalpha() for ch in token) for token in line.split())


def _line_confidences(lines: list[str], page: PageText) -> list[float | None]:
    """Mean confidence per text line, found by walking the OCR words in step with the line's tokens.

    PageText keeps no line structure, so a token is paired with the next OCR word of the same text
    (looking a few words ahead to step over words the text rendering dropped). None: no word found.
    """
    words = [w for w in page.words if w.conf >= 0]
    cursor = 0
    result: list[float | None] = []
    for line in lines:
        matched = []
        for token in line.split():
            ahead = next((i for i in range(cursor, min(cursor + 8, len(words))) if words[i].text == token), None)
            if ahead is not None:
                matched.append(words[ahead])
                cursor = ahead + 1
        weights = sum(len(w.text) for w in matched)
        result.append(sum(len(w.text) * w.conf for w in matched) / weights if weights else None)
    return result


def _strongest_keyword(line: str, rules: DocTypeRules) -> float:
    """Weight of the strongest phrase in the line: the strongest, not the sum, so long body lines don't win."""
    folded = _fold(line)
    return max((p.weight for t in rules.types for p in t.phrases if _phrase_pattern(p.text).search(folded)),
               default=0.0)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


# ---------------------------------------------------------------- document type


@lru_cache(maxsize=4096)
def _phrase_pattern(phrase: str) -> re.Pattern:
    """Whole words, any whitespace (line breaks too) between them; `word*` allows any ending; `a | b` is either
    (the forms of one word, counted as one phrase).

    A hyphen may have spaces or a line break around it: OCR and typists split "vânzare - cumpărare".
    """
    forms = [r"\s+".join(_word_pattern(word) for word in form.split()) for form in _fold(phrase).split("|")]
    return re.compile(r"(?<!\w)(?:" + "|".join(forms) + r")(?!\w)")


def _word_pattern(word: str) -> str:
    parts = r"\s*-\s*".join(re.escape(part) for part in word.rstrip("*").split("-"))
    return parts + (r"\w*" if word.endswith("*") else "")


def _classify(pages: Sequence[PageText], title: str, rules: DocTypeRules) -> tuple[str, str, dict[str, float]]:
    """(type, reason, score per type). A phrase naming the type counts a second time in the title: a title says most."""
    text = _fold("\n".join(page.text for page in pages))
    folded_title = _fold(title)
    scores: dict[str, float] = {}
    reasons: dict[str, str] = {}
    decided: dict[str, bool] = {}  # whether what was found may decide the type (see _score)
    for doc_type in rules.types:
        scores[doc_type.name], reasons[doc_type.name], decided[doc_type.name] = _score(
            doc_type, text, folded_title, rules)
    if not any(scores.values()):
        return UNKNOWN_TYPE, "no keyword phrase matched", scores
    # Common words alone decide nothing: "Primăria" in any record of a town hall filed a press release as a
    # building permit. The type they lead is passed over for one with a real hint (a list of aid recipients on
    # the town hall's letterhead is still the council decision it names).
    candidates = {name: score for name, score in scores.items() if decided[name]}
    if not candidates:
        best = max(scores, key=scores.get)
        why = f"< min_score {rules.min_score:g}" if scores[best] < rules.min_score else "from common words only"
        return UNKNOWN_TYPE, f"best was {best} at {scores[best]:g} {why}: {reasons[best]}", scores
    best_score = max(candidates.values())
    tied = [name for name, score in candidates.items() if score == best_score]
    if len(tied) > 1:
        # Two types equally likely: saying "unknown" is more honest than picking by file order.
        return UNKNOWN_TYPE, f"tie at score {best_score:g} between {', '.join(tied)}", scores
    best = tied[0]
    if best_score < rules.min_score:
        return UNKNOWN_TYPE, f"best was {best} at {best_score:g} < min_score {rules.min_score:g}: {reasons[best]}", scores
    return best, f"{reasons[best]}; score {best_score:g}", scores


def _score(doc_type: DocType, text: str, title: str, rules: DocTypeRules) -> tuple[float, str, bool]:
    """(score, which phrases matched, whether they may decide the type: one of weight 2 or more, or at least
    three different common words: seller, buyer and notary make a deed; the town hall and a beneficiary do not
    make a permit)."""
    score, strongest = 0.0, 0.0
    matched: list[str] = []
    words_found: list[set[int]] = []  # where each common phrase matched: the text offsets its matches cover
    for phrase in doc_type.phrases:
        pattern = _phrase_pattern(phrase.text)
        spans = [match.span() for match in pattern.finditer(text)]
        hits = len(spans)
        if not hits:
            continue
        if phrase.weight < HINT_WEIGHT:
            words_found.append({offset for start, end in spans for offset in range(start, end)})
        # Only a phrase that names the type gains from the title: the title is picked for holding the page's
        # strongest phrase, so a hint in it counted twice, and one greeting or "primăria" thrice decided the type.
        in_title = phrase.weight >= NAMING_WEIGHT and bool(title) and pattern.search(title) is not None
        score += phrase.weight * (min(hits, rules.max_hits_per_phrase) + in_title)
        strongest = max(strongest, phrase.weight)
        notes = ([f"x{hits}"] if hits > 1 else []) + (["in title"] if in_title else [])
        matched.append(f'"{phrase.text}"' + (f" ({', '.join(notes)})" if notes else ""))
    decisive = strongest >= HINT_WEIGHT or _apart(words_found) >= COMMON_WORDS_THAT_DECIDE
    return score, ("matched " + ", ".join(matched)) if matched else "", decisive


def _apart(found: list[set[int]]) -> int:
    """How many of the phrases found stand apart in the text: phrases that matched the same words ("notar*
    public" and "Notar*" in "notary public") are one word found, not two."""
    groups: list[set[int]] = []
    for offsets in found:
        joined = [group for group in groups if group & offsets]
        groups = [group for group in groups if not group & offsets] + [offsets.union(*joined)]
    return len(groups)
