"""Rasterize one page of a scanned PDF through poppler, at the resolution of the scan drawn on it.

What a scanned PDF page holds varies with the scanner and the software: one image over the whole page; a page
in strips (one image per band); two scans side by side; a small scan in the middle of a larger page; a mixed
raster page (a 100 dpi colour background under a 300 dpi black-and-white text mask). Where and how large each
image is drawn comes from the page's content stream: OCRmyPDF's page analysis follows its transformation
matrices (`ocrmypdf.pdfinfo.PageInfo`), and the page is rendered at the finest resolution that covers a fair
part of it. Pixel counts alone misjudge every case but the first.
"""

from __future__ import annotations

import logging
import tempfile
import zlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pikepdf
from pdf2image import convert_from_path
from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError
from PIL import Image

from ..errors import CorruptFileError, DecompressionBombError, TruncatedFileError
from .preflight import jpeg_damage

MIN_PDF_DPI, MAX_PDF_DPI = 150, 600  # under 150 letters lose shape; beyond 600 only makes OCR slower
MIN_REDUCED_DPI = 50  # a PDF page that fits the pixel budget only below this is refused: its letters would be dust
# The page's resolution is the finest one drawn over at least this share of it: a logo or a signature drawn small
# at 2000 dpi does not set it, a page of strips or a text mask over the whole page does.
MIN_COVER = 0.05
SAME_DPI = 0.02  # images within 2 % of a resolution count as drawn at it (matrices are rounded in files)
JPEG_TAIL = 1024  # a JPEG's end marker is looked for in its last bytes (see _check_jpeg_whole), its start
JPEG_HEAD = 1024  # marker in its first ones


@dataclass(frozen=True)
class PdfPage:
    width_in: float  # as shown: the CropBox in inches, /UserUnit and /Rotate applied
    height_in: float
    dpi: float  # the scan's resolution (0: no image on the page)
    user_unit: float  # poppler ignores /UserUnit: it renders at dpi * user_unit to get the scan's pixels
    grey: bool  # every image grey or black and white, no colour drawing: rendered grey
    bitonal: bool  # every image black and white: rendered at the scan's own resolution, it is made so again


def rasterize_pdf_page(path: Path, index: int, budget: int, default_dpi: int) -> tuple[Image.Image, int, float]:
    """Page `index` (0-based) as an image of at most `budget` pixels, its dpi, and its scale to the scan."""
    page = read_pdf_page(path, index)
    native_dpi = page.dpi or default_dpi
    dpi = int(min(max(native_dpi, MIN_PDF_DPI), MAX_PDF_DPI))
    if page.width_in * dpi * page.height_in * dpi > budget:
        dpi = int((budget / (page.width_in * page.height_in)) ** 0.5)
        if dpi < MIN_REDUCED_DPI:
            raise DecompressionBombError(
                path,
                f"page {index + 1} is {page.width_in:.0f}x{page.height_in:.0f} inches: it fits the limit of "
                f"{budget / 1e6:.0f} MP only below {MIN_REDUCED_DPI} dpi, too coarse to read",
            )
    image = _render(path, index, dpi * page.user_unit, page.grey)
    if page.bitonal and abs(dpi - native_dpi) <= SAME_DPI * native_dpi:
        # A black-and-white scan (CCITT G4, JBIG2) rendered at its own resolution comes out with grey edges from
        # poppler's smoothing; made black and white again, it is stored losslessly like a bitonal TIFF.
        image = image.convert("L").point(lambda v: 255 if v >= 128 else 0)
    return image, dpi, min(1.0, dpi / native_dpi)


def _rotation(page) -> int:
    """The page's /Rotate in degrees. A value that is no number (a string "90", written by a broken tool) is
    read as absent, as poppler, which renders the page, reads it; int() of it was an internal error."""
    value = page.obj.get("/Rotate", 0)
    return int(value) if isinstance(value, (int, float, Decimal)) else 0


def read_pdf_page(path: Path, index: int) -> PdfPage:
    with pikepdf.open(path) as pdf:
        page = pdf.pages[index]
        user_unit = float(page.obj.get("/UserUnit", 1))
        if not 0 < user_unit < 1000:
            user_unit = 1.0  # not a size a page can have: the key is read as absent
        box = page.cropbox
        width_in = abs(float(box[2]) - float(box[0])) / 72 * user_unit
        height_in = abs(float(box[3]) - float(box[1])) / 72 * user_unit
        if _rotation(page) % 180 == 90:
            width_in, height_in = height_in, width_in
        # get_images (pikepdf 10.x) also finds scans drawn through form XObjects; older pikepdf has .images.
        images = list((page.get_images() if hasattr(page, "get_images") else page.images).values())
        _check_images_whole(path, index, page, images)
        grey = bool(images) and all(_grey_image(im) for im in images) and not _has_colour_operators(page) \
            and not _has_annotations_drawn(page)
        bitonal = grey and all(im.get("/BitsPerComponent") == 1 for im in images)
        dpi = _scan_dpi(pdf, index, path, width_in * height_in)  # also of inline images and stencil masks
    if width_in <= 0 or height_in <= 0:
        raise CorruptFileError(path, f"page {index + 1} has an empty page box")
    return PdfPage(width_in, height_in, dpi, user_unit, grey, bitonal)


def _scan_dpi(pdf: pikepdf.Pdf, index: int, path: Path, page_area: float) -> float:
    """The finest resolution drawn over at least MIN_COVER of the page (the finest of all when none is)."""
    from ocrmypdf.pdfinfo import PageInfo  # only for PDFs: a batch of images starts sooner without it

    try:
        drawn = [(max(im.dpi.x, im.dpi.y), im.width * im.height / (im.dpi.x * im.dpi.y))
                 for im in PageInfo(pdf, index, path, (index,)).images if im.dpi.is_finite and im.dpi.x > 0
                 and im.dpi.y > 0]
    except Exception as exc:  # noqa: BLE001 - a page the analysis cannot follow is rendered at the default dpi
        logging.getLogger(__name__).debug("page analysis of %s page %d failed: %s", path, index + 1, exc)
        return 0.0
    for dpi, _ in sorted(drawn, reverse=True):
        if sum(area for d, area in drawn if abs(d - dpi) <= SAME_DPI * dpi) >= MIN_COVER * page_area:
            return dpi
    return max((dpi for dpi, _ in drawn), default=0.0)


def _render(path: Path, index: int, dpi: float, grey: bool) -> Image.Image:
    """Poppler's rendering of the page, as a viewer shows it: its CropBox (poppler's default is the MediaBox,
    which read and indexed what the CropBox hides), grey when the scan is (a third of the bytes). A page poppler
    cannot find (a page tree whose /Count is too small, which qpdf reads past), or a file it cannot read at all
    (a trailer cut off, which qpdf rebuilds), is rendered from a copy that qpdf has written again, once."""
    try:
        images = _poppler(path, index, dpi, grey)
    except (PDFPageCountError, PDFSyntaxError):
        images = []
    if not images:
        with tempfile.TemporaryDirectory(prefix="retrodig-pdf-") as folder:
            mended = Path(folder) / "mended.pdf"
            with pikepdf.open(path) as pdf:
                pdf.save(mended)
            try:
                images = _poppler(mended, index, dpi, grey)
            except (PDFPageCountError, PDFSyntaxError) as exc:
                said = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
                raise CorruptFileError(path, f"poppler cannot render page {index + 1}: {said.strip()[:200]}") \
                    from exc
    if not images:
        raise CorruptFileError(path, f"poppler rendered nothing for page {index + 1}")
    return images[0]


def _poppler(path: Path, index: int, dpi: float, grey: bool) -> list[Image.Image]:
    return convert_from_path(path, dpi=round(dpi, 3), first_page=index + 1, last_page=index + 1, grayscale=grey,
                             use_cropbox=True)


# Filters qpdf decodes (read_bytes), which may wrap a JPEG (DCTDecode last).
_DECODED_BY_QPDF = {pikepdf.Name.FlateDecode, pikepdf.Name.LZWDecode, pikepdf.Name.RunLengthDecode,
                    pikepdf.Name.ASCIIHexDecode, pikepdf.Name.ASCII85Decode}


def _check_images_whole(path: Path, index: int, page: pikepdf.Page, images: list[pikepdf.Object]) -> None:
    """The page's scans are all there and whole. Poppler renders what it can of a damaged image without an error
    (a JPEG cut short or garbled: the rest of the page grey or smeared; compressed data damaged: rows missing;
    an image whose object is missing from the file: a blank page), so none would say that the scan lost a part
    and the page would be archived so, its text missing from the archive."""
    if not images and _draws_missing_objects(page):
        raise CorruptFileError(path, f"an image of page {index + 1} is missing from the file")
    for image in images:
        filters = image.get("/Filter")
        filters = list(filters) if isinstance(filters, pikepdf.Array) else [filters] if filters else []
        if filters and filters[-1] == pikepdf.Name.DCTDecode and set(filters[:-1]) <= _DECODED_BY_QPDF:
            _check_jpeg_whole(path, index, image, wrapped=len(filters) > 1)
        elif filters and set(filters) <= _DECODED_BY_QPDF:
            _check_data_whole(path, index, image)


def _draws_missing_objects(page: pikepdf.Page) -> bool:
    """Whether the page's content draws an image or form by a name its resources do not hold: its object is
    missing from the file (qpdf drops a name whose object is missing). Asked only of a page with no image."""
    resources = page.obj.get("/Resources") or pikepdf.Dictionary()
    held = set((resources.get("/XObject") or pikepdf.Dictionary()).keys())
    try:
        drawn = {str(operands[0]) for operands, operator in pikepdf.parse_content_stream(page)
                 if str(operator) == "Do" and operands}
    except pikepdf.PdfError:
        return False  # a content stream qpdf cannot read: poppler judges it
    return bool(drawn - held)


def _check_jpeg_whole(path: Path, index: int, image: pikepdf.Object, wrapped: bool) -> None:
    """A JPEG ends with its EOI marker (FF D9), which a stream cut short lacks; the pair occurs nowhere else in
    the coded data (a coded FF is followed by 00 or a restart marker), and some writers pad after it, so it is
    looked for near the end. One with the marker appended, or with garbled data, libjpeg tells (jpeg_damage)."""
    try:
        data = _unwrapped_jpeg(image) if wrapped else image.read_raw_bytes()
    except pikepdf.PdfError:
        return  # poppler judges a stream qpdf cannot read
    start = data.find(b"\xff\xd8", 0, JPEG_HEAD)  # some writers put a line break or padding before it
    if start < 0:
        raise CorruptFileError(path, f"an image of page {index + 1} is said to be a JPEG and is none")
    damage = "cut-short" if b"\xff\xd9" not in data[-JPEG_TAIL:] else jpeg_damage(data[start:])
    if damage == "cut-short":
        raise TruncatedFileError(path, f"a JPEG image on page {index + 1} ends early: the file was cut short")
    if damage:
        raise CorruptFileError(path, f"a JPEG image on page {index + 1} is {damage}")


def _unwrapped_jpeg(image: pikepdf.Object) -> bytes:
    """The JPEG inside a stream compressed again (Flate then DCT): qpdf does not decode a chain ending in DCT."""
    filters, parameters = list(image.get("/Filter")), image.get("/DecodeParms")
    with pikepdf.Pdf.new() as scratch:
        wrapped = pikepdf.Stream(scratch, image.read_raw_bytes())
        wrapped[pikepdf.Name.Filter] = pikepdf.Array(filters[:-1])
        if isinstance(parameters, pikepdf.Array):
            wrapped[pikepdf.Name.DecodeParms] = pikepdf.Array(list(parameters)[:-1])
        return wrapped.read_bytes()


def _check_data_whole(path: Path, index: int, image: pikepdf.Object) -> None:
    """Compressed pixels (Flate, LZW) decode without error and fill every row. A Flate stream is inflated a piece
    at a time and only counted: decoded whole, a plan's 20000 x 20000 px page took 800 MB (poppler renders it
    within the page budget), and one of 40000 px failed for want of memory as a "damaged" file."""
    width, height = int(image.get("/Width", 0)), int(image.get("/Height", 0))
    bits = 1 if image.get("/ImageMask") else int(image.get("/BitsPerComponent", 8))
    try:
        components = 1 if image.get("/ImageMask") else pikepdf.PdfImage(image).n_components
    except Exception:  # noqa: BLE001 - a colour space pikepdf does not know: the rows are not counted
        components = 0
    row_bytes = (width * components * bits + 7) // 8
    try:
        decoded = _inflated_length(image) if _only_flate(image) else _decoded_length(image, row_bytes * height)
    except (pikepdf.PdfError, zlib.error) as exc:
        raise CorruptFileError(path, f"the image data of page {index + 1} is damaged ({exc})") from exc
    rows = row_bytes + 1 if _png_predicted(image) else row_bytes  # a PNG predictor adds a byte to each row
    if decoded is not None and components and width > 0 and height > 0 and decoded < rows * height:
        raise TruncatedFileError(path, f"the image data of page {index + 1} ends before its last row: the file "
                                       "was cut short")


DECODE_WHOLE_LIMIT = 256 * 1024 * 1024  # bytes: other filters' data is decoded whole only below this


def _only_flate(image: pikepdf.Object) -> bool:
    filters = image.get("/Filter")
    return filters == pikepdf.Name.FlateDecode or isinstance(filters, pikepdf.Array) and list(filters) == [
        pikepdf.Name.FlateDecode]


def _png_predicted(image: pikepdf.Object) -> bool:
    parameters = image.get("/DecodeParms")
    parameters = parameters[0] if isinstance(parameters, pikepdf.Array) and len(parameters) else parameters
    return isinstance(parameters, pikepdf.Dictionary) and int(parameters.get("/Predictor", 1)) >= 10


def _inflated_length(image: pikepdf.Object) -> int:
    """How many bytes a Flate stream inflates to, inflated a megabyte at a time (zlib.error: damaged)."""
    inflater, length = zlib.decompressobj(), 0
    pending = image.read_raw_bytes()
    while pending and not inflater.eof:
        length += len(inflater.decompress(pending, 1 << 20))
        pending = inflater.unconsumed_tail
    return length + len(inflater.flush()) if not inflater.eof else length


def _decoded_length(image: pikepdf.Object, expected: int) -> int | None:
    """The decoded length of an LZW, RunLength or ASCII stream (qpdf decodes it whole), None when it would
    be too large to hold: poppler renders such an image within the page budget, and judges it."""
    if expected > DECODE_WHOLE_LIMIT:
        return None
    try:
        return len(image.read_bytes())
    except MemoryError:
        return None


def _grey_image(image: pikepdf.Object) -> bool:
    if image.get("/ImageMask"):
        return False  # drawn in the current fill colour, which may be anything
    return image.get("/ColorSpace") == pikepdf.Name.DeviceGray or image.get("/BitsPerComponent") == 1 and \
        image.get("/ColorSpace") in (None, pikepdf.Name.DeviceGray)


def _has_colour_operators(page: pikepdf.Page) -> bool:
    """Vector drawing in colour (rg/k/sc operators) on the page: render it in colour to be safe."""
    try:
        ops = {op for _, op in pikepdf.parse_content_stream(page)}
    except pikepdf.PdfError:
        return True
    return bool(ops & {pikepdf.Operator(o) for o in ("rg", "RG", "k", "K", "sc", "SC", "scn", "SCN", "cs", "CS")})


def _has_annotations_drawn(page: pikepdf.Page) -> bool:
    """Annotations other than links (stamps, highlights, notes, form fields) are drawn over the page in
    colours of their own: the page is rendered in colour, and stored grey only when it turns out grey."""
    annotations = page.obj.get("/Annots")
    if not isinstance(annotations, pikepdf.Array):
        return False
    return any(isinstance(a, pikepdf.Dictionary) and a.get("/Subtype") not in (pikepdf.Name.Link, pikepdf.Name.Popup)
               for a in annotations)
