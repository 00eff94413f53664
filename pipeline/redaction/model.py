"""What a redaction proposal is: a box on one page over words that look like a third party's personal data."""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels of the OCR'd page (as in the hOCR)


@dataclass(frozen=True)
class Proposal:
    page: int
    box: Box
    kind: str  # cnp, pesel, rnokpp, iban, phone, email, address, name
    words: tuple[str, ...]  # the OCR words the box covers
    reason: str

    def to_dict(self) -> dict:
        return {"page": self.page, "box": list(self.box), "kind": self.kind, "words": list(self.words),
                "reason": self.reason}


@dataclass(frozen=True)
class PageBox:
    """A box to black out on a page: a proposal as a clerk kept, moved or drew it."""

    page: int
    box: Box


def union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
