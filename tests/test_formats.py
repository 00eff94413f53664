"""Every accepted format goes the whole way: multi-page TIFF, JPEG 2000, a folder of page images, a scanned PDF."""

import json
from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
import pytest
from PIL import Image

from pipeline.errors import ExitCode
from pipeline.pdfa import check_pdfa

from .conftest import DATA

PHOTOTEST = DATA / "pages" / "phototest.tif"
EHRI = DATA / "pages" / "EHRI-DR-19390519-US_04.jpg"


def _ingest(run_cli, *args: str) -> dict:
    result = run_cli("ingest", *args, "--lang", "eng", "--json")
    assert result.exit_code == ExitCode.ok, result.output
    return json.loads(result.stdout)


def _page_texts(archive_dir: Path, doc_id: str) -> list[str]:
    record = json.loads((archive_dir / "documents" / doc_id / "document.json").read_text())
    return [(archive_dir / "documents" / doc_id / p["text"]).read_text() for p in record["pages"]]


def test_multipage_tiff_is_one_document_with_its_pages_in_order(run_cli, tmp_path, archive_dir):
    ehri = Image.open(EHRI).convert("L")
    target = tmp_path / "register.tif"
    Image.open(PHOTOTEST).convert("L").save(target, save_all=True, append_images=[ehri], dpi=(300, 300),
                                            compression="tiff_lzw")
    (item,) = _ingest(run_cli, str(target))["items"]
    assert item["pages"] == 2
    first, second = _page_texts(archive_dir, item["document"])
    assert "quick brown" in first and "sixteen offices" in second
    with pikepdf.open(item["pdf"]) as pdf:
        assert len(pdf.pages) == 2
    assert check_pdfa(Path(item["pdf"])) == []


def test_jpeg2000_scan_is_read(run_cli, tmp_path, archive_dir):
    target = tmp_path / "scan.jp2"
    Image.open(PHOTOTEST).convert("L").save(target, dpi=(300, 300), irreversible=False)
    (item,) = _ingest(run_cli, str(target))["items"]
    assert item["status"] == "processed"
    assert "quick brown" in _page_texts(archive_dir, item["document"])[0]
    hits = json.loads(run_cli("search", "jumped", "--json").stdout)["hits"]
    assert hits and hits[0]["document"] == item["document"]


def test_folder_of_page_images_is_one_document_in_natural_order(run_cli, tmp_path, archive_dir):
    dosar = tmp_path / "dosar-1975"
    dosar.mkdir()
    Image.open(EHRI).save(dosar / "p10.png", dpi=(300, 300))  # p2 must come before p10
    Image.open(PHOTOTEST).convert("L").save(dosar / "p2.png", dpi=(300, 300))
    report = _ingest(run_cli, str(dosar))
    assert {i["document"] for i in report["items"]} == {report["items"][0]["document"]}
    doc = report["items"][0]["document"]
    first, second = _page_texts(archive_dir, doc)
    assert "quick brown" in first and "sixteen offices" in second
    hits = json.loads(run_cli("search", "sixteen", "offices", "--json").stdout)["hits"]
    assert [(h["document"], h["page"]) for h in hits] == [(doc, 2)]


def test_scanned_pdf_is_rasterized_and_searchable(run_cli, tmp_path, archive_dir):
    target = tmp_path / "scanned.pdf"
    target.write_bytes(img2pdf.convert(str(EHRI)))
    (item,) = _ingest(run_cli, str(target))["items"]
    assert "sixteen offices" in _page_texts(archive_dir, item["document"])[0]
    assert check_pdfa(Path(item["pdf"])) == []


def test_a_pdf_page_is_what_its_cropbox_shows(run_cli, tmp_path, archive_dir):
    """Poppler rendered the MediaBox while the page was measured by its CropBox: the archived page came out
    larger than the page a viewer shows, with what the CropBox hides read and indexed."""
    target = tmp_path / "cropped.pdf"
    target.write_bytes(img2pdf.convert(str(PHOTOTEST)))
    with pikepdf.open(target, allow_overwriting_input=True) as pdf:
        left, bottom, right, top = (float(v) for v in pdf.pages[0].mediabox)
        pdf.pages[0].CropBox = [left, bottom + (top - bottom) / 2, right, top]  # the upper half
        pdf.save(target)
    (item,) = _ingest(run_cli, str(target))["items"]
    with pikepdf.open(item["pdf"]) as archived:
        width, height = (float(v) for v in archived.pages[0].mediabox[2:])
    assert abs(width - (right - left)) < 2 and abs(height - (top - bottom) / 2) < 2


def test_a_jpeg_turned_by_its_exif_tag_is_loaded_upright_and_never_handed_on_as_stored(tmp_path):
    """A camera JPEG whose EXIF says "turn me" is worked on turned; Tesseract must then read our pixels, not
    the file (which it would read unturned): such a page is not `as_stored` (see pagework's gentle path)."""
    from pipeline.stages.load import load_page

    scan = Image.open(DATA / "pages" / "EHRI-DR-19390519-US_04.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    turned = tmp_path / "turned.jpg"
    scan.save(turned, exif=exif, quality=95)
    plain = tmp_path / "plain.jpg"
    scan.save(plain, quality=95)

    assert load_page(plain, "jpeg", 0, 10**9, 300).as_stored
    page = load_page(turned, "jpeg", 0, 10**9, 300)
    assert page.pixels.shape[:2] == (scan.width, scan.height) and not page.as_stored


@pytest.mark.parametrize("orientation", [6, 8])
def test_a_jpeg_turned_by_its_exif_tag_keeps_the_dpi_of_its_tag(tmp_path, orientation):
    """Its scale was measured against its width as stored, its height once turned: a 150 dpi page lying on its
    side was read as 94 dpi, and its PDF page was A3 instead of A4."""
    from pipeline.stages.load import load_page

    page = Image.open(DATA / "pages" / "EHRI-DR-19390519-US_04.jpg").convert("L").resize((1240, 1754))
    upright, turned = tmp_path / "upright.jpg", tmp_path / "turned.jpg"
    page.save(upright, dpi=(150, 150), quality=90)
    exif = Image.Exif()
    exif[0x0112] = orientation
    lying = page.transpose(Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270)
    lying.save(turned, dpi=(150, 150), exif=exif, quality=90)

    straight, shown = load_page(upright, "jpeg", 0, 10**9, 300), load_page(turned, "jpeg", 0, 10**9, 300)
    assert shown.pixels.shape[:2] == straight.pixels.shape[:2] == (1754, 1240)
    assert shown.dpi == straight.dpi == 150


def _tiff_48_bit(path: Path, rgb: np.ndarray, orientation: int) -> Path:
    """An uncompressed 48-bit RGB TIFF at 300 dpi with an Orientation tag, written field by field (TIFF 6.0):
    neither Pillow nor OpenCV writes one."""
    import struct

    height, width = rgb.shape[:2]
    pixels = rgb.astype("<u2").tobytes()
    tags = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 3, None), (259, 3, 1, 1), (262, 3, 1, 2),
            (273, 4, 1, 8), (274, 3, 1, orientation), (277, 3, 1, 3), (278, 4, 1, height),
            (279, 4, 1, len(pixels)), (282, 5, 1, None), (283, 5, 1, None), (284, 3, 1, 1), (296, 3, 1, 2)]
    directory = 8 + len(pixels)
    extra = directory + 2 + 12 * len(tags) + 4  # the values that do not fit in a field: bits, then dpi twice
    values = {258: (extra, struct.pack("<3H", 16, 16, 16)), 282: (extra + 6, struct.pack("<2I", 300, 1)),
              283: (extra + 14, struct.pack("<2I", 300, 1))}
    fields = b"".join(struct.pack("<HHI", tag, kind, count) + (
        struct.pack("<I", values[tag][0]) if tag in values else
        struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)) for tag, kind, count, value in tags)
    path.write_bytes(b"II*\x00" + struct.pack("<I", directory) + pixels + struct.pack("<H", len(tags)) + fields
                     + b"\x00" * 4 + b"".join(data for _, data in values.values()))
    return path


def test_tiffs_turned_by_their_orientation_tag_and_an_arithmetic_coded_jpeg_are_read_upright(tmp_path, capfd):
    """An uncompressed grey TIFF whose Orientation tag turns it a quarter came out a diagonal smear (Pillow's
    own decoder fills the turned size with the stored rows) and was archived so; a 48-bit one failed as corrupt
    (OpenCV's imread refuses it); an arithmetic-coded JPEG, legal and rare, failed as corrupt (Pillow's libjpeg
    lacks the decoder)."""
    import subprocess

    from PIL import TiffImagePlugin

    from pipeline.stages.load import load_page

    upright = np.asarray(Image.open(EHRI).convert("L").crop((0, 0, 1486, 1240)))
    tag = TiffImagePlugin.ImageFileDirectory_v2()
    tag[274] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(np.rot90(upright, 1)).save(tmp_path / "grey.tif", tiffinfo=tag, dpi=(300, 300))
    _tiff_48_bit(tmp_path / "colour.tif", np.dstack([np.rot90(upright, 1).astype(np.uint16) * 257] * 3), 6)
    Image.fromarray(upright).save(tmp_path / "plain.ppm")
    arithmetic = subprocess.run(["cjpeg", "-arithmetic", "-grayscale", "-quality", "90", str(tmp_path / "plain.ppm")],
                                capture_output=True, check=True).stdout
    (tmp_path / "arithmetic.jpg").write_bytes(arithmetic)
    for name, fmt in (("grey.tif", "tiff"), ("colour.tif", "tiff"), ("arithmetic.jpg", "jpeg")):
        page = load_page(tmp_path / name, fmt, 0, 10**9, 300)
        grey = page.pixels if page.pixels.ndim == 2 else page.pixels.mean(axis=2)
        assert grey.shape == upright.shape, name
        assert np.abs(grey.astype(int) - upright).mean() < 3, name  # the page itself, upright
    assert "imread" not in capfd.readouterr().err  # OpenCV's "Internal imread issue" on a page read well


def test_a_fax_page_stored_on_its_side_keeps_its_resolutions_along_the_right_axes(tmp_path):
    """A fax page (204 x 98 dpi, CCITT G4) stored on its side with an Orientation tag is decoded turned, but its
    tags give the resolutions along the stored axes: the page was stretched the wrong way, a strip of garbage
    text (quality 0.18 against 0.83 upright)."""
    from PIL import TiffImagePlugin

    from pipeline.stages.load import load_page

    page = Image.open(EHRI).convert("L")
    fax = page.resize((round(page.width * 204 / 300), round(page.height * 98 / 300))).point(
        lambda v: 255 if v > 140 else 0).convert("1")
    fax.save(tmp_path / "upright.tif", compression="group4", dpi=(204, 98))
    tag = TiffImagePlugin.ImageFileDirectory_v2()
    tag[274] = 6  # "rotate 90 degrees clockwise to display"
    fax.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "sideways.tif", compression="group4", dpi=(98, 204),
                                                  tiffinfo=tag)
    upright = load_page(tmp_path / "upright.tif", "tiff", 0, 10**9, 300)
    sideways = load_page(tmp_path / "sideways.tif", "tiff", 0, 10**9, 300)
    assert sideways.pixels.shape == upright.pixels.shape and sideways.dpi == upright.dpi == 204
    assert np.array_equal(sideways.pixels, upright.pixels)


def test_a_jpeg_2000_with_only_its_display_resolution_keeps_that_dpi(tmp_path):
    """A JP2 that gives its resolution in a `resd` box only (no capture resolution, `resc`, the one Pillow
    reads) got the dpi assumed for a page without a tag: a 400 dpi scan became a page a third too large."""
    import struct

    from pipeline.stages.load import load_page

    Image.open(EHRI).convert("L").crop((0, 0, 1486, 1240)).save(tmp_path / "plain.jp2")
    data = (tmp_path / "plain.jp2").read_bytes()
    offset = 0
    while data[offset + 4:offset + 8] != b"jp2h":
        offset += struct.unpack(">I", data[offset:offset + 4])[0]
    length = struct.unpack(">I", data[offset:offset + 4])[0]
    per_metre = round(400 / 0.0254)  # ISO 15444-1 I.5.3.7.2: pixels per metre as numerator, denominator, exponent
    res = struct.pack(">I4s", 26, b"res ") + struct.pack(">I4sHHHHbb", 18, b"resd", per_metre, 1, per_metre, 1, 0, 0)
    header = struct.pack(">I4s", length + len(res), b"jp2h") + data[offset + 8:offset + length] + res
    (tmp_path / "display.jp2").write_bytes(data[:offset] + header + data[offset + length:])
    assert Image.open(tmp_path / "display.jp2").info.get("dpi") is None  # Pillow does not read it
    assert load_page(tmp_path / "display.jp2", "jp2", 0, 10**9, 300).dpi == 400
    assert load_page(tmp_path / "plain.jp2", "jp2", 0, 10**9, 300).dpi == 300  # no tag at all: assumed


def test_a_cameras_mpo_photo_is_one_page_turned_by_its_exif_tag(tmp_path):
    """A phone's JPEG with a second image after the photo (MPO): the photo's EXIF turn was ignored, and the second
    image became a page of its own."""
    from pipeline.stages.load import load_page
    from pipeline.stages.preflight import inspect_scan

    page = Image.open(EHRI).convert("RGB").resize((620, 877))
    exif = Image.Exif()
    exif[0x0112] = 6
    lying = page.transpose(Image.Transpose.ROTATE_90)
    lying.save(tmp_path / "photo.jpg", format="MPO", save_all=True, append_images=[lying.resize((100, 70))],
               exif=exif)
    assert Image.open(tmp_path / "photo.jpg").format == "MPO"
    assert inspect_scan(tmp_path / "photo.jpg", 10**9).page_count == 1
    assert load_page(tmp_path / "photo.jpg", "jpeg", 0, 10**9, 300).pixels.shape[:2] == (877, 620)


def test_a_default_dpi_tag_is_not_taken_for_the_page_size(run_cli, archive_dir):
    """NISKO_02 is a typewritten A4 page of 1200x1711 px tagged 72 dpi, the default many cameras and programs
    write: believed, the page would be 24 inches long. It is taken for an A4 page, in the cleanup's settings
    and in the PDF alike; a believable tag (300 dpi on US_04) is kept."""
    from pipeline.stages.load import load_page

    nisko = DATA / "pages" / "EHRI-NISKO-19391112_DE_02.jpg"
    assert Image.open(nisko).info["dpi"] == (72, 72)
    page = load_page(nisko, "jpeg", 0, 10**9, 300)
    assert page.dpi == round(1711 / 11.69)
    assert load_page(EHRI, "jpeg", 0, 10**9, 300).dpi == 300

    result = run_cli("ingest", str(nisko), "--lang", "deu", "--json")
    assert result.exit_code == ExitCode.ok, result.output
    (item,) = json.loads(result.stdout)["items"]
    with pikepdf.open(item["pdf"]) as pdf:
        _, _, width, height = (float(v) for v in pdf.pages[0].mediabox)
    assert abs(height / 72 - 11.69) < 0.05 and abs(width / 72 - 1200 / 1711 * 11.69) < 0.05


def test_a_large_format_scan_keeps_its_size_and_a_cameras_default_tag_does_not(tmp_path):
    """A plan of a building permit's file scanned on a large-format scanner: A1 (33.1 inches) at 150 dpi. Its tag
    was believed only up to 24 inches, and the plan became an A4 page of 425 dpi. A camera's tag (the image says
    how it was exposed) still counts only up to 24 inches: 4500 px tagged 180 dpi is a 25-inch page if scanned,
    and a photograph of an A4 letter if photographed."""
    from pipeline.stages.load import load_page

    plan = tmp_path / "plan-a1.png"
    sheet = np.full((3508, 4966), 255, np.uint8)
    sheet[1000:1010, 500:4400] = 0  # a line of the drawing
    Image.fromarray(sheet).save(plan, dpi=(150, 150))
    assert load_page(plan, "png", 0, 10**9, 300).dpi == 150

    photo = Image.fromarray(np.full((3000, 4500), 230, np.uint8))
    exif = Image.Exif()
    exif.get_ifd(0x8769).update({0x829A: 1 / 60, 0x920A: 35.0})  # ExposureTime, FocalLength
    photo.save(tmp_path / "photo.jpg", dpi=(180, 180), exif=exif)
    photo.save(tmp_path / "scan.jpg", dpi=(180, 180))
    assert load_page(tmp_path / "photo.jpg", "jpeg", 0, 10**9, 300).dpi == round(4500 / 11.69)
    assert load_page(tmp_path / "scan.jpg", "jpeg", 0, 10**9, 300).dpi == 180


def test_tiff_oddities_scanners_write(run_cli, tmp_path, archive_dir):
    """A thumbnail stored beside the page is no page; a missing YResolution (read as 1 dpi) does not stretch the
    page 150-fold; a multi-page TIFF cut before its second page's header fails alone, not the batch."""
    from PIL import TiffImagePlugin

    page = Image.open(PHOTOTEST).convert("L")
    batch = tmp_path / "batch"
    batch.mkdir()
    with TiffImagePlugin.AppendingTiffWriter(batch / "with-thumbnail.tif", new=True) as tiff:
        page.save(tiff, "TIFF", dpi=(200, 200))
        tiff.newFrame()
        page.resize((160, 120)).save(tiff, "TIFF", dpi=(50, 50), tiffinfo={254: 1})  # NewSubfileType: reduced
        tiff.newFrame()
    page.save(batch / "no-yresolution.tif", tiffinfo={282: 150, 296: 2})  # XResolution and its unit only
    with TiffImagePlugin.AppendingTiffWriter(tmp_path / "two.tif", new=True) as tiff:
        for _ in range(2):
            page.save(tiff, "TIFF", compression="tiff_lzw", dpi=(200, 200))
            tiff.newFrame()
    whole = (tmp_path / "two.tif").read_bytes()
    (batch / "cut.tif").write_bytes(whole[:int(len(whole) * 0.75)])
    result = run_cli("ingest", str(batch), "--lang", "eng", "--group", "file", "--json")
    assert result.exit_code == ExitCode.partial, result.output  # it was an internal error that stopped the batch
    items = {Path(item["source"]).name: item for item in json.loads(result.stdout)["items"]}
    assert items["cut.tif"]["status"] == "failed" and items["cut.tif"]["reason"] == "truncated"
    assert items["with-thumbnail.tif"]["pages"] == 1
    assert items["no-yresolution.tif"]["status"] == "processed"
    for name in ("with-thumbnail.tif", "no-yresolution.tif"):
        text = _page_texts(archive_dir, items[name]["document"])
        assert len(text) == 1 and "quick brown" in text[0], name
    with pikepdf.open(archive_dir / "documents" / items["no-yresolution.tif"]["document"] / "document.pdf") as pdf:
        width, height = (float(v) for v in pdf.pages[0].mediabox[2:])
    assert abs(width / height - 640 / 480) < 0.02  # not stretched by the missing tag


def test_a_16_bit_colour_scan_keeps_the_tones_it_was_written_in(tmp_path):
    """Pillow has no 16-bit colour mode and keeps each channel's high byte: a 12-bit scanner's values (0-4095)
    kept in 16 bits came out 0-15, a black page, and nothing was read. Colour is read as grey is, in the range
    its values were written in; a later page of a multi-page TIFF too. Tesseract never gets such a file itself."""
    import cv2

    from pipeline.stages.load import load_page

    grey = np.asarray(Image.open(EHRI).convert("L"), dtype=np.uint16)
    twelve_bit = np.dstack([grey * 16 + 8] * 3)
    cv2.imwrite(str(tmp_path / "12-bit-colour.png"), twelve_bit)
    cv2.imwritemulti(str(tmp_path / "two-pages.tif"), [np.dstack([grey * 257] * 3), twelve_bit])
    for name, fmt, index in (("12-bit-colour.png", "png", 0), ("two-pages.tif", "tiff", 0),
                             ("two-pages.tif", "tiff", 1)):
        page = load_page(tmp_path / name, fmt, index, 10**9, 300)
        assert np.abs(page.pixels.astype(int) - grey).max() <= 1, (name, index)
        assert not page.as_stored  # Tesseract, given the file, keeps the high byte too


def test_a_16_bit_scan_keeps_the_tones_it_was_written_in(tmp_path):
    """Stretched from its darkest to its brightest pixel, a blank back of a sheet scanned in 16 bits had its
    sensor noise made into black and white grain, over which Tesseract then spent minutes (a worker stalled);
    a 16-bit scan is read in the range its values were written in, 16 or 12 bits."""
    from pipeline.stages.load import load_page

    grey = np.asarray(Image.open(EHRI).convert("L"), dtype=np.uint16)
    for name, values in (("16-bit.png", grey * 257), ("12-bit.png", grey * 16 + 8)):
        Image.fromarray(values.astype(np.uint16)).save(tmp_path / name, dpi=(300, 300))
        page = load_page(tmp_path / name, "png", 0, 10**9, 300)
        assert np.abs(page.pixels.astype(int) - grey).max() <= 1, name
    verso = np.random.default_rng(3).normal(62000, 150, grey.shape).astype(np.uint16)  # paper, and noise
    Image.fromarray(verso).save(tmp_path / "verso.png", dpi=(300, 300))
    blank = load_page(tmp_path / "verso.png", "png", 0, 10**9, 300).pixels
    assert blank.min() >= 235 and blank.std() < 2  # a blank page, as scanned
    for flat in (np.full((64, 64), 65535, np.uint16), np.full((64, 64), -7, np.int32)):  # one value all over
        Image.fromarray(flat).save(tmp_path / "flat.tif")
        assert (load_page(tmp_path / "flat.tif", "tiff", 0, 10**9, 300).pixels == 255).all()  # was black, or 1/0
