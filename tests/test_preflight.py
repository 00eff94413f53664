"""Preflight refuses hard inputs with a named reason, from real files (and real damage done to copies)."""

import io
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import (
    CorruptFileError,
    DecompressionBombError,
    EmptyFileError,
    EncryptedPdfError,
    TruncatedFileError,
    UnsupportedFormatError,
)
from pipeline.stages.preflight import A4_PIXELS_AT_300_DPI, inspect_scan, ocr_cost

from .conftest import DATA, REPO

EDGE = DATA / "edge"
LIMIT = 250_000_000


def _truncated_copy(source: Path, target: Path, keep: float = 0.6) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def test_good_files_pass_with_page_counts():
    assert inspect_scan(EDGE / "3small.pdf", LIMIT).page_count == 3
    assert inspect_scan(EDGE / "baiona_cmyk.jpg", LIMIT).format == "jpeg"
    scan = inspect_scan(DATA / "pages" / "phototest.tif", LIMIT)
    assert (scan.format, scan.page_count, len(scan.sha256)) == ("tiff", 1, 64)


def test_multipage_tiff_counts_its_pages(tmp_path):
    source = Image.open(DATA / "pages" / "phototest.tif").convert("L")
    target = tmp_path / "register.tif"
    source.save(target, save_all=True, append_images=[source.rotate(180), source.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])
    assert inspect_scan(target, LIMIT).page_count == 3


def test_encrypted_pdf_is_refused():
    """It opens without a password (an owner password restricts it): what to do is said, and retrodig does
    not lift the restriction itself (nor does OCRmyPDF)."""
    with pytest.raises(EncryptedPdfError, match=r"restricts changing or copying it .*qpdf --decrypt"):
        inspect_scan(EDGE / "encrypted_algo4.pdf", LIMIT)


def test_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.tif"
    empty.touch()
    with pytest.raises(EmptyFileError, match="0 bytes"):
        inspect_scan(empty, LIMIT)


@pytest.mark.parametrize("name", ["baiona_cmyk.jpg", "baiona_alpha.png"])
def test_truncated_images_are_refused(tmp_path, name):
    cut = _truncated_copy(EDGE / name, tmp_path / name)
    with pytest.raises((TruncatedFileError, CorruptFileError)):
        inspect_scan(cut, LIMIT)


def test_truncated_tiff_is_refused(tmp_path):
    cut = _truncated_copy(DATA / "pages" / "phototest.tif", tmp_path / "cut.tif", keep=0.5)
    with pytest.raises((TruncatedFileError, CorruptFileError)):
        inspect_scan(cut, LIMIT)


def test_truncated_pdf_is_refused(tmp_path):
    cut = _truncated_copy(EDGE / "3small.pdf", tmp_path / "cut.pdf", keep=0.3)
    with pytest.raises((CorruptFileError, TruncatedFileError)):
        inspect_scan(cut, LIMIT)


def test_a_pdf_padded_with_zero_bytes_after_its_end_is_read(tmp_path):
    """Some writers and transfers leave NUL bytes after %%EOF; poppler and qpdf read such files. Only the last
    2 KiB were searched for the marker, and 4 KiB of padding made the file "cut short"."""
    padded = tmp_path / "padded.pdf"
    padded.write_bytes((EDGE / "3small.pdf").read_bytes() + bytes(4096))
    assert inspect_scan(padded, LIMIT).page_count == inspect_scan(EDGE / "3small.pdf", LIMIT).page_count


@pytest.mark.parametrize("after", [np.random.default_rng(3).bytes(4096), b"<html><body>" + b"<p>502 Bad Gateway</p>" * 300,
                                   b"<html><body>" + b"<p>The requested object was not found.</p>" * 100])
def test_a_pdf_with_other_data_after_its_end_is_read(tmp_path, after):
    """A transfer's leftovers or a web server's error page after %%EOF: viewers read such files. Over 2 KiB of it
    made the file "cut short"."""
    followed = tmp_path / "followed.pdf"
    followed.write_bytes((EDGE / "3small.pdf").read_bytes() + after)
    assert inspect_scan(followed, LIMIT).page_count == inspect_scan(EDGE / "3small.pdf", LIMIT).page_count


def test_a_pdf_whose_last_update_was_cut_short_is_refused(tmp_path):
    """An incremental update appended after %%EOF and cut before its own: qpdf would guess the rest."""
    update = b"\n4 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n" * 40
    cut = tmp_path / "cut_update.pdf"
    cut.write_bytes((EDGE / "3small.pdf").read_bytes() + update)
    with pytest.raises(TruncatedFileError, match="cut short"):
        inspect_scan(cut, LIMIT)


def test_a_garbled_jpeg_is_refused_as_corrupt(tmp_path):
    """Bytes overwritten in its coded data (a failing disk, a transfer): Pillow decoded it without a word and
    the page was archived smeared from there on."""
    page = (DATA / "pages" / "EHRI-DR-19390519-US_04.jpg").read_bytes()
    # 256 bytes; 3000 bytes that libjpeg reads as a bogus table or a frame of another process (they passed, and a
    # third of the page was archived unread as a good page).
    for seed, size in ((7, 256), (9, 3000), (16, 3000)):
        data = bytearray(page)
        middle = len(data) // 2
        data[middle:middle + size] = np.random.default_rng(seed).bytes(size)
        garbled = tmp_path / f"garbled-{seed}.jpg"
        garbled.write_bytes(bytes(data))
        with pytest.raises(CorruptFileError, match="JPEG's image data is damaged"):
            inspect_scan(garbled, LIMIT)


def test_text_file_and_misnamed_bmp_are_refused_with_what_they_are(tmp_path):
    text = tmp_path / "notes.tif"
    text.write_text("these are notes, not a scan\n")
    with pytest.raises(UnsupportedFormatError, match="plain text"):
        inspect_scan(text, LIMIT)
    bmp = tmp_path / "page.tif"
    buffer = io.BytesIO()
    Image.open(EDGE / "baiona_cmyk.jpg").convert("RGB").save(buffer, "BMP")
    bmp.write_bytes(buffer.getvalue())
    with pytest.raises(UnsupportedFormatError, match="BMP"):
        inspect_scan(bmp, LIMIT)


def test_huge_pdf_page_passes_preflight():
    # hugemono.pdf: a 35000x35000 bilevel page - a decompression bomb for a naive rasterizer. Preflight only
    # reads the header; the page stage rasterizes it at a lower dpi (see test_big_pages).
    scan = inspect_scan(EDGE / "hugemono.pdf", LIMIT)
    assert scan.page_count == 1


def forged_png(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims `width` x `height` pixels over a few bytes of data: a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_decompression_bomb_is_refused_by_name(tmp_path):
    with pytest.raises(DecompressionBombError, match="100000x100000 px"):
        inspect_scan(forged_png(tmp_path / "bomb.png", 100_000, 100_000), LIMIT)


def test_jpeg_over_the_pixel_limit_passes_it_is_decoded_reduced(tmp_path):
    big = tmp_path / "big.jpg"
    Image.new("L", (4000, 3000), 255).save(big)
    assert inspect_scan(big, 10_000_000).page_count == 1


def test_image_over_the_pixel_limit_is_refused(tmp_path):
    big = tmp_path / "big.png"
    Image.new("L", (4000, 3000), 255).save(big)
    with pytest.raises(DecompressionBombError, match="12 MP"):
        inspect_scan(big, 10_000_000)


def test_originals_are_only_read(tmp_path):
    copy = Path(shutil.copy(EDGE / "palette.pdf", tmp_path / "palette.pdf"))
    before = copy.read_bytes(), copy.stat().st_mtime_ns
    inspect_scan(copy, LIMIT)
    assert (copy.read_bytes(), copy.stat().st_mtime_ns) == before


def test_ocr_cost_counts_a_low_resolution_scan_as_enlarged_for_ocr():
    """The heaviest pages of a batch start first; a 150 dpi scan is enlarged for OCR, so it weighs more."""
    at_300 = inspect_scan(DATA / "pages" / "EHRI-DR-19390519-US_04.jpg", LIMIT)  # 1494x2388, 300 dpi
    at_150 = inspect_scan(DATA / "pages" / "EHRI-DR-19431002-DK_02.jpg", LIMIT)  # 1239x2019, 150 dpi
    assert ocr_cost(at_300) == 1494 * 2388
    assert ocr_cost(at_150) == pytest.approx(1239 * 2019 * 2 ** 2)
    assert ocr_cost(inspect_scan(EDGE / "trivial.pdf", LIMIT)) == A4_PIXELS_AT_300_DPI


def test_a_file_that_cannot_be_read_is_refused_as_unreadable(tmp_path):
    """It failed as retrodig's own bug ("internal-error", with a traceback)."""
    scan = shutil.copy(DATA / "pages" / "phototest.tif", tmp_path / "locked.tif")
    os.chmod(scan, 0)
    check = ("import sys; from pathlib import Path; from pipeline.errors import InputError; "
             "from pipeline.stages.preflight import inspect_scan\n"
             "try: inspect_scan(Path(sys.argv[1]), 10**9)\n"
             "except InputError as error: print(error.reason, error.detail, sep=': ')")
    command = [sys.executable, "-c", check, str(scan)]
    if os.geteuid() == 0:  # root reads any file: the process is started without that right
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "unreadable: the file cannot be read: Permission denied", done.stderr


@pytest.mark.parametrize(("pages", "keep"), [(1, 0.5), (3, 0.6)])
def test_a_tiff_cut_before_its_image_directory_is_truncated(tmp_path, pages, keep):
    """Pillow writes (as many scanners do) each page's directory after its pixels: a copy cut short lost them,
    and Pillow's "cannot identify image file" / "Missing dimensions" was reported as a corrupt file."""
    page = Image.open(DATA / "pages" / "EHRI-DR-19390519-US_04.jpg")
    whole = tmp_path / "whole.tif"
    page.save(whole, save_all=True, append_images=[page] * (pages - 1), compression="tiff_lzw")
    assert inspect_scan(whole, LIMIT).page_count == pages
    with pytest.raises(TruncatedFileError, match="cut short"):
        inspect_scan(_truncated_copy(whole, tmp_path / "cut.tif", keep), LIMIT)


@pytest.mark.parametrize("suffix", [".jp2", ".j2k"])
def test_a_jpeg_2000_cut_short_is_truncated_before_its_master_is_kept(tmp_path, suffix):
    """It passed preflight: its master was copied into the archive, then its page failed as corrupt."""
    page = Image.open(DATA / "pages" / "EHRI-DR-19390519-US_04.jpg").convert("L").resize((600, 960))
    whole = tmp_path / f"whole{suffix}"
    page.save(whole)
    assert inspect_scan(whole, LIMIT).page_count == 1
    for n, trailing in enumerate((bytes(100), bytes(3), b"\n", b"\xff\xff")):  # after the stream: no damage
        padded = tmp_path / f"padded{n}{suffix}"
        padded.write_bytes(whole.read_bytes() + trailing)
        assert inspect_scan(padded, LIMIT).page_count == 1, trailing
    with pytest.raises(TruncatedFileError, match="cut short"):
        inspect_scan(_truncated_copy(whole, tmp_path / f"cut{suffix}", 0.5), LIMIT)


def test_a_jpeg_whose_header_claims_far_more_pixels_than_its_bytes_hold_is_refused(tmp_path):
    """A small JPEG whose header says 65000 x 65000 px passed, and was decoded at 1/8 scale into a blank page of
    850 MB. A blank A4 page at 300 dpi, the smallest a whole page gets, holds 1 byte per 250 pixels."""
    buffer = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    frame = data.index(b"\xff\xc0")  # start of frame: length (2), precision (1), height (2), width (2)
    data[frame + 5:frame + 9] = struct.pack(">HH", 65000, 65000)
    (tmp_path / "huge.jpg").write_bytes(bytes(data))
    with pytest.raises(TruncatedFileError, match="cannot hold a JPEG of 65000x65000 px"):
        inspect_scan(tmp_path / "huge.jpg", LIMIT)
    blank = tmp_path / "blank.jpg"
    Image.new("L", (2480, 3508), 255).save(blank, quality=10, optimize=True)
    assert inspect_scan(blank, LIMIT).page_count == 1


@pytest.mark.parametrize("compression", ["tiff_lzw", "group4"])
def test_a_tiff_cut_inside_its_directory_at_the_end_is_truncated(tmp_path, compression):
    """Its directory's values (dpi, strip offsets) come last: cut by one byte, Pillow only warned, and the page
    failed in the worker after its master was kept, or was archived without its dpi."""
    page = Image.open(DATA / "pages" / "phototest.tif")
    whole = tmp_path / "whole.tif"
    (page.convert("1") if compression == "group4" else page.convert("L")).save(whole, compression=compression,
                                                                              dpi=(300, 300))
    assert inspect_scan(whole, LIMIT).page_count == 1
    cut = tmp_path / "cut.tif"
    cut.write_bytes(whole.read_bytes()[:-1])
    with pytest.raises(TruncatedFileError, match="cut short"):
        inspect_scan(cut, LIMIT)



@pytest.mark.parametrize("mode", ["L", "RGB", "1"])
def test_a_png_whose_image_data_ends_before_its_last_row_is_truncated(tmp_path, mode):
    """A PNG cut short whose zlib stream and IEND a tool completed: Pillow decoded it with the missing rows
    black, and the page was archived half blank."""
    page = Image.open(DATA / "pages" / "EHRI-DR-19390519-US_04.jpg").convert(mode).resize((600, 960))
    whole = tmp_path / "whole.png"
    page.save(whole)
    assert inspect_scan(whole, LIMIT).page_count == 1
    data = whole.read_bytes()
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunks.append((kind, data[offset + 8:offset + 8 + length]))
        offset += 12 + length
    rows = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    def with_image_data(raw: bytes) -> bytes:
        kept = [chunk(kind, body) for kind, body in chunks if kind not in (b"IDAT", b"IEND")]
        return data[:8] + b"".join(kept) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

    (tmp_path / "same.png").write_bytes(with_image_data(rows))  # the same rows, written again: whole
    assert inspect_scan(tmp_path / "same.png", LIMIT).page_count == 1
    (tmp_path / "half.png").write_bytes(with_image_data(rows[: len(rows) // 2]))
    assert Image.open(tmp_path / "half.png").load() is not None  # Pillow reads it without complaint
    with pytest.raises(TruncatedFileError, match="cut short"):
        inspect_scan(tmp_path / "half.png", LIMIT)


def test_a_jpeg_cut_short_with_an_end_marker_appended_is_truncated(tmp_path):
    """Tools that "repair" a cut JPEG append its end marker: Pillow decoded the rest of the page grey, without
    a word, and it was archived so."""
    data = (DATA / "pages" / "EHRI-DR-19390519-US_04.jpg").read_bytes()
    (tmp_path / "whole.jpg").write_bytes(data + b"\0" * 16)  # bytes after the end marker: no damage
    assert inspect_scan(tmp_path / "whole.jpg", LIMIT).page_count == 1
    (tmp_path / "mended.jpg").write_bytes(data[: len(data) // 2] + b"\xff\xd9")
    Image.open(tmp_path / "mended.jpg").load()  # Pillow reads it without complaint
    with pytest.raises(TruncatedFileError, match="cut short"):
        inspect_scan(tmp_path / "mended.jpg", LIMIT)
