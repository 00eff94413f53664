"""Scanned PDF pages as scanners and software write them: rendered at the resolution of the scan drawn on them.

Each PDF here is built from a real scan of tests/data the way such files are laid out: a page in strips, a mixed
raster page (colour background under a black text mask), a page box in /UserUnit, a CCITT G4 page, a page with a
stamp annotation, and damaged files (a JPEG cut short or garbled, compressed pixels damaged, an image or a page
missing from the file, a page tree counting too few pages, a trailer cut off)."""

import io
import json
import re

import img2pdf
import numpy as np
import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name
from PIL import Image

from pipeline.errors import CorruptFileError, ExitCode, TruncatedFileError
from pipeline.stages.load import load_page
from pipeline.stages.preflight import inspect_scan

from .conftest import DATA

SCAN = DATA / "pages" / "EHRI-DR-19390519-US_04.jpg"  # 1494 x 2388 px, 300 dpi, grey
BITONAL_SCAN = DATA / "pages" / "8071_093.3B.tif"  # 300 dpi, CCITT G4
A4 = (595.28, 841.89)


def _jpeg_stream(pdf: pikepdf.Pdf, image: Image.Image) -> pikepdf.Stream:
    data = io.BytesIO()
    image.save(data, "JPEG", quality=90)
    space = Name.DeviceGray if image.mode == "L" else Name.DeviceRGB
    return pdf.make_stream(data.getvalue(), Type=Name.XObject, Subtype=Name.Image, Width=image.width,
                           Height=image.height, ColorSpace=space, BitsPerComponent=8, Filter=Name.DCTDecode)


def _page(pdf: pikepdf.Pdf, box, xobjects: dict, content: bytes, **extra) -> None:
    pdf.pages.append(pikepdf.Page(Dictionary(
        Type=Name.Page, MediaBox=Array(box), Resources=Dictionary(XObject=Dictionary(xobjects)),
        Contents=pdf.make_stream(content), **extra)))


def _whole_page(pdf: pikepdf.Pdf, image: pikepdf.Stream, width: float, height: float, **extra) -> None:
    """A page of `width` x `height` points that one image covers."""
    _page(pdf, [0, 0, width, height], {"/I": image}, b"q %.4f 0 0 %.4f 0 0 cm /I Do Q" % (width, height), **extra)


def _scan_page_size(scan: Image.Image) -> tuple[float, float]:
    return scan.width / 300 * 72, scan.height / 300 * 72


def test_a_page_stored_in_strips_is_rendered_at_the_scans_resolution(tmp_path):
    scan = Image.open(SCAN)
    width, height = _scan_page_size(scan)
    pdf, strips, content = pikepdf.new(), {}, b""
    bands = 8
    for n in range(bands):
        top, bottom = n * scan.height // bands, (n + 1) * scan.height // bands
        strips[f"/S{n}"] = _jpeg_stream(pdf, scan.crop((0, top, scan.width, bottom)))
        drawn = (bottom - top) / scan.height * height
        content += b"q %.4f 0 0 %.4f 0 %.4f cm /S%d Do Q\n" % (width, drawn, height - bottom / scan.height * height, n)
    _page(pdf, [0, 0, width, height], strips, content)
    pdf.save(tmp_path / "strips.pdf")
    page = load_page(tmp_path / "strips.pdf", "pdf", 0, 10**9, 300)
    # Measured by a strip's pixels against the page's height, it was read at 187 dpi.
    assert page.dpi == 300
    assert abs(page.pixels.shape[0] - scan.height) <= 1 and abs(page.pixels.shape[1] - scan.width) <= 1


def test_a_mixed_raster_page_is_rendered_at_its_text_masks_resolution(tmp_path):
    scan = Image.open(SCAN)
    width, height = _scan_page_size(scan)
    pdf = pikepdf.new()
    background = Image.new("RGB", (scan.width // 3, scan.height // 3), (236, 224, 196))  # 100 dpi paper
    ink = np.asarray(scan) < 128
    mask = pdf.make_stream(np.packbits(ink, axis=1).tobytes(), Type=Name.XObject, Subtype=Name.Image,
                           Width=scan.width, Height=scan.height, ImageMask=True, Decode=Array([1, 0]))
    _page(pdf, [0, 0, width, height], {"/B": _jpeg_stream(pdf, background), "/M": mask},
          b"q %.4f 0 0 %.4f 0 0 cm /B Do Q q 0 g %.4f 0 0 %.4f 0 0 cm /M Do Q" % (width, height, width, height))
    pdf.save(tmp_path / "mrc.pdf")
    # Measured by its largest image, the 100 dpi background, it was rendered at 150 dpi: letters half their size.
    assert load_page(tmp_path / "mrc.pdf", "pdf", 0, 10**9, 300).dpi == 300


def test_a_page_box_in_user_units_is_measured_in_them(tmp_path):
    scan = Image.open(SCAN)
    width, height = _scan_page_size(scan)
    pdf = pikepdf.new()
    # The same page in units of 2/72 inch: its box is half as large in numbers, and as large on paper.
    _whole_page(pdf, _jpeg_stream(pdf, scan), width / 2, height / 2, UserUnit=2)
    pdf.save(tmp_path / "userunit.pdf")
    page = load_page(tmp_path / "userunit.pdf", "pdf", 0, 10**9, 300)
    # Poppler ignores /UserUnit: the page came out 600 dpi for a page half its size, and so did its PDF/A copy.
    assert page.dpi == 300
    assert abs(page.pixels.shape[0] - scan.height) <= 1


def test_a_rotate_key_that_is_no_number_is_read_as_absent(tmp_path):
    """A broken tool's /Rotate (90) written as the string "90": int() of it was an internal error. Poppler
    renders the page unturned, and its size is measured so."""
    scan = Image.open(SCAN)
    width, height = _scan_page_size(scan)
    pdf = pikepdf.new()
    _whole_page(pdf, _jpeg_stream(pdf, scan), width, height, Rotate=pikepdf.String("90"))
    pdf.save(tmp_path / "rotate.pdf")
    page = load_page(tmp_path / "rotate.pdf", "pdf", 0, 10**9, 300)
    assert page.dpi == 300 and abs(page.pixels.shape[0] - scan.height) <= 1


def test_a_ccitt_scan_stays_black_and_white_to_the_archived_copy(run_cli, tmp_path, archive_dir):
    source = tmp_path / "register.pdf"
    source.write_bytes(img2pdf.convert(str(BITONAL_SCAN)))
    with pikepdf.open(source) as pdf:
        (image,) = pdf.pages[0].get_images().values()
        assert pikepdf.PdfImage(image).filters == ["/CCITTFaxDecode"]
    page = load_page(source, "pdf", 0, 10**9, 300)
    # Rendered grey, its edges smoothed: it was stored as a grey JPEG, larger and blurred.
    assert page.bilevel
    result = run_cli("ingest", str(source), "--lang", "eng", "--json")
    assert result.exit_code == ExitCode.ok, result.output
    (item,) = json.loads(result.stdout)["items"]
    with pikepdf.open(item["pdf"]) as pdf:
        (image,) = pdf.pages[0].get_images().values()
        assert pikepdf.PdfImage(image).filters == ["/CCITTFaxDecode"] and image.BitsPerComponent == 1


def test_a_stamp_annotation_keeps_its_colour(tmp_path):
    scan = Image.open(SCAN)
    width, height = _scan_page_size(scan)
    pdf = pikepdf.new()
    _whole_page(pdf, _jpeg_stream(pdf, scan), width, height)
    stamp = pdf.make_stream(b"0.8 0 0 rg 0 0 120 40 re f", Type=Name.XObject, Subtype=Name.Form,
                            BBox=Array([0, 0, 120, 40]))
    pdf.pages[0].obj.Annots = pdf.make_indirect(Array([pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.Stamp, Rect=Array([200, 300, 320, 340]), AP=Dictionary(N=stamp)))]))
    pdf.save(tmp_path / "stamped.pdf")
    page = load_page(tmp_path / "stamped.pdf", "pdf", 0, 10**9, 300)
    # The scan is grey, so the page was rendered grey: the red stamp came out as a grey box.
    assert page.pixels.ndim == 3
    red = page.pixels[..., 0].astype(int) - page.pixels[..., 1]
    assert (red > 100).sum() > 0.9 * (120 * 40 / 72**2 * 300**2)


@pytest.mark.parametrize("appended", [b"", b"\xff\xd9"])  # a tool "repairing" it may append the end marker
def test_a_jpeg_cut_short_inside_a_pdf_fails_its_file_as_cut(run_cli, tmp_path, appended):
    scan = Image.open(SCAN)
    width, height = _scan_page_size(scan)
    pdf = pikepdf.new()
    image = _jpeg_stream(pdf, scan)
    data = image.read_raw_bytes()
    image.write(data[: len(data) * 2 // 3] + appended, filter=Name.DCTDecode)
    _whole_page(pdf, image, width, height)
    pdf.save(tmp_path / "cut.pdf")
    with pytest.raises(TruncatedFileError, match="page 1"):
        load_page(tmp_path / "cut.pdf", "pdf", 0, 10**9, 300)
    # Poppler painted the lost third grey and said nothing: the page was archived without its lower part.
    result = run_cli("ingest", str(tmp_path / "cut.pdf"), "--lang", "eng", "--json")
    assert result.exit_code == ExitCode.bad_input
    (item,) = json.loads(result.stdout)["items"]
    assert item["status"] == "failed" and item["reason"] == "truncated"


def test_a_page_tree_counting_too_few_pages_is_read_whole(tmp_path):
    scan = Image.open(SCAN).reduce(2)
    width, height = scan.width / 150 * 72, scan.height / 150 * 72
    pdf = pikepdf.new()
    for _ in range(3):
        _whole_page(pdf, _jpeg_stream(pdf, scan), width, height)
    pdf.save(tmp_path / "plain.pdf", object_stream_mode=pikepdf.ObjectStreamMode.disable)
    raw = (tmp_path / "plain.pdf").read_bytes()
    assert raw.count(b"/Count 3") == 1
    (tmp_path / "short.pdf").write_bytes(raw.replace(b"/Count 3", b"/Count 2"))  # same length: xref still right
    # qpdf counts three pages; poppler trusted /Count and rendered nothing for the third, which failed the file.
    page = load_page(tmp_path / "short.pdf", "pdf", 2, 10**9, 300)
    assert page.pixels.shape[:2] == (scan.height, scan.width)


def _three_pages(tmp_path, damage=None, name="damaged.pdf", **save):
    """A PDF of three pages of a real scan (half size, 150 dpi); `damage(pdf, images)` changes it before saving."""
    scan = Image.open(SCAN).reduce(2)
    width, height = scan.width / 150 * 72, scan.height / 150 * 72
    pdf = pikepdf.new()
    images = [_jpeg_stream(pdf, scan) for _ in range(3)]
    for image in images:
        _whole_page(pdf, image, width, height)
    if damage:
        damage(pdf, images)
    pdf.save(tmp_path / name, **save)
    return tmp_path / name


def _pages_of(path):
    scan = inspect_scan(path, 10**9)
    return [load_page(path, "pdf", index, 10**9, 300) for index in range(scan.page_count)]


def _garble(pdf, images):
    data = bytearray(images[1].read_raw_bytes())
    middle = len(data) // 2
    data[middle:middle + 256] = np.random.default_rng(7).bytes(256)  # a failing disk's or a transfer's bytes
    images[1].write(bytes(data), filter=Name.DCTDecode)


def _not_a_jpeg(pdf, images):
    images[1].write(b"garbage " * 2000, filter=Name.DCTDecode)


def _flate_damaged(pdf, images):
    pixels = np.asarray(Image.open(SCAN).reduce(2))
    image = pdf.make_stream(b"", Type=Name.XObject, Subtype=Name.Image, Width=pixels.shape[1],
                            Height=pixels.shape[0], ColorSpace=Name.DeviceGray, BitsPerComponent=8)
    image.write(pixels.tobytes())  # pikepdf compresses it (Flate)
    data = bytearray(image.read_raw_bytes())
    data[len(data) // 2:len(data) // 2 + 32] = bytes(32)
    image.write(bytes(data), filter=Name.FlateDecode)
    pdf.pages[1].Resources.XObject.I = image


def _flate_wrapped_jpeg_cut(pdf, images):
    import zlib

    data = images[1].read_raw_bytes()
    images[1].write(zlib.compress(data[:len(data) * 2 // 3] + b"\xff\xd9"),
                    filter=Array([Name.FlateDecode, Name.DCTDecode]))


@pytest.mark.parametrize("damage, error, said", [
    (_garble, CorruptFileError, "page 2 is damaged"),
    (_not_a_jpeg, CorruptFileError, "page 2 is said to be a JPEG and is none"),
    (_flate_damaged, CorruptFileError, "image data of page 2 is damaged"),
    (_flate_wrapped_jpeg_cut, TruncatedFileError, "page 2 ends early"),
])
def test_a_damaged_image_on_one_page_fails_its_file(tmp_path, damage, error, said):
    """Poppler rendered what it could without an error (the lower part grey or smeared, rows missing), and the
    page was archived so, with four of its six lines, and not flagged."""
    path = _three_pages(tmp_path, damage)
    with pytest.raises(error, match=said):
        _pages_of(path)
    assert len(_pages_of(_three_pages(tmp_path, name="whole.pdf"))) == 3


def _dangling(target: int, raw: bytes) -> bytes:
    """`raw` with references to object `target` (its number) pointing at an object the file does not hold."""
    return raw.replace(b" %d 0 R" % target, b" 999 0 R")


def test_an_image_or_a_page_missing_from_the_file_fails_it(tmp_path):
    """A page whose image object is missing was archived blank (flagged as blank only); a page tree entry whose
    page is missing made qpdf count two pages and poppler three, and the third page was never rendered."""
    plain = _three_pages(tmp_path, name="plain.pdf", object_stream_mode=pikepdf.ObjectStreamMode.disable)
    with pikepdf.open(plain) as pdf:
        image_number = pdf.pages[1].Resources.XObject.I.objgen[0]
    (tmp_path / "no_image.pdf").write_bytes(_dangling(image_number, plain.read_bytes()))
    with pytest.raises(CorruptFileError, match="an image of page 2 is missing from the file"):
        _pages_of(tmp_path / "no_image.pdf")
    # A linearized file (poppler finds its pages by its hints) whose page tree names an object it lacks. (In a
    # file that is not linearized poppler passes over the entry as qpdf does and counts an empty page at the end,
    # as for a /Count too large: that page is lost unnoticed.)
    linear = _three_pages(tmp_path, name="linear.pdf", object_stream_mode=pikepdf.ObjectStreamMode.disable,
                          linearize=True).read_bytes()
    kids = re.search(rb"/Kids \[ (\d+) 0 R (\d+) 0 R (\d+) 0 R \]", linear)
    size = int(re.search(rb"/Size (\d+)", linear).group(1))
    kid = next(n for n in (1, 2, 3) if int(b"9" * len(kids.group(n))) >= size)  # past the last object, same length
    (tmp_path / "no_page.pdf").write_bytes(linear[:kids.start(kid)] + b"9" * len(kids.group(kid))
                                           + linear[kids.end(kid):])
    with pytest.raises(CorruptFileError, match="lists 3 pages, 1 of them missing"):
        inspect_scan(tmp_path / "no_page.pdf", 10**9)


def test_a_jpeg_with_a_line_break_before_its_start_marker_is_read(tmp_path):
    """Poppler renders it (some writers put a line break before the data); it was refused as "no JPEG"."""
    def line_break_first(pdf, images):
        images[1].write(b"\r\n" + images[1].read_raw_bytes(), filter=Name.DCTDecode)

    assert len(_pages_of(_three_pages(tmp_path, line_break_first))) == 3


def test_a_page_tree_counting_too_many_pages_is_read(tmp_path):
    """/Count says 4 of three pages, nothing is missing: it was refused as "page tree damaged" (poppler counted 4)."""
    plain = _three_pages(tmp_path, name="plain.pdf", object_stream_mode=pikepdf.ObjectStreamMode.disable)
    raw = plain.read_bytes()
    assert raw.count(b"/Count 3") == 1
    (tmp_path / "long.pdf").write_bytes(raw.replace(b"/Count 3", b"/Count 4"))
    assert len(_pages_of(tmp_path / "long.pdf")) == 3


def test_a_pdf_whose_trailer_was_cut_off_is_read_whole(tmp_path):
    """qpdf rebuilds the trailer; poppler could not count the pages and failed the file as corrupt, with a dozen
    lines of its messages."""
    plain = _three_pages(tmp_path, name="plain.pdf", object_stream_mode=pikepdf.ObjectStreamMode.disable,
                         compress_streams=False)
    raw = plain.read_bytes()
    trailer = raw.rindex(b"trailer")
    (tmp_path / "cut_trailer.pdf").write_bytes(raw[:trailer] + b"trailer\n<< /Size 1" + b"\nstartxref\n"
                                               + raw[raw.rindex(b"startxref") + 10:])
    assert [page.pixels.shape for page in _pages_of(tmp_path / "cut_trailer.pdf")] == \
        [page.pixels.shape for page in _pages_of(plain)]


def test_verify_counts_the_master_of_a_file_that_failed_after_it_was_kept(run_cli, tmp_path, archive_dir):
    """A file refused where its page is read leaves its master in the archive (an ingest of it again uses it);
    verify said "N masters of N documents" and nothing of it."""
    damaged = _three_pages(tmp_path, _garble)
    result = run_cli("ingest", str(damaged), "--lang", "eng", "--json")
    assert result.exit_code == ExitCode.bad_input and json.loads(result.stdout)["items"][0]["reason"] == "corrupt"
    checked = run_cli("verify", "--json")
    assert checked.exit_code == ExitCode.ok, checked.output
    (kept,) = json.loads(checked.stdout)["unreferenced_masters"]
    assert (archive_dir / kept).read_bytes() == damaged.read_bytes()  # (an absolute path, joined, stays itself)
    assert "1 master(s) belong to no document" in run_cli("verify").stdout
