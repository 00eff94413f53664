"""handwritten-mixed: Tesseract reads the print; the lines it read too unsurely to be print (handwriting,
signatures, stamps) and the places with writing it did not read at all are listed and flag their page for
review, even when the page reads well as a whole."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.evaluation import character_error_rate

from pipeline.hocr import Line, read_lines
from pipeline.model import Word
from pipeline.options import CONFIGS_DIR
from pipeline.profiles import load_profile
from pipeline.stages.ocr import SINGLE_BLOCK, recognize
from pipeline.stages.quality import unsure_lines
from pipeline.stages.unread import writing_left_unread

from .conftest import DATA, NEEDS_CORPUS, SHARED_CORPUS

# The last page of a typed letter of 1939, with a dozen handwritten signatures in its lowest third.
SIGNED_LETTER = DATA / "pages" / "EHRI-NISKO-19391112_DE_04.jpg"
TYPED_PAGE = DATA / "pages" / "EHRI-NISKO-19391112_DE_02.jpg"  # another page of it, typed only
# A typed Romanian page rendered and aged, with the reverse side's print showing through (no stated licence for
# the image: read from the corpus beside the clone).
SEEN_THROUGH = SHARED_CORPUS / "ocr" / "rendered" / "ron_dev_b.jpg"


def test_a_typed_letter_signed_by_hand_is_flagged_with_its_signature_lines(run_cli, archive_dir, tmp_path):
    scan = shutil.copy(SIGNED_LETTER, tmp_path / SIGNED_LETTER.name)
    result = run_cli("ingest", str(scan), "--lang", "deu", "--profile", "handwritten-mixed", "--json")
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.stdout)["items"]
    assert item["review_pages"] == [1]
    document = archive_dir / "documents" / item["document"]
    (page,) = json.loads((document / "document.json").read_text())["pages"]
    # As a whole the page reads well (its typed lines outweigh the signatures): the quality bar alone would
    # have let it pass.
    assert page["quality"] >= load_profile("handwritten-mixed", CONFIGS_DIR).quality.review_below
    lines = {line.id: line for line in read_lines(document / "pages" / "0001.hocr")}
    unsure = [lines[entry["id"]] for entry in page["unsure_lines"]]
    assert len(unsure) >= 3
    assert page["unsure_lines"] == [{"id": line.id, "bbox": list(line.bbox), "text": line.text} for line in unsure]
    # Only the signatures: every unsure line lies below the typed text ("für die Reiseleitung", the last typed
    # line before them, reads surely).
    typed_end = next(line for line in lines.values() if "Reiseleitung" in line.text)
    assert typed_end not in unsure
    assert all(line.bbox[1] > typed_end.bbox[3] for line in unsure)
    # Writing no word was read from: the signatures Tesseract skipped, below the body of the letter; among them
    # the one beside "Hochachtung".
    unread = page["unread_writing"]
    assert len(unread) >= 3
    body_end = next(line for line in lines.values() if "vorzüglichsten" in line.text)
    assert all(top > body_end.bbox[3] for _, top, _, _ in unread)
    closing = next(line for line in lines.values() if line.text == "Hochachtung")
    assert any(left < closing.bbox[2] < right and top < closing.bbox[3] for left, top, right, _ in unread)
    shown = run_cli("show", item["document"]).stdout
    assert (f"review: 1 (quality {page['quality']:.2f}, {len(unsure)} lines read unsurely, {len(unread)} places "
            "with writing left unread)") in shown


def test_the_ocr_command_shows_what_was_read_unsurely_or_not_at_all_and_the_default_profile_looks_for_neither(
        run_cli):
    result = run_cli("ocr", str(SIGNED_LETTER), "--lang", "deu", "--profile", "handwritten-mixed", "--json")
    (page,) = json.loads(result.stdout)["pages"]
    assert page["needs_review"] and len(page["unsure_lines"]) >= 3
    assert all(line["text"] in page["text"] and len(line["bbox"]) == 4 for line in page["unsure_lines"])
    assert len(page["unread_writing"]) >= 3
    result = run_cli("ocr", str(SIGNED_LETTER), "--lang", "deu", "--json")
    (page,) = json.loads(result.stdout)["pages"]
    assert page["unsure_lines"] == [] and page["unread_writing"] == [] and not page["needs_review"]


@pytest.mark.skipif(not SEEN_THROUGH.is_file(), reason=NEEDS_CORPUS)
def test_print_among_show_through_is_read_as_the_default_profile_reads_it(run_cli):
    """The profile keeps pen strokes from a threshold, not print from a median: without one, the grain of the
    reverse side around typed lines made Tesseract read a paragraph letter by letter (CER 0.09)."""
    truth = SEEN_THROUGH.with_name("ron_dev_b.gt.txt").read_text(encoding="utf-8")
    result = run_cli("ocr", str(SEEN_THROUGH), "--lang", "ron", "--profile", "handwritten-mixed", "--json")
    (page,) = json.loads(result.stdout)["pages"]
    assert "denoise" in page["cleanup"]
    assert character_error_rate(page["text"], truth) < 0.02


def test_a_line_is_unsure_by_its_letters_mean_confidence_and_short_lines_tell_nothing():
    def line(line_id: str, *words: tuple[str, float]) -> Line:
        return Line(line_id, (0, 0, 10, 10), tuple(Word(text, (0, 0, 1, 1), conf) for text, conf in words))

    lines = [
        line("typed", ("Hochachtung", 92.0)),
        line("signature", ("Hislak", 21.0), ("Kafacla", 22.0)),
        line("long_word_decides", ("Zimmerkommandanten", 80.0), ("u", 10.0)),  # 76.3 by letters, 45 by words
        line("speck", ("k", 28.0)),  # too short to judge
        line("unscored", ("Hislak", -1.0), ("ab", 20.0)),  # a word without a confidence does not count: 2 letters
    ]
    assert unsure_lines(lines, 50) == (lines[1],)


def test_writing_left_unread_is_told_from_blots_rules_dust_and_the_reverse_side(tmp_path):
    """A typed page (read as it is) with marks drawn under its text: of a scrawl in ink, the same scrawl as
    pale as show-through, blots, a ruled line and dust, only the inked scrawl is writing."""
    page = np.array(Image.open(TYPED_PAGE).convert("L"))
    # Tesseract's layout analysis skips paragraphs of this page (raw CER 0.38, bench/RESULTS.md): print left
    # unread is found too. Read as one block of text, every line is read, and nothing is left.
    skipping = recognize(TYPED_PAGE, tmp_path / "page", "deu", 1, 300, 600).page.words
    assert writing_left_unread(page, skipping)
    words = recognize(TYPED_PAGE, tmp_path / "block", "deu", 1, 300, 600, psm=SINGLE_BLOCK).page.words
    assert writing_left_unread(page, words) == ()
    height, width = page.shape
    marked = np.vstack([page, np.full((500, width), int(np.percentile(page, 90)), np.uint8)])
    top = height + 150

    def scrawl(left: int, grey: int) -> None:
        xs = np.arange(left, left + 420)
        ys = top + 40 + 30 * np.sin(xs / 9.0) * np.cos(xs / 31.0)
        cv2.polylines(marked, [np.column_stack([xs, ys]).astype(np.int32)], False, grey, 3)

    scrawl(100, 25)
    scrawl(width - 540, int(np.percentile(page, 90)) - 25)  # as pale as the reverse side showing through
    for k in range(4):  # blots (a smudge of ink, holes punched in a row)
        cv2.circle(marked, (width // 2 + 45 * k, top + 250), 20, 10, -1)
    cv2.line(marked, (100, top + 320), (width - 100, top + 320), 20, 4)  # a rule
    dust = np.random.default_rng(7).integers([100, top + 200], [width - 100, top + 300], size=(300, 2))
    for x, y in dust:
        cv2.circle(marked, (int(x), int(y)), 1, 30, -1)
    (left, top_found, right, bottom), = writing_left_unread(marked, words)
    assert left <= 100 and right >= 500 and top_found <= top + 15 and bottom >= top + 65
    assert right < width - 540  # only the inked scrawl
