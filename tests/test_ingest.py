"""The whole path, as an archivist runs it: ingest real scans, search them, rerun, verify, reindex."""

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import pytest

from pipeline.api import read_file
from pipeline.errors import ExitCode
from pipeline.options import Options
from pipeline.pdfa import check_pdfa

from .conftest import (DATA, NEEDS_CORPUS, REPO, SAMPLES, SHARED_CORPUS, run_without_write_rights, sha256,
                       tree_hashes)
from .test_preflight import forged_png


def _report(result) -> dict:
    return json.loads(result.stdout)


def test_ingest_then_search_finds_a_word_from_the_page(run_cli, phototest, archive_dir):
    result = run_cli("ingest", str(phototest), "--lang", "eng", "--collection", "Test fond", "--json")
    assert result.exit_code == ExitCode.ok, result.output
    (item,) = _report(result)["items"]
    assert item["status"] == "processed" and item["source"] == str(phototest)
    pdf = Path(item["pdf"])
    assert pdf.is_file() and check_pdfa(pdf) == []
    with pikepdf.open(pdf) as opened:  # a black-and-white scan stays 1-bit, in CCITT Group 4
        (image,) = opened.pages[0].get_images().values()
        assert image.get("/Filter") in (pikepdf.Name.CCITTFaxDecode, [pikepdf.Name.CCITTFaxDecode])
        assert image.BitsPerComponent == 1
        assert opened.Root.Lang == "en"  # the main language, for screen readers
    doc_dir = archive_dir / "documents" / item["document"]
    assert (doc_dir / "pages" / "0001.hocr").is_file()
    assert "quick brown" in (doc_dir / "document.txt").read_text()

    hits = _report(run_cli("search", "quick", "brown", "--json"))["hits"]
    assert [(h["document"], h["page"]) for h in hits] == [(item["document"], 1)]
    assert hits[0]["source"] == str(phototest) and hits[0]["score"] > 0
    assert "[quick]" in hits[0]["snippet"].lower()
    # Word boxes of the hits on the page image, from the OCR: phototest has "quick brown" four times.
    boxes = hits[0]["boxes"]
    assert sorted({b["word"] for b in boxes}) == ["brown", "quick"] and len(boxes) == 8
    width, height = hits[0]["page_width"], hits[0]["page_height"]
    assert all(0 <= b["left"] < b["right"] <= width and 0 <= b["top"] < b["bottom"] <= height for b in boxes)

    shown = run_cli("show", item["document"])
    assert shown.exit_code == 0 and "Test fond" in shown.stdout
    # A collection staff corrected (in the portal) is what `show` says, and it says it was corrected.
    from pipeline.archive import Archive
    from pipeline.corrections import correct_metadata

    archive = Archive(archive_dir)
    correct_metadata(archive, archive.load_document(item["document"]), "collection", "Fond 12")
    record = json.loads(run_cli("show", item["document"], "--json").stdout)
    assert record["collection"] == "Fond 12" and record["corrections"]["metadata"] == ["collection"]


def test_rerun_skips_what_is_done_and_changes_nothing(run_cli, phototest, archive_dir):
    first = run_cli("ingest", str(phototest), "--lang", "eng", "--json")
    doc = _report(first)["items"][0]["document"]
    before = tree_hashes(archive_dir / "documents")
    second = run_cli("ingest", str(phototest), "--lang", "eng", "--json")
    assert second.exit_code == ExitCode.ok
    (item,) = _report(second)["items"]
    assert (item["status"], item["reason"], item["document"]) == ("skipped", "already-archived", doc)
    assert _report(second)["summary"]["pages"] == 0
    assert tree_hashes(archive_dir / "documents") == before


def test_the_same_scan_twice_in_one_batch_is_read_once(run_cli, phototest, tmp_path, archive_dir):
    """A file copied into two folders has one content, so one document id: read twice at once, the two pages
    shared a work folder, and one worker deleted the other's OCR image (an internal error)."""
    copy = tmp_path / "in" / "again"
    copy.mkdir()
    shutil.copy(phototest, copy / "phototest-copy.tif")
    result = run_cli("ingest", str(tmp_path / "in"), "--lang", "eng", "--group", "file", "--json")
    assert result.exit_code == ExitCode.ok, result.output
    first, second = sorted(_report(result)["items"], key=lambda item: item["status"])
    assert first["status"] == "processed" and second["status"] == "skipped"
    assert second["reason"] == "duplicate" and second["document"] == first["document"]
    assert Path(first["source"]).name in second["detail"]
    assert _report(result)["summary"]["pages"] == 1
    assert [d.name for d in (archive_dir / "documents").iterdir()] == [first["document"]]


def test_a_phrase_is_marked_and_boxed_only_where_its_words_stand_together(run_cli, phototest, archive_dir):
    """'"the lazy"' boxed every "the" on the page too (13 boxes: "test the", "The quick" four times)."""
    assert run_cli("ingest", str(phototest), "--lang", "eng").exit_code == ExitCode.ok
    (hit,) = _report(run_cli("search", '"the lazy"', "--json"))["hits"]
    assert hit["matches"] == ["the lazy"]
    assert sorted(box["word"] for box in hit["boxes"]) == ["lazy"] * 4 + ["the"] * 4
    assert "[the] [lazy]" in hit["snippet"] and "[The]" not in hit["snippet"]


def test_a_file_named_in_another_encoding_fails_alone(run_cli, phototest, archive_dir):
    """A name that is not UTF-8 (a folder copied from a cp1250 system) failed the whole batch with an internal
    error: the scan cache and the report could not keep it. It fails alone, shown with \\x escapes."""
    folder = phototest.parent
    (folder / os.fsdecode(b"decizia_consiliului_\xe9.tif")).write_bytes(phototest.read_bytes() + b"\0")
    (folder / os.fsdecode(b"notes_\xe9.txt")).write_text("not a scan")
    result = run_cli("ingest", str(folder), "--lang", "eng", "--json")
    assert result.exit_code == ExitCode.partial, result.output
    items = {Path(item["source"]).name: item for item in _report(result)["items"]}
    assert items["phototest.tif"]["status"] == "processed"
    assert items["decizia_consiliului_\\xe9.tif"]["reason"] == "bad-name"
    assert "not UTF-8" in items["decizia_consiliului_\\xe9.tif"]["detail"]
    assert items["notes_\\xe9.txt"]["status"] == "skipped"


def test_a_batch_where_nothing_landed_says_so_though_a_non_scan_was_passed_over(run_cli, tmp_path):
    # A cut PNG beside notes.txt answered 4 (some inputs landed) with nothing archived: the skip counted.
    folder = tmp_path / "fond"
    folder.mkdir()
    (folder / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    (folder / "notes.txt").write_text("not a scan")
    assert run_cli("ingest", str(folder), "--lang", "eng").exit_code == ExitCode.bad_input


def test_scans_in_formats_not_read_fail_by_name_in_a_folder_as_named_alone(run_cli, tmp_path):
    """A folder of BMP, GIF, WebP and DjVu scans was "0 processed, 4 skipped: not a scan file", exit 0 (a cron job
    took them for archived), while the same files named one by one failed as unsupported-format."""
    from PIL import Image

    folder = tmp_path / "fond"
    folder.mkdir()
    page = Image.open(SAMPLES / "phototest.tif").convert("RGB")
    for ending, kind in ((".bmp", "BMP"), (".gif", "GIF"), (".webp", "WEBP")):
        page.save(folder / f"page{ending}", kind)
    page.save(folder / "no-ending", "BMP")
    page.save(folder / "page.tga", "TGA")
    page.save(folder / "page.pcx", "PCX")
    (folder / "register.djvu").write_bytes(b"AT&TFORM\x00\x00\x10\x00DJVMDIRM" + b"\0" * 64)
    (folder / "notes.txt").write_text("scanned by the town hall, 2024")
    (folder / "seal.svg").write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    (folder / "index.html").write_text('<html><body><svg width="10"></svg>Fond 12</body></html>\n')
    result = run_cli("ingest", str(folder), "--lang", "eng", "--json")
    assert result.exit_code == ExitCode.bad_input, result.output
    items = {item["source"].rsplit("/", 1)[-1]: item for item in _report(result)["items"]}
    for name, said in (("page.bmp", "BMP"), ("page.gif", "GIF"), ("page.webp", "WebP"), ("no-ending", "BMP"),
                       ("register.djvu", "DjVu"), ("page.tga", ".tga"), ("page.pcx", ".pcx"), ("seal.svg", "SVG")):
        assert (items[name]["status"], items[name]["reason"]) == ("failed", "unsupported-format"), items[name]
        assert said in items[name]["detail"]
    for name in ("notes.txt", "index.html"):
        assert (items[name]["status"], items[name]["reason"]) == ("skipped", "not-a-scan"), name


def test_an_empty_folder_is_said_to_hold_nothing(tmp_path, archive_dir):
    """A disk not mounted where the scans should be: "0 processed", exit 0, as for a batch done."""
    empty = tmp_path / "mnt" / "scans"
    empty.mkdir(parents=True)
    done = subprocess.run([sys.executable, "-m", "cli.main", "--archive", str(archive_dir), "ingest", str(empty)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == ExitCode.ok and f"{empty} holds no files (a disk not mounted there?)" in done.stderr


def test_a_folder_named_in_another_encoding_on_the_command_line_fails_alone(run_cli, phototest, tmp_path):
    """Named on the command line, it failed the whole batch: the progress file could not write its name."""
    folder = tmp_path / os.fsdecode(b"dosar_\xe9")
    folder.mkdir()
    shutil.copy(phototest, folder / "p1.tif")
    (folder / "p1.tif").write_bytes(phototest.read_bytes() + b"\0")
    result = run_cli("ingest", str(phototest), str(folder), "--lang", "eng", "--json")
    assert result.exit_code == ExitCode.partial, result.output
    assert [item["reason"] for item in _report(result)["items"] if item["status"] == "failed"] == ["bad-name"]


def test_a_page_that_fails_is_blamed_on_its_own_file_with_a_relative_archive(phototest, tmp_path):
    """With --archive relative (./archive by default), the document's first file was blamed, and the failing one
    was "document-incomplete because <checksum>.tif failed"."""
    from PIL import Image

    dosar = tmp_path / "dosar"
    dosar.mkdir()
    shutil.copy(phototest, dosar / "p_1.tif")
    Image.open(phototest).convert("L").save(dosar / "p_2.tif", compression="tiff_lzw")
    data = bytearray((dosar / "p_2.tif").read_bytes())
    data[400:4000] = bytes((7 * i) % 251 for i in range(3600))  # its pixels, not its header: fails in the worker
    (dosar / "p_2.tif").write_bytes(bytes(data))
    done = subprocess.run([sys.executable, "-m", "cli.main", "--archive", "archive", "ingest", "dosar", "--lang", "eng",
                           "--json"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=300)
    items = {Path(item["source"]).name: item for item in json.loads(done.stdout)["items"]}
    assert items["p_2.tif"]["reason"] == "corrupt", items
    assert items["p_1.tif"]["reason"] == "document-incomplete" and "p_2.tif" in items["p_1.tif"]["detail"]


def test_the_record_names_a_scan_given_by_a_relative_path_in_full(tmp_path, phototest):
    """`retrodig ingest phototest.tif` in the scans' folder: the record said "phototest.tif", and where the scan
    came from was lost once the command ended. The run's report keeps what was typed."""
    done = subprocess.run([sys.executable, "-m", "cli.main", "--archive", str(tmp_path / "archive"), "ingest",
                           phototest.name, "--lang", "eng", "--json"], cwd=phototest.parent,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=300)
    (item,) = json.loads(done.stdout)["items"]
    assert item["source"] == "phototest.tif"
    record = json.loads((tmp_path / "archive" / "documents" / item["document"] / "document.json").read_text())
    assert record["source"] == record["files"][0]["source"] == str(phototest)


def test_a_scan_named_without_an_ending_gets_its_formats_for_its_master(run_cli, phototest, archive_dir):
    """The master took the name after the last dot for its ending: a long one was too long a file name for the
    file system, and the batch failed with an internal error."""
    named = phototest.with_name("Hotărârea nr. 45 privind aprobarea documentației tehnice pentru construirea unei "
                                "locuințe unifamiliale și a anexelor gospodărești în satul Florești, comuna "
                                "Florești, județul Cluj, beneficiar Popescu Ion")
    phototest.rename(named)
    result = run_cli("ingest", str(named), "--lang", "eng")
    assert result.exit_code == ExitCode.ok, result.output
    (master,) = (archive_dir / "masters").glob("*/*")
    assert master.suffix == ".tif" and master.read_bytes() == named.read_bytes()


def test_the_same_scan_under_another_ending_is_kept_as_one_master(run_cli, phototest, archive_dir):
    """`x.tiff`, then the same bytes as `X.TIF` with --force: the archive kept two masters (one per ending) and
    the catalog named only the second."""
    assert run_cli("ingest", str(phototest), "--lang", "eng").exit_code == ExitCode.ok
    renamed = phototest.with_name("PHOTOTEST.TIFF")
    phototest.rename(renamed)
    assert run_cli("ingest", str(renamed), "--lang", "eng", "--force").exit_code == ExitCode.ok
    (master,) = (archive_dir / "masters").glob("*/*")
    (record,) = (archive_dir / "documents").glob("*/document.json")
    assert json.loads(record.read_text())["files"][0]["master"] == str(master.relative_to(archive_dir))
    assert run_cli("verify").exit_code == ExitCode.ok


def test_search_paged_past_its_hits_says_how_many_pages_matched(run_cli, phototest, archive_dir):
    assert run_cli("ingest", str(phototest), "--lang", "eng").exit_code == ExitCode.ok
    assert "1 matching page; showing 1-1" in run_cli("search", "quick").output  # one page, not "pages"
    # It said "no hits", as if nothing matched.
    assert run_cli("search", "quick", "--offset", "5").output.splitlines() == [
        "1 matching page; none after the first 5 (--offset)"]
    assert run_cli("search", "zzzzqqq").output.splitlines() == ["no hits"]


def test_search_piped_into_a_reader_that_stops_ends_quietly(run_cli, phototest, archive_dir):
    """`retrodig search x | head`: when the reader closes the pipe, the command stops with the shell's SIGPIPE
    code and says nothing (it used to report an internal error, BrokenPipeError, exit 1)."""
    assert run_cli("ingest", str(phototest), "--lang", "eng").exit_code == ExitCode.ok
    search = subprocess.Popen([sys.executable, "-m", "cli.main", "--archive", str(archive_dir), "search", "brown"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    search.stdout.close()  # the reader is gone before the command writes its first line
    errors = search.stderr.read()
    assert search.wait(timeout=120) == ExitCode.output_closed
    assert errors == b""


def test_hard_inputs_are_refused_by_name_and_the_batch_keeps_going(run_cli, tmp_path, archive_dir):
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("encrypted_algo4.pdf", "trivial.pdf", "baiona_alpha.png", "aspect.pdf",
                 "palette.pdf", "kcs.pdf", "3small.pdf"):
        shutil.copy(DATA / "edge" / name, batch / name)
    forged_png(batch / "bomb.png", 100_000, 100_000)  # hugemono.pdf is read now: see test_big_pages
    (batch / "empty.tif").touch()
    data = (DATA / "edge" / "baiona_cmyk.jpg").read_bytes()
    (batch / "cut.jpg").write_bytes(data[: len(data) // 2])
    (batch / "readme.txt").write_text("scanned on 2024-05-02")
    originals = tree_hashes(batch)

    result = run_cli("ingest", str(batch), "--group", "file", "--lang", "eng", "--json")
    assert result.exit_code == ExitCode.partial, result.output
    items = {Path(i["source"]).name: i for i in _report(result)["items"]}
    expected_failures = {"encrypted_algo4.pdf": "encrypted", "bomb.png": "too-large",
                         "empty.tif": "empty-file", "cut.jpg": "truncated"}
    for name, reason in expected_failures.items():
        assert (items[name]["status"], items[name]["reason"]) == ("failed", reason), items[name]
        assert items[name]["detail"]
    assert items["readme.txt"]["status"] == "skipped"
    for name in ("trivial.pdf", "baiona_alpha.png", "aspect.pdf", "palette.pdf", "kcs.pdf", "3small.pdf"):
        assert items[name]["status"] == "processed", items[name]
        assert check_pdfa(Path(items[name]["pdf"])) == []
    assert items["3small.pdf"]["pages"] == 3
    assert tree_hashes(batch) == originals  # originals byte-identical


def test_a_jpeg_whose_data_a_flipped_bit_cut_short_is_archived_flagged_for_review(run_cli, tmp_path, archive_dir):
    """One bit flipped a third of the way into a scan's coded data: libjpeg lost its way and left the lower two
    thirds of the page grey, with a warning only (6 bytes left over before the end marker). The page was archived
    as a good one (quality 0.82, not for review), its text a third of the page's."""
    data = bytearray((SAMPLES / "EHRI-DR-19390519-US_03.jpg").read_bytes())
    data[len(data) // 3] ^= 0x10
    folder = tmp_path / "rot"
    folder.mkdir()
    (folder / "bitrot.jpg").write_bytes(bytes(data))
    result = run_cli("ingest", str(folder), "--group", "file", "--lang", "eng", "--json")
    assert result.exit_code == ExitCode.ok, result.output
    (item,) = _report(result)["items"]
    assert item["status"] == "processed" and item["review_pages"] == [1]
    record = json.loads(next((archive_dir / "documents").glob("*/document.json")).read_text(encoding="utf-8"))
    assert "ends 6 bytes before the file does" in record["pages"][0]["file_doubt"]
    shown = run_cli("show", item["document"])
    assert "parts of the page may be grey" in shown.output
    # The scan as it was is not in doubt.
    intact = read_file(SAMPLES / "EHRI-DR-19390519-US_03.jpg", Options(archive=tmp_path / "unused", jobs=1))[0]
    assert intact.file_doubt == ""


def test_a_series_ingested_again_with_a_page_more_says_it_is_a_new_document_beside_the_old(run_cli, tmp_path,
                                                                                           archive_dir):
    """Scanning still in progress: scan_0001-0002 ingested, scan_0003 added, the folder ingested again. A second
    document of three pages was made beside the first of two, both searchable and deliverable, without a word."""
    series = tmp_path / "series"
    series.mkdir()
    for number, name in enumerate(("EHRI-DR-19390519-US_02.jpg", "EHRI-DR-19390519-US_03.jpg"), 1):
        shutil.copy(SAMPLES / name, series / f"scan_{number:04d}.jpg")
    first = _report(run_cli("ingest", str(series), "--lang", "eng", "--json"))["items"][0]["document"]
    shutil.copy(SAMPLES / "EHRI-DR-19390519-US_04.jpg", series / "scan_0003.jpg")
    again = run_cli("ingest", str(series), "--lang", "eng", "--json")
    assert again.exit_code == ExitCode.ok, again.output
    items = _report(again)["items"]
    (second,) = {item["document"] for item in items}
    assert second != first and all(item["status"] == "processed" for item in items)
    assert all(f"2 of its files are in document {first} already" in item["detail"] for item in items)
    summary = run_cli("ingest", str(series), "--lang", "eng", "--force")  # the text summary says it too
    assert f"note     {series / 'scan_0001.jpg'}: 2 of its files are in document {first} already" in summary.output


def test_masters_are_read_only_copies_and_verify_catches_a_change(run_cli, phototest, archive_dir):
    item = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]
    record = json.loads((archive_dir / "documents" / item["document"] / "document.json").read_text())
    master = archive_dir / record["files"][0]["master"]
    assert sha256(master) == sha256(phototest)
    assert not os.stat(master).st_mode & 0o222
    assert run_cli("verify").exit_code == ExitCode.ok

    os.chmod(master, stat.S_IWUSR | stat.S_IRUSR)
    with master.open("r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\x01")
    result = run_cli("verify")
    assert result.exit_code == ExitCode.integrity
    assert "checksum-changed" in result.stdout and str(master) in result.stdout
    # the original, ingested again with --force, restores the master (it used to keep the damaged one)
    assert run_cli("ingest", str(phototest), "--lang", "eng", "--force").exit_code == ExitCode.ok
    assert run_cli("verify").exit_code == ExitCode.ok and sha256(master) == sha256(phototest)


def test_a_damaged_catalog_record_is_named_and_force_mends_it(run_cli, phototest, archive_dir):
    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    record = archive_dir / "documents" / doc / "document.json"
    master = archive_dir / json.loads(record.read_text())["files"][0]["master"]
    record.write_text(record.read_text()[:40])  # cut short
    # Its master changed too: checked by its name (its checksum), though no readable record names it. It was
    # neither reported nor counted ("0 masters of 0 documents checked").
    os.chmod(master, stat.S_IWUSR | stat.S_IRUSR)
    with master.open("r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\x01")
    checked = json.loads(run_cli("verify", "--json").stdout)
    assert checked["masters"] == 1 and checked["problems"] == [
        {"document": "", "master": str(master), "problem": "checksum-changed"}]
    for command in (("show", doc), ("verify",), ("reindex",)):
        result = run_cli(*command)
        assert result.exit_code == ExitCode.integrity, (command, result.output)  # it was an internal error
        assert str(record) in result.output and "damaged" in result.output
    assert run_cli("ingest", str(phototest), "--lang", "eng", "--force").exit_code == ExitCode.ok
    assert run_cli("verify").exit_code == ExitCode.ok
    assert run_cli("show", doc).exit_code == ExitCode.ok


@pytest.mark.parametrize("damage", ["record deleted", "field renamed", "files null", "metadata null"])
def test_a_record_deleted_or_edited_wrongly_is_named_by_verify_and_show(run_cli, phototest, archive_dir, damage):
    """A document folder without its record: verify said "all intact" (its folder was passed over) while search
    still found it. A record missing a master's checksum (bit rot, a hand's edit): verify failed with an
    internal error (KeyError) and checked nothing else."""
    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    record = archive_dir / "documents" / doc / "document.json"
    if damage == "record deleted":
        record.unlink()
    else:
        data = json.loads(record.read_text())
        if damage == "field renamed":
            data["files"][0]["sha25X"] = data["files"][0].pop("sha256")
        elif damage == "metadata null":  # it made show, reindex and (index lost) every ingest an internal error
            data["metadata"] = None
        else:
            data["files"] = None
        record.write_text(json.dumps(data))
    for command in (("verify",), ("show", doc), ("reindex",)):
        result = run_cli(*command)
        assert result.exit_code == ExitCode.integrity, (command, result.output)
        assert str(record) in result.output, (command, result.output)
    assert run_cli("ingest", str(phototest), "--lang", "eng", "--force").exit_code == ExitCode.ok
    assert run_cli("verify").exit_code == ExitCode.ok


def test_a_damaged_record_and_a_lost_index_do_not_lock_the_archive(run_cli, phototest, archive_dir, tmp_path):
    """With one record damaged and the index lost, every ingest (the one with --force the message advises too) and
    `reindex` refused, naming the record: the archive could not be searched nor mended but by hand."""
    from PIL import Image, ImageOps

    other = tmp_path / "other" / "letter.png"
    other.parent.mkdir()
    ImageOps.expand(Image.open(phototest).convert("L"), border=40, fill=255).save(other, dpi=(200, 200))
    damaged = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    kept = _report(run_cli("ingest", str(other), "--lang", "eng", "--json"))["items"][0]["document"]
    record = archive_dir / "documents" / damaged / "document.json"
    record.write_bytes(record.read_bytes()[:100])
    os.utime(record, (time.time() + 3600,) * 2)  # changed during the rebuild, to its second pass: named once
    shutil.rmtree(archive_dir / "index" / "search")
    rebuilt = run_cli("reindex")
    assert rebuilt.exit_code == ExitCode.integrity and "reindexed 1 document into" in rebuilt.output
    assert str(record) in rebuilt.output and "--force" in rebuilt.output
    assert "1 document(s) passed over" in rebuilt.output and rebuilt.output.count("passed over, damaged") == 1
    found = run_cli("search", "quick brown", "--json")
    assert found.exit_code == ExitCode.ok and {hit["document"] for hit in _report(found)["hits"]} == {kept}
    shutil.rmtree(archive_dir / "index" / "search")
    mended = run_cli("ingest", str(phototest), "--lang", "eng", "--force")
    assert mended.exit_code == ExitCode.ok, mended.output
    assert {hit["document"] for hit in _report(run_cli("search", "quick brown", "--json"))["hits"]} == {kept, damaged}
    assert run_cli("verify").exit_code == ExitCode.ok


def test_an_index_the_archive_s_ingests_left_for_another_is_refused_until_rebuilt(run_cli, phototest, archive_dir,
                                                                                   tmp_path):
    """Ingested into Elasticsearch for a while, then switched back to the embedded index: its old index answered
    from what it held before ("no hits" for everything ingested since) without a word, and `verify` blamed a
    stopped run."""
    from PIL import Image, ImageOps

    from pipeline.backends.search import note_kept_in
    from pipeline.options import SearchSettings

    first = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    assert (archive_dir / "index" / "kept-in.txt").read_text() == "the embedded index\n"
    # What an ingest into Elasticsearch (search: in retrodig.yaml) notes, then a document the embedded index lacks.
    note_kept_in(archive_dir, SearchSettings(backend="elasticsearch", url="http://es.example:9200"))
    later = tmp_path / "later" / "letter.png"
    later.parent.mkdir()
    ImageOps.expand(Image.open(phototest).convert("L"), border=40, fill=255).save(later, dpi=(200, 200))
    refused = run_cli("search", "quick brown")
    assert refused.exit_code == ExitCode.archive_unavailable
    assert "last indexed in Elasticsearch at http://es.example:9200 (index retrodig)" in refused.output
    assert "retrodig reindex" in refused.output
    # The next ingest here rebuilds it from the archive first, and says where the documents are searched now.
    second = _report(run_cli("ingest", str(later), "--lang", "eng", "--json"))["items"][0]["document"]
    found = run_cli("search", "quick brown", "--json")
    assert found.exit_code == ExitCode.ok and {hit["document"] for hit in _report(found)["hits"]} == {first, second}
    assert (archive_dir / "index" / "kept-in.txt").read_text() == "the embedded index\n"
    # `reindex` does as well.
    note_kept_in(archive_dir, SearchSettings(backend="elasticsearch", url="http://es.example:9200"))
    assert run_cli("reindex").exit_code == ExitCode.ok
    assert run_cli("search", "quick brown").exit_code == ExitCode.ok
    # The same cluster written with a slash at its end is no other place (every search was refused).
    from pipeline.backends.search import index_place
    assert index_place(SearchSettings(backend="elasticsearch", url="http://es.example:9200/")) == index_place(
        SearchSettings(backend="elasticsearch", url="http://es.example:9200"))


def test_a_damaged_record_the_index_lacks_fails_its_files_not_the_batch(run_cli, phototest, archive_dir, tmp_path):
    """A record damaged after reindex passed it over: every later ingest of its scan stopped the whole batch
    (exit 6), new files in it were never archived and no report was written."""
    from PIL import Image, ImageOps

    new = tmp_path / "new" / "letter.png"
    new.parent.mkdir()
    ImageOps.expand(Image.open(phototest).convert("L"), border=40, fill=255).save(new, dpi=(200, 200))
    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    record = archive_dir / "documents" / doc / "document.json"
    record.write_text("{")
    assert run_cli("reindex").exit_code == ExitCode.integrity  # passes it over: the index lacks it now
    checked = run_cli("verify", "--json")  # damaged, not "unindexed: reindex adds it" (reindex cannot)
    assert (_report(checked)["damaged_documents"], _report(checked)["unindexed_documents"]) == ([doc], [])
    result = run_cli("ingest", str(phototest), str(new), "--lang", "eng", "--json")
    items = {Path(item["source"]).name: item for item in _report(result)["items"]}
    assert items["letter.png"]["status"] == "processed", result.output
    assert (items["phototest.tif"]["status"], items["phototest.tif"]["reason"]) == ("failed", "damaged-record")
    assert "--force" in items["phototest.tif"]["detail"] and result.exit_code != ExitCode.ok
    assert list((archive_dir / "runs").iterdir())
    assert run_cli("ingest", str(phototest), "--lang", "eng", "--force").exit_code == ExitCode.ok
    assert run_cli("verify").exit_code == ExitCode.ok


def test_verify_names_a_documents_missing_files_and_force_restores_them(run_cli, phototest, archive_dir):
    """The PDF/A, the text and a page's hOCR deleted: verify said "all intact", `show --text` failed with an
    internal error."""
    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    folder = archive_dir / "documents" / doc
    for name in ("document.pdf", "document.txt", "pages/0001.hocr", "pages/0001.txt"):
        (folder / name).unlink()
    result = run_cli("verify", "--json")
    assert result.exit_code == ExitCode.integrity
    missing = {item["file"] for item in json.loads(result.stdout)["missing_files"]}
    assert missing == {str(folder / name) for name in ("document.pdf", "document.txt", "pages/0001.hocr",
                                                       "pages/0001.txt")}
    shown = run_cli("show", doc, "--text")
    assert shown.exit_code == ExitCode.integrity and "0001.txt" in shown.output
    assert run_cli("ingest", str(phototest), "--lang", "eng", "--force").exit_code == ExitCode.ok
    assert run_cli("verify").exit_code == ExitCode.ok


def test_verify_names_a_document_s_files_cut_short_or_emptied(run_cli, phototest, archive_dir):
    """A PDF/A cut short, a page's hOCR truncated, its text emptied: verify said "all intact" (while `copy` failed
    on the PDF and search warned of the hOCR). The files made are checked against the checksums they were
    archived with, as the masters are."""
    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    folder = archive_dir / "documents" / doc
    assert run_cli("verify").exit_code == ExitCode.ok
    for name in ("document.pdf", "pages/0001.hocr"):
        with open(folder / name, "r+b") as handle:
            handle.truncate((folder / name).stat().st_size // 2)
    (folder / "pages" / "0001.txt").write_text("", encoding="utf-8")
    result = run_cli("verify", "--json")
    assert result.exit_code == ExitCode.integrity
    changed = {item["file"] for item in json.loads(result.stdout)["changed_files"]}
    assert changed == {str(folder / name) for name in ("document.pdf", "pages/0001.hocr", "pages/0001.txt")}
    assert "checksum-changed: " + str(folder / "document.pdf") in run_cli("verify").output
    assert run_cli("ingest", str(phototest), "--lang", "eng", "--force").exit_code == ExitCode.ok
    assert run_cli("verify").exit_code == ExitCode.ok


def test_verify_names_a_document_folder_gone_that_search_still_finds(run_cli, phototest, archive_dir, tmp_path):
    """A document's folder deleted: verify said "all intact" (one master belonging to no document, at most) while
    search still found the document and `show` failed on it."""
    from PIL import Image, ImageOps

    other = tmp_path / "other" / "letter.png"
    other.parent.mkdir()
    ImageOps.expand(Image.open(phototest).convert("L"), border=40, fill=255).save(other, dpi=(200, 200))
    assert run_cli("ingest", str(other), "--lang", "eng").exit_code == ExitCode.ok
    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    shutil.rmtree(archive_dir / "documents" / doc)
    result = run_cli("verify", "--json")
    assert result.exit_code == ExitCode.integrity and json.loads(result.stdout)["missing_documents"] == [doc]
    assert f"missing document: {doc}" in run_cli("verify").output
    assert run_cli("reindex").exit_code == ExitCode.ok  # drops it from search
    assert run_cli("verify").exit_code == ExitCode.ok
    shutil.rmtree(archive_dir / "index" / "search")  # the index lost: the archive's own check still stands
    lost = run_cli("verify", "--json")
    assert lost.exit_code == ExitCode.ok and "reindex" in json.loads(lost.stdout)["search_index"]


def test_verify_names_a_document_the_search_index_lacks(run_cli, phototest, archive_dir):
    """Archived by a killed run of a retrodig that kept no marks of what it had not indexed: verify said "all
    intact" while search could not find the document."""
    from pipeline.backends.search import open_search

    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    search = open_search(archive_dir)
    try:
        search.remove_document(doc)
    finally:
        search.close()
    result = run_cli("verify", "--json")
    assert result.exit_code == ExitCode.ok and json.loads(result.stdout)["unindexed_documents"] == [doc]
    assert "1 document(s) are not found by search" in run_cli("verify").output
    assert run_cli("reindex").exit_code == ExitCode.ok
    assert json.loads(run_cli("verify", "--json").stdout)["unindexed_documents"] == []


def test_a_master_made_writable_is_read_only_again_after_force(run_cli, phototest, archive_dir):
    """verify says to ingest the scan again with --force; that kept the master writable, and verify said so
    again."""
    run_cli("ingest", str(phototest), "--lang", "eng")
    (master,) = (archive_dir / "masters").glob("*/*")
    os.chmod(master, 0o644)
    assert "writable" in run_cli("verify").output
    assert run_cli("ingest", str(phototest), "--lang", "eng", "--force").exit_code == ExitCode.ok
    assert run_cli("verify").exit_code == ExitCode.ok and not os.stat(master).st_mode & 0o222


def test_a_correction_on_a_page_read_again_in_romanian_is_spelt_with_commas(run_cli, phototest, archive_dir):
    """The page was ingested in English and read again in Romanian: its corrections kept ş and ţ (only the
    ingest's languages were looked at), and so did a Romanian record's corrected title."""
    from pipeline.api import reocr_page
    from pipeline.archive import Archive
    from pipeline.corrections import correct_line, correct_metadata, page_hocr_path
    from pipeline.hocr import read_lines
    from pipeline.options import Options

    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    archive = Archive(archive_dir)
    reocr_page(Options(archive=archive_dir, languages="ron"), doc, 1)
    line = read_lines(page_hocr_path(archive, doc, 1))[0]
    assert correct_line(archive, doc, 1, line.id, "Primăria oraşului Ştefăneşti", line.text)[1] == \
        "Primăria orașului Ștefănești"
    record = archive.load_document(doc)
    record["metadata"]["languages"] = ["ron"]
    assert correct_metadata(archive, record, "title", "Hotărârea şedinţei")[1] == "Hotărârea ședinței"


def test_a_page_corrected_while_it_is_read_again_keeps_the_correction(run_cli, phototest, archive_dir):
    """Reading a page again takes seconds; a line corrected meanwhile was overwritten by the new reading, with no
    word to either archivist. The reading is saved only over the text it began from."""
    from pipeline.archive import Archive
    from pipeline.corrections import PageChangedError, correct_line, page_text_path, save_page_version
    from pipeline.hocr import read_lines

    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    archive = Archive(archive_dir)
    read_from = page_text_path(archive, doc, 1).read_text(encoding="utf-8")  # the reading begins
    new_reading = archive.page_hocr(doc, 1)
    line = read_lines(new_reading)[0]
    correct_line(archive, doc, 1, line.id, "Corrected meanwhile", line.text)  # a clerk saves meanwhile
    with pytest.raises(PageChangedError, match="corrected while it was read again"):
        save_page_version(archive, doc, 1, new_reading, read_from)
    assert "Corrected meanwhile" in page_text_path(archive, doc, 1).read_text(encoding="utf-8")
    now = page_text_path(archive, doc, 1).read_text(encoding="utf-8")
    before, after = save_page_version(archive, doc, 1, new_reading, now)  # nothing changed since: saved
    assert "Corrected meanwhile" in before and "Corrected meanwhile" not in after


def test_show_text_prints_the_text_as_staff_corrected_it(run_cli, phototest, archive_dir):
    from pipeline.archive import Archive
    from pipeline.corrections import correct_line
    from pipeline.hocr import read_lines

    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    line = read_lines(archive_dir / "documents" / doc / "pages" / "0001.hocr")[0]
    assert "  corrected: -" in run_cli("show", doc).output
    correct_line(Archive(archive_dir), doc, 1, line.id, "Zăpodie was corrected here", line.text)
    shown = run_cli("show", doc, "--text").output
    # It printed the pipeline's text; the line's words stay in the title the pipeline guessed from them.
    assert "Zăpodie was corrected here" in shown and shown.count(line.text) == 1
    assert "  corrected: page(s) 1" in shown  # it did not say what staff had corrected
    # With --json, --text was passed over: the record alone.
    record = json.loads(run_cli("show", doc, "--json", "--text").output)
    assert "Zăpodie was corrected here" in record["document_text"] and record["text"] == "document.txt"


def test_odd_arguments_are_refused_plainly(run_cli, phototest, archive_dir):
    # Named as typed: "--languages: 'xx' is not ..." named an option that does not exist.
    refused = run_cli("ocr", str(phototest), "--lang", "xx")
    assert refused.exit_code == ExitCode.usage and "--lang: 'xx' is not a Tesseract language code" in refused.output
    assert run_cli("ingest", "", "--lang", "eng").exit_code == ExitCode.usage  # not the current folder
    assert run_cli("ingest", "x" * 300, "--lang", "eng").exit_code == ExitCode.usage  # name too long
    too_long = "p" * 300 + ".yaml"
    assert run_cli("ingest", str(phototest), "--lang", "eng", "--profile", too_long).exit_code == ExitCode.usage
    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    own = run_cli("ingest", str(archive_dir / "documents" / doc / "document.pdf"), "--lang", "eng")
    assert own.exit_code == ExitCode.usage and "inside the archive" in own.stderr  # its own output, read again
    record_file = archive_dir / "documents" / doc / "document.json"
    record = json.loads(record_file.read_text())
    record["files"][0]["master"] = "../../../../../../etc/hostname"  # a record edited by hand
    record_file.write_text(json.dumps(record))
    verified = run_cli("verify")
    assert verified.exit_code == ExitCode.integrity and "outside-the-archive" in verified.stdout
    backwards = run_cli("search", "brown", "--year", "1950..000")
    assert backwards.exit_code == ExitCode.usage and "backwards" in backwards.output
    assert run_cli("search", "brown", "--offset", str(2**32)).exit_code == ExitCode.usage
    for nothing in ("", "*", '""', " - "):  # said "no hits" (exit 0), as if the archive held nothing
        said = run_cli("search", nothing)
        assert said.exit_code == ExitCode.usage and "nothing to search for" in said.output, nothing


def test_reindex_rebuilds_the_search_index_from_disk(run_cli, phototest, archive_dir):
    run_cli("ingest", str(phototest), "--lang", "eng")
    shutil.rmtree(archive_dir / "index" / "search")
    lost = run_cli("search", "quick", "--json")  # it used to answer "no hits", as if the archive had none
    assert lost.exit_code == ExitCode.archive_unavailable and "retrodig reindex" in lost.stderr
    result = run_cli("reindex")
    assert result.exit_code == 0 and "reindexed 1 document into" in result.stdout
    assert len(_report(run_cli("search", "quick", "--json"))["hits"]) == 1



def _first_line(archive_dir, doc):
    from pipeline.archive import Archive
    from pipeline.corrections import page_hocr_path
    from pipeline.hocr import read_hocr

    return read_hocr(page_hocr_path(Archive(archive_dir), doc, 1)).lines[0]


def test_reindex_waits_for_no_ingest_and_keeps_corrections_made_while_it_ran(run_cli, phototest, archive_dir):
    """Documents an ingest committed, and corrections the portal made, while a rebuild ran went into the index
    the rebuild then replaced: gone from search, silently."""
    from pipeline import api
    from pipeline.archive import Archive
    from pipeline.corrections import correct_line
    from pipeline.options import Options

    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    with Archive(archive_dir).writer_lock():  # an ingest at work
        busy = run_cli("reindex")
    assert busy.exit_code == ExitCode.archive_unavailable and "another retrodig process" in busy.stderr
    line = _first_line(archive_dir, doc)

    def correcting_meanwhile(documents, total):
        for document in documents:
            yield document  # the rebuild has read it: now a clerk corrects it
            correct_line(Archive(archive_dir), doc, 1, line.id, "Zăpodie was corrected here", line.text)

    assert api.reindex(Options(archive=archive_dir), progress=correcting_meanwhile) == 1
    hits = _report(run_cli("search", "zapodie", "--json"))["hits"]
    assert [hit["document"] for hit in hits] == [doc]


def test_an_ingest_indexes_what_is_on_disk_when_it_commits(run_cli, phototest, archive_dir):
    """A document published early in a batch is committed to the index later: a correction made in between was
    undone in search by the text the batch had kept since publishing."""
    from pipeline.archive import Archive
    from pipeline.backends.search import open_search
    from pipeline.corrections import correct_line
    from pipeline.run import _IndexBatch

    doc = _report(run_cli("ingest", str(phototest), "--lang", "eng", "--json"))["items"][0]["document"]
    archive = Archive(archive_dir)
    search = open_search(archive_dir)
    try:
        batch = _IndexBatch(search, archive)
        batch.add(doc)  # published, not yet committed
        line = _first_line(archive_dir, doc)
        correct_line(archive, doc, 1, line.id, "Zăpodie was corrected here", line.text)
        batch.flush()
    finally:
        search.close()
    assert [hit["document"] for hit in _report(run_cli("search", "zapodie", "--json"))["hits"]] == [doc]

def _mark_index_as_written_by_an_older_retrodig(archive_dir):
    index = archive_dir / "index" / "search"
    live = index / (index / "CURRENT").read_text().strip()
    (live / "retrodig.json").write_text('{"schema": 1}')


def test_an_index_from_another_schema_is_refused_until_reindexed(run_cli, phototest, archive_dir):
    run_cli("ingest", str(phototest), "--lang", "eng")
    _mark_index_as_written_by_an_older_retrodig(archive_dir)
    result = run_cli("search", "quick")
    assert result.exit_code == ExitCode.archive_unavailable and "retrodig reindex" in result.stderr
    assert run_cli("reindex").exit_code == 0
    assert len(_report(run_cli("search", "quick", "--json"))["hits"]) == 1
    # An ingest into an archive whose index is outdated rebuilds it first, from the documents on disk.
    _mark_index_as_written_by_an_older_retrodig(archive_dir)
    assert run_cli("ingest", str(phototest), "--lang", "eng").exit_code == ExitCode.ok
    assert len(_report(run_cli("search", "quick", "--json"))["hits"]) == 1


def test_ocr_command_prints_text_and_writes_nothing(run_cli, phototest, archive_dir, tmp_path):
    debug = tmp_path / "debug"
    result = run_cli("ocr", str(phototest), "--lang", "eng", "--debug-dir", str(debug))
    assert result.exit_code == 0
    assert "quick brown" in result.stdout
    assert not archive_dir.exists()
    assert list(debug.glob("*.png")), "each cleanup step leaves an image in --debug-dir"


def test_a_debug_dir_that_cannot_be_made_is_a_usage_error(run_cli, phototest, tmp_path):
    """A path through a file was an internal error (NotADirectoryError), after the page was cleaned."""
    result = run_cli("ocr", str(phototest), "--lang", "eng", "--debug-dir", str(phototest / "steps"))
    assert result.exit_code == ExitCode.usage
    assert "--debug-dir" in result.output and "Not a directory" in result.output


def test_exit_codes_for_usage_and_missing_language(run_cli, phototest, tmp_path, archive_dir):
    assert run_cli("ingest", str(tmp_path / "missing.tif")).exit_code == ExitCode.usage
    assert not archive_dir.exists()  # a mistyped path made a new archive's folders before it was refused
    assert run_cli("ingest", str(phototest), "--lang", "not a code").exit_code == ExitCode.usage
    result = run_cli("ingest", str(phototest), "--lang", "yor")  # a model Debian ships, not installed here
    assert result.exit_code == ExitCode.missing_dependency
    assert "tesseract-ocr-yor" in result.stderr
    # A well-formed code of no model Tesseract publishes: an apt hint for a package that does not exist, before.
    unknown = run_cli("ingest", str(phototest), "--lang", "eng+xho")
    assert unknown.exit_code == ExitCode.usage and "no language xho" in unknown.stderr
    assert "tesseract-ocr-" not in unknown.stderr and "eng" in unknown.stderr.split("installed here:")[1]
    assert run_cli("show", "0123456789abcdef").exit_code == ExitCode.usage
    assert run_cli("search", "x", "--year", "1980..1970").exit_code == ExitCode.usage
    osd = run_cli("ingest", str(phototest), "--lang", "osd")  # installed, but no language: it read garbage
    assert osd.exit_code == ExitCode.usage and "orientation" in osd.stderr


def test_language_codes_in_capitals_or_twice_and_a_collection_with_control_characters(run_cli, phototest,
                                                                                      archive_dir):
    result = run_cli("ingest", str(phototest), "--lang", "ENG+eng", "--collection", "Fond\x01 12\x08\n b", "--json")
    assert result.exit_code == ExitCode.ok, result.output  # ENG was "not installed (apt-get install ...-eng)"
    record = json.loads((archive_dir / "documents" / _report(result)["items"][0]["document"] / "document.json")
                        .read_text())
    assert record["collection"] == "Fond 12 b"  # one line of text, as the catalog, the PDF and facets show it


def test_one_fond_typed_decomposed_or_with_the_cedilla_is_one_collection(run_cli, phototest, tmp_path, archive_dir):
    """Typed decomposed (macOS: s and a combining comma) or with the cedilla (ş), Timișoara's fond was three
    collections, three facet entries alike to the eye, and a filter by one missed the others."""
    import shutil
    import unicodedata

    names = [unicodedata.normalize("NFD", "Fond 12 – Urbanism Timișoara"), "Fond 12 – Urbanism Timişoara",
             "Fond 12 – Urbanism Timișoara", "Fond 12 – Urbanism Timis\u0327oara"]  # the last: s and a cedilla
    for number, name in enumerate(names):
        scan = shutil.copy(phototest, tmp_path / f"scan{number}.tif")
        Path(scan).write_bytes(Path(scan).read_bytes() + bytes(number + 1))  # another file: another document
        result = run_cli("ingest", str(scan), "--lang", "ron+eng", "--collection", name, "--json")
        assert result.exit_code == ExitCode.ok, result.output
    found = run_cli("search", "quick", "--json")
    assert found.exit_code == ExitCode.ok, found.output
    facets = json.loads(found.stdout)["facets"]["collection"]
    assert [(facet["value"], facet["count"]) for facet in facets] == [("Fond 12 – Urbanism Timișoara", 4)]
    for typed in (f" {names[0]}", names[1], names[3]):  # a space too many, decomposed; with the cedilla
        assert json.loads(run_cli("search", "quick", "--collection", typed, "--json").stdout)["total"] == 4, typed


@pytest.mark.parametrize("part", [".", "index/search"])
def test_reindexing_an_archive_that_cannot_be_written_says_so(run_cli, phototest, archive_dir, part):
    """It was an internal error (PermissionError on the archive's lock file, or making the new index's folder),
    exit 1."""
    assert run_cli("ingest", str(phototest), "--lang", "eng").exit_code == ExitCode.ok
    done = run_without_write_rights(archive_dir / part, ["--archive", str(archive_dir), "reindex"],
                                    restore=archive_dir)
    assert done.returncode == ExitCode.archive_unavailable, done.stderr
    assert "cannot be written" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("part", ["documents", "masters", "runs", "index", "index/scans.sqlite", "live index"])
def test_an_ingest_into_an_archive_part_that_cannot_be_written_says_so(run_cli, phototest, archive_dir, tmp_path,
                                                                      part):
    """One folder of the archive read-only (or the scan cache): the batch stopped with an internal error, exit 1, at
    its first write there, or each file failed as a bug (scan cache), or the live index was written through the
    links it is read by when read-only, and the document was lost to search. Now: exit 7 naming what cannot be
    written, and a document archived meanwhile is indexed by the next ingest that can."""
    from PIL import Image, ImageOps

    assert run_cli("ingest", str(phototest), "--lang", "eng").exit_code == ExitCode.ok
    new = tmp_path / "new" / "letter.png"
    new.parent.mkdir()
    ImageOps.expand(Image.open(phototest).convert("L"), border=40, fill=255).save(new, dpi=(200, 200))
    search = archive_dir / "index" / "search"
    target = search / (search / "CURRENT").read_text().strip() if part == "live index" else archive_dir / part
    mode = target.stat().st_mode
    os.chmod(target, 0o555 if target.is_dir() else 0o444)
    command = [sys.executable, "-m", "cli.main", "--archive", str(archive_dir), "ingest", str(new), "--lang", "eng"]
    if os.geteuid() == 0:  # root writes anywhere: the process is started without that right
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    try:
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    finally:
        os.chmod(target, mode)
    assert done.returncode == ExitCode.archive_unavailable, done.stderr
    assert "cannot be written" in done.stderr or "not writable" in done.stderr, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert str(target.name) in done.stderr
    assert run_cli("ingest", str(new), "--lang", "eng").exit_code == ExitCode.ok
    assert json.loads(run_cli("search", "lazy", "fox", "--json").stdout)["total"] == 2


def test_a_write_refused_inside_the_archive_is_the_archive_s_error_and_one_outside_is_not(tmp_path):
    """A folder of the archive made read-only while a batch runs: its PermissionError ended the batch as an internal
    error. One for a file outside the archive (an input, a config) is no archive's trouble."""
    import errno

    from pipeline.errors import ArchiveError, unwritable_error

    archive = tmp_path / "archive"
    inside = PermissionError(errno.EACCES, "Permission denied", str(archive / "work" / "x.staging"),
                             None, str(archive / "documents" / "x"))
    error = unwritable_error(inside, archive)  # a move names both ends: either may be the one refused
    assert isinstance(error, ArchiveError) and str(archive / "documents" / "x") in str(error)
    assert str(archive / "work" / "x.staging") in str(error)
    assert unwritable_error(OSError(errno.EROFS, "Read-only file system", str(archive / "runs" / "r")), archive)
    assert unwritable_error(PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "scan.tif")),
                            archive) is None
    assert unwritable_error(OSError(errno.EIO, "I/O error", str(archive / "runs" / "r")), archive) is None


def test_an_archive_that_cannot_be_written_can_be_searched_by_its_relative_path(run_cli, phototest, archive_dir):
    """Named by a relative path, a read-only archive was "unusable; run retrodig reindex": the index is read
    through links made in a temporary folder, and they pointed to the relative path from there."""
    assert run_cli("ingest", str(phototest), "--lang", "eng").exit_code == ExitCode.ok
    done = run_without_write_rights(archive_dir, ["--archive", archive_dir.name, "search", "lazy", "fox", "--json"],
                                    cwd=archive_dir.parent, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == ExitCode.ok, done.stderr
    assert json.loads(done.stdout)["total"] == 1


def test_a_second_writer_is_refused_while_one_works(run_cli, phototest, archive_dir):
    from pipeline.archive import Archive

    archive = Archive(archive_dir).create()
    with archive.writer_lock():
        result = run_cli("ingest", str(phototest), "--lang", "eng")
    assert result.exit_code == ExitCode.archive_unavailable
    assert "another retrodig process" in result.stderr


def test_the_summary_counts_the_pages_archived_not_those_of_failed_documents(run_cli, phototest, tmp_path):
    """A three-page TIFF whose second page's data is damaged (its header is whole: it fails in the worker), and a
    good page: "1 documents, 3 pages" counted the failed TIFF's page that was read."""
    from PIL import Image

    page = Image.open(phototest).convert("L")
    scans = tmp_path / "scans"
    scans.mkdir()
    page.save(scans / "three.tif", save_all=True, compression="tiff_lzw",
              append_images=[page.rotate(1, fillcolor=255), page.rotate(2, fillcolor=255)])
    data = bytearray((scans / "three.tif").read_bytes())
    third = len(data) // 3
    data[third + 500:third + 8000] = bytes((7 * i) % 251 for i in range(7500))
    (scans / "three.tif").write_bytes(bytes(data))
    result = run_cli("ingest", str(scans / "three.tif"), str(phototest), "--lang", "eng", "--jobs", "1", "--json")
    assert result.exit_code == ExitCode.partial, result.output
    report = _report(result)
    assert {item["status"] for item in report["items"]} == {"processed", "failed"}
    assert (report["summary"]["documents"], report["summary"]["pages"]) == (1, 1)


def test_every_file_of_a_document_fails_together(run_cli, tmp_path):
    dosar = tmp_path / "dosar"
    dosar.mkdir()
    shutil.copy(DATA / "pages" / "phototest.tif", dosar / "p1.tif")
    (dosar / "p2.tif").write_bytes(b"")
    result = run_cli("ingest", str(dosar), "--lang", "eng", "--json")
    items = {Path(i["source"]).name: i for i in _report(result)["items"]}
    assert items["p2.tif"]["reason"] == "empty-file"
    assert items["p1.tif"]["reason"] == "document-incomplete"
    assert result.exit_code == ExitCode.bad_input


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_CORPUS / "edge").is_dir(), reason=NEEDS_CORPUS)
def test_whole_edge_corpus_in_one_batch(run_cli, tmp_path):
    """Every hard input of the development corpus is processed or refused with a named reason."""
    batch = tmp_path / "edge"
    shutil.copytree(SHARED_CORPUS / "edge", batch)
    originals = tree_hashes(batch)
    result = run_cli("ingest", str(batch), "--group", "file", "--lang", "eng", "--json")
    assert result.exit_code == ExitCode.partial, result.output
    items = _report(result)["items"]
    failed = {Path(i["source"]).name: i["reason"] for i in items if i["status"] == "failed"}
    assert failed.pop("encrypted_algo4.pdf") == "encrypted"
    assert set(failed.values()) <= {"unsupported-format", "too-large"}, failed
    assert all(i["detail"] for i in items if i["status"] == "failed")
    processed = [i for i in items if i["status"] == "processed"]
    assert len(processed) >= 35
    assert all(check_pdfa(Path(i["pdf"])) == [] for i in processed)
    assert tree_hashes(batch) == originals


def test_pages_ocr_may_have_misread_are_listed_in_the_report(run_cli, phototest, tmp_path):
    import numpy as np
    from PIL import Image

    noise = phototest.parent / "stain.png"  # a page of scanner noise: nothing Tesseract can read well
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (900, 700), dtype=np.uint8)).save(noise, dpi=(300, 300))
    result = run_cli("ingest", str(phototest.parent), "--group", "file", "--lang", "eng", "--json")
    report = _report(result)
    items = {Path(i["source"]).name: i for i in report["items"]}
    assert items["stain.png"]["review_pages"] == [1] and items["phototest.tif"]["review_pages"] == []
    assert report["summary"]["pages_to_review"] == 1
    summary = run_cli("ingest", str(phototest.parent), "--group", "file", "--lang", "eng", "--force")
    assert "1 page to review" in summary.stdout
    # `show` says why, as the summary promises: it gave the bare page number of a page flagged for its quality.
    record = json.loads(run_cli("show", items["stain.png"]["document"], "--json").stdout)
    shown = run_cli("show", items["stain.png"]["document"]).stdout
    assert f"review: 1 (quality {record['pages'][0]['quality']:.2f})" in shown or "review: 1 (no text read)" in shown


def test_the_python_api_takes_paths_and_answers_odd_arguments_with_typed_errors(phototest, archive_dir):
    from pipeline import api
    from pipeline.backends.search.protocol import SearchQuery
    from pipeline.errors import UsageError
    from pipeline.options import Options

    options = Options(archive=archive_dir, languages=("eng",), jobs=1)
    assert api.ingest([phototest], options).count("processed") == 1  # a Path, as a caller would pass it
    assert api.ingest(str(phototest), options).count("skipped") == 1  # one path alone, not its letters
    for odd in (lambda: api.ingest([None], options), lambda: api.ocr_file(phototest.parent / "none.png", options),
                lambda: SearchQuery("quick", year_from="1930"), lambda: SearchQuery(None),
                lambda: SearchQuery("quick", limit="5")):
        with pytest.raises(UsageError):  # each was a raw AttributeError, TypeError or ValueError
            odd()


def test_options_refuse_what_they_cannot_take_with_typed_errors_also_when_derived(phototest, archive_dir):
    """Bad option values raised pydantic's ValidationError, a TypeError or an AttributeError, not retrodig's typed
    errors; a value changed with model_copy(update=...), as the Options docstring advises, was not checked at all
    ("ron+hun" was read as the languages r, o, n, +, h, u, n; a collection kept its cedilla)."""
    from pipeline import api
    from pipeline.backends.search.protocol import SearchQuery
    from pipeline.errors import InvalidOptionError, UsageError
    from pipeline.options import Options

    for odd in (lambda: Options(jobs=0), lambda: Options(grouping="page"), lambda: Options(cluster="host:8786"),
                lambda: Options.model_validate({"max_pixels": 10}), lambda: Options(search={"backend": "solr"}),
                # the languages too (a plain UsageError: `except InvalidOptionError`, as the README says, missed it)
                lambda: Options(languages="r o n"), lambda: Options(languages=""), lambda: Options(languages=123)):
        with pytest.raises(InvalidOptionError):
            odd()
    for odd in (lambda: Options(languages=None), lambda: api.ingest([phototest], None),
                lambda: api.search(None, "quick"), lambda: api.show(Options(archive=archive_dir), None),
                lambda: SearchQuery("quick", year_from=1980, year_to=1974), lambda: SearchQuery("q", language="klingon")):
        with pytest.raises(UsageError):
            odd()
    options = Options(archive=archive_dir, languages="eng", jobs=1)
    derived = options.model_copy(update={"languages": "ron+hun", "collection": "Timişoara"})
    assert (derived.languages, derived.collection, derived.jobs) == (("ron", "hun"), "Timișoara", 1)
    with pytest.raises(InvalidOptionError, match="jobs"):
        options.model_copy(update={"jobs": -5})
    assert options.model_copy() == options
    # A batch whose languages are detected may be Romanian: its collection is spelt as a Romanian batch's (a fond
    # ingested once with --lang auto and once with --lang ron was two collections).
    assert Options(languages="auto", collection="Fond Şcoli").collection == Options(
        languages="ron", collection="Fond Şcoli").collection == "Fond Școli"


def test_the_python_api_uses_the_archive_s_own_settings(phototest, archive_dir):
    """The API ignored the archive's retrodig.yaml: an archive served by Elasticsearch was searched (and would have
    been indexed) in an embedded index the CLI and the portal never use."""
    from pipeline import api
    from pipeline.errors import RetrodigError, UsageError
    from pipeline.options import Options, SearchSettings

    assert api.ingest([phototest], Options(archive=archive_dir, languages="eng", jobs=1)).count("processed") == 1
    (archive_dir / "retrodig.yaml").write_text("search:\n  backend: elasticsearch\n  url: http://127.0.0.1:9\n"
                                               "cluster: tcp://127.0.0.1:9\n")
    options = Options(archive=archive_dir)
    assert (options.search.backend, options.search.url, options.cluster) == (
        "elasticsearch", "http://127.0.0.1:9", "tcp://127.0.0.1:9")
    with pytest.raises(RetrodigError) as raised:  # the configured backend is asked, and cannot be reached
        api.search(options, "quick")
    assert raised.value.exit_code == ExitCode.archive_unavailable, raised.value
    # What the caller says wins over the file.
    own = Options(archive=archive_dir, search=SearchSettings(), cluster=None)
    assert api.search(own, "quick").total == 1 and own.cluster is None
    (archive_dir / "retrodig.yaml").write_text("serach: {}\n")
    with pytest.raises(UsageError, match="serach"):
        Options(archive=archive_dir)
    # A section given twice: the second, left over from an example, silently replaced the first.
    (archive_dir / "retrodig.yaml").write_text("search: {backend: embedded}\ncluster: null\nsearch: {}\n")
    with pytest.raises(UsageError, match="(?s)retrodig.yaml: not valid YAML.*the key 'search' is given twice"
                                         '.*in ".*retrodig.yaml", line 3'):  # not "<unicode string>"
        Options(archive=archive_dir)


def test_a_script_that_ingests_at_its_top_level_is_told_to_guard_it(phototest, tmp_path):
    """The README's API example saved as a script, without `if __name__ == "__main__":`: each worker imported the
    script again and ingested too, found the archive locked and died, and every page failed as an internal
    error. Each worker now stops with a message that names the guard."""
    script = tmp_path / "unguarded.py"
    script.write_text("from pipeline.api import ingest, Options\n"
                      f"report = ingest([{str(phototest)!r}], Options(archive={str(tmp_path / 'archive')!r}, "
                      "languages='eng', jobs=2))\nprint('summary', report.to_dict()['summary'])\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert "if __name__ == \"__main__\":" in result.stderr, result.stderr[-2000:]
    assert "ArchiveBusyError" not in result.stderr
