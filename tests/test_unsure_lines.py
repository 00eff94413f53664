"""handwritten-mixed: Tesseract reads the print, and the lines it read too unsurely to be print (handwriting,
signatures, stamps) are listed and flag their page for review, even when the page reads well as a whole."""

from __future__ import annotations

import json
import shutil

from pipeline.hocr import Line, read_lines
from pipeline.model import Word
from pipeline.options import CONFIGS_DIR
from pipeline.profiles import load_profile
from pipeline.stages.quality import unsure_lines

from .conftest import DATA

# The last page of a typed letter of 1939, with a dozen handwritten signatures in its lowest third.
SIGNED_LETTER = DATA / "pages" / "EHRI-NISKO-19391112_DE_04.jpg"


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
    assert f"review: 1 ({len(unsure)} lines read unsurely)" in run_cli("show", item["document"]).stdout


def test_the_ocr_command_shows_the_unsure_lines_and_the_default_profile_has_none(run_cli):
    result = run_cli("ocr", str(SIGNED_LETTER), "--lang", "deu", "--profile", "handwritten-mixed", "--json")
    (page,) = json.loads(result.stdout)["pages"]
    assert page["needs_review"] and len(page["unsure_lines"]) >= 3
    assert all(line["text"] in page["text"] and len(line["bbox"]) == 4 for line in page["unsure_lines"])
    result = run_cli("ocr", str(SIGNED_LETTER), "--lang", "deu", "--json")
    (page,) = json.loads(result.stdout)["pages"]
    assert page["unsure_lines"] == [] and not page["needs_review"]


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
