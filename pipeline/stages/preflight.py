"""Preflight: identify and validate an input file before any work is spent on it.

Cheap checks only (headers, structure, sizes); full decoding happens once, in the page stage.
"""

from __future__ import annotations

import hashlib
import mmap
import re
import struct
import subprocess
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..errors import (
    CorruptFileError,
    DecompressionBombError,
    EmptyFileError,
    EncryptedPdfError,
    FileNameError,
    TruncatedFileError,
    UnreadableFileError,
    UnsupportedFormatError,
    shown_path,
)
from .dpi import is_photograph, plausible_dpi

Image.MAX_IMAGE_PIXELS = None  # our own limit (--max-pixels) applies, per format: see _check_pixels

# The name endings of each format. A master keeps its file's ending when that is one of its format's, else it
# gets the format's first: a scan named without one ("Hotărârea nr. 45 privind ...") had its name after the
# last dot for an ending, and a long one made the master's name too long for the file system.
FORMAT_SUFFIXES = {"tiff": (".tif", ".tiff"), "jpeg": (".jpg", ".jpeg"), "png": (".png",),
                   "jp2": (".jp2", ".j2k", ".jpx"), "pdf": (".pdf",)}
SCAN_SUFFIXES = {suffix for suffixes in FORMAT_SUFFIXES.values() for suffix in suffixes}
IMAGE_FORMATS = {"tiff", "jpeg", "png", "jp2"}


@dataclass(frozen=True)
class ScanFile:
    """An input that passed preflight."""

    path: Path
    format: str  # tiff | jpeg | png | jp2 | pdf
    page_count: int
    sha256: str
    size: int


def master_suffix(scan: ScanFile) -> str:
    """The name ending of the archive's copy of `scan` (see FORMAT_SUFFIXES)."""
    own = scan.path.suffix.lower()
    return own if own in FORMAT_SUFFIXES[scan.format] else FORMAT_SUFFIXES[scan.format][0]


def sniff_format(head: bytes) -> str | None:
    """The scan format from a file's first bytes, or None when it is not one we read."""
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "tiff"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return "jp2"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


# Formats we recognise only to say precisely why they are refused.
_OTHER_FORMATS = {
    b"PK\x03\x04": "a ZIP archive",
    b"RIFF": "a RIFF file (AVI, WAV)",
    b"<?xml": "an XML file",
}
# Images in formats retrodig does not read: scans all the same, so a folder of them fails (unsupported-format),
# where other files beside scans (notes, an XML export, a ZIP) are passed over. A folder of BMP, GIF, WebP or
# DjVu scans was "4 skipped: not a scan file", exit 0, though the same files named one by one failed.
_OTHER_IMAGES = {
    b"BM": "a Windows BMP image",
    b"GIF8": "a GIF image",
    b"AT&TFORM": "a DjVu document",
    b"\xff\x0a": "a JPEG XL image",
    b"\x00\x00\x00\x0cJXL ": "a JPEG XL image",
    b"8BPS": "a Photoshop image",
    b"\x97JB2\r\n\x1a\n": "a JBIG2 image",
}
# Endings of images known only by their name (their first bytes are too plain to tell them by).
OTHER_IMAGE_SUFFIXES = {".bmp", ".gif", ".webp", ".djvu", ".djv", ".pbm", ".pgm", ".ppm", ".pnm", ".jxl", ".heic",
                        ".heif", ".avif", ".tga", ".pcx", ".psd", ".ico", ".xbm", ".im", ".jb2", ".jbig2", ".svg",
                        ".emf", ".wmf", ".ras", ".sgi", ".exr", ".dng", ".cr2", ".nef", ".raw"}


def other_image_format(head: bytes) -> str | None:
    """The name of an image format retrodig does not read that a file's first bytes show, or None."""
    for magic, name in _OTHER_IMAGES.items():
        if head.startswith(magic):
            return name
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[:1] == b"P" and head[1:2] in b"123456" and head[2:3].isspace():
        return "a Netpbm image (PBM, PGM, PPM)"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"avif"):
        return "a HEIF or AVIF image"
    if b"<svg" in head[:1024] and b"<html" not in head[:1024].lower():  # a web page may draw with it too
        return "an SVG drawing"
    return None


def describe_unsupported(path: Path, head: bytes) -> str:
    expected = "expected TIFF, JPEG, PNG, JPEG 2000 or PDF"
    if image := other_image_format(head):
        return f"content is {image}, not a supported scan format ({expected}): convert it to TIFF or PNG"
    for magic, name in _OTHER_FORMATS.items():
        if head.startswith(magic):
            return f"content is {name}, not a supported scan format ({expected})"
    if path.suffix.lower() in OTHER_IMAGE_SUFFIXES:
        return (f"named as an image of a format not read ({path.suffix}), not a supported scan format ({expected}): "
                "convert it to TIFF or PNG")
    if head and all(32 <= b < 127 or b in b"\t\r\n" for b in head[:256]):
        return f"content is plain text, not a scan ({expected})"
    return f"not a scan: unrecognised content ({expected})"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inspect_scan(path: Path, max_pixels: int) -> ScanFile:
    """Validate `path` and return what later stages need; raise a typed InputError naming the reason."""
    check_name(path)
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError(path, "the file is empty (0 bytes)")
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:  # its permissions, or a disk that fails to give its bytes
        raise UnreadableFileError(path, f"the file cannot be read: {exc.strerror or exc}") from exc
    fmt = sniff_format(head)
    if fmt is None:
        raise UnsupportedFormatError(path, describe_unsupported(path, head))
    if fmt == "pdf":
        pages = _check_pdf(path)
    else:
        pages = _check_image(path, fmt, max_pixels, size)
    return ScanFile(path=path, format=fmt, page_count=pages, sha256=sha256_of(path), size=size)


def check_name(path: Path) -> None:
    """Raise FileNameError when `path` is not UTF-8: it could not be kept in the archive's records (the scan
    cache, the report, the catalog), and failed the whole batch."""
    if shown_path(path) != str(path):
        raise FileNameError(path, "the file's name is not UTF-8 (written on a system in another encoding, such as "
                                  "cp1250 or cp866): rename it (convmv converts whole folders)")


def _check_pdf(path: Path) -> int:
    if not _pdf_ends(path):
        # qpdf would "recover" such a file by guessing, silently losing the missing pages or images.
        raise TruncatedFileError(path, "the PDF has no %%EOF marker at its end: the file was cut short")
    import pikepdf  # only for PDFs: a batch of images (and every rerun) starts ~40 ms sooner without it

    try:
        with pikepdf.open(path) as pdf:
            if pdf.is_encrypted:
                # Opened without a password: only an owner password restricts what may be done with it. OCRmyPDF
                # refuses such files too; lifting the restriction is for whoever has the right to.
                raise EncryptedPdfError(path, "the PDF's author restricts changing or copying it (an owner password, "
                                              "none to open it): PDF/A forbids encryption, and retrodig does not "
                                              "lift restrictions - ask for an unprotected copy, or if you have the "
                                              "right to, make one (qpdf --decrypt IN OUT)")
            count = len(pdf.pages)
    except pikepdf.PasswordError as exc:
        raise EncryptedPdfError(path, "the PDF is encrypted with a password") from exc
    except pikepdf.PdfError as exc:
        raise CorruptFileError(path, f"not a readable PDF ({_short(exc)})") from exc
    if count == 0:
        raise CorruptFileError(path, "the PDF has no pages")
    if (shown := _pages_poppler_shows(path)) is not None and shown > count:
        # Pages are rendered by poppler and counted by qpdf, by number: a page tree entry whose page object is
        # missing is passed over by qpdf and shown by poppler (blank), and the last page was never asked for.
        # (A /Count too large only is no page to poppler either: it has no size. Fewer pages to poppler is a
        # /Count too small: the page stage renders from qpdf's copy.)
        raise CorruptFileError(path, f"the PDF's page tree is damaged: it lists {shown} pages, {shown - count} of "
                                     "them missing from the file")
    return count


PDF_TAIL = 2048  # bytes at a PDF's end that hold its %%EOF marker, padding left aside


def _pdf_ends(path: Path) -> bool:
    """Whether the PDF ends with its %%EOF marker, perhaps followed by padding (NUL or blank bytes some writers
    and transfers leave) or by data that is no PDF (a web server's error page, a transfer's leftovers: viewers
    read such files); not by the start of an update that was cut short (an object, an xref table)."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 65536))
        if b"%%EOF" in fh.read().rstrip(b"\x00 \t\r\n")[-PDF_TAIL:]:
            return True
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        end = data.rfind(b"%%EOF")
        return end >= 0 and not _PDF_SYNTAX.search(data, end)


# What an update appended after %%EOF begins with: an object ("12 0 obj"), a cross-reference table or a trailer at
# the start of a line. Words in a page of text ("the requested object was not found") are none of these.
_PDF_SYNTAX = re.compile(rb"\d+\s+\d+\s+obj\b|\bendobj\b|(?m:^\s*(?:xref|trailer|startxref)\b)")


_POPPLER_PAGE = re.compile(rb"^Page\s+\d+ size:\s+([0-9.]+) x ([0-9.]+)", re.MULTILINE)


def _pages_poppler_shows(path: Path) -> int | None:
    """The pages poppler shows up to its last one with a size (a /Count larger than the pages listed adds sizeless
    ones after them; a page whose object is missing is sizeless, or sized by its parent, among the others); None
    when it cannot tell (the page stage mends such a file first)."""
    try:
        listed = subprocess.run(["pdfinfo", "-f", "1", "-l", str(2**31 - 1), str(path)], capture_output=True,
                                timeout=120, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    sized = [number for number, (width, height) in enumerate(_POPPLER_PAGE.findall(listed), start=1)
             if float(width) > 0 and float(height) > 0]
    return sized[-1] if sized else None


NEW_SUBFILE_TYPE = 254  # TIFF tag; bit 0 set: a reduced-resolution version of another page


_DIRECTORY_CUT = "the file ends before a page's image directory: it was cut short"


def _check_image(path: Path, fmt: str, max_pixels: int, size: int) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)  # Pillow's "Corrupt EXIF data": the error below says it
            with Image.open(path) as img:
                frames = page_frames(img)
                for index in frames:
                    img.seek(index)
                    _check_pixels(path, img, fmt, max_pixels)
                    # The chain of directories is the file's, walked once (per page, a register of 500 pages
                    # read 250,000 directories). Pillow only warns of one cut short at the file's end.
                    if fmt == "tiff" and index == frames[0] and _tiff_directory_past_end(path, size):
                        raise TruncatedFileError(path, _DIRECTORY_CUT)
                    _check_complete(path, img, fmt, size)
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(path, str(exc)) from exc
    except (OSError, SyntaxError, ValueError, TypeError) as exc:  # TypeError: a TIFF page cut before its header
        if isinstance(exc, (TruncatedFileError, DecompressionBombError)):
            raise
        if fmt == "tiff" and _tiff_directory_past_end(path, size):
            raise TruncatedFileError(path, _DIRECTORY_CUT) from exc
        raise CorruptFileError(path, f"cannot read the {fmt.upper()} image ({_short(exc)})") from exc
    return len(frames)


def _tiff_directory_past_end(path: Path, size: int) -> bool:
    """Whether the chain of a TIFF's image directories (one per page) leads past the end of the file. Pillow
    says only "cannot identify image file" or "Missing dimensions" for such a file, which was reported as
    corrupt, or only warns (a directory cut inside its entries: its page was archived, its dpi tag lost): many
    writers put the directories after the pixels, so a copy cut short loses them first. Walked by hand (header,
    entry count, entries and the values they point to, next offset: TIFF 6.0 and BigTIFF)."""
    with path.open("rb") as fh:
        head = fh.read(16)
        order = {b"II": "<", b"MM": ">"}.get(head[:2])
        if order is None or len(head) < 8:
            return False
        big = struct.unpack(order + "H", head[2:4])[0] == 43
        count_format, entry_size, offset_format = ("Q", 20, "Q") if big else ("H", 12, "I")
        offset = struct.unpack(order + offset_format, head[8:16] if big else head[4:8])[0]
        seen: set[int] = set()
        entry_format = order + ("HHQQ" if big else "HHII")  # tag, type, count, value or the value's offset
        while offset and offset not in seen and len(seen) < 100_000:
            seen.add(offset)
            fh.seek(offset)
            counted = fh.read(struct.calcsize(count_format))
            if len(counted) < struct.calcsize(count_format):
                return True
            entries = struct.unpack(order + count_format, counted)[0]
            table = fh.read(entries * entry_size)
            following = fh.read(struct.calcsize(offset_format))
            if len(table) < entries * entry_size or len(following) < struct.calcsize(offset_format):
                return True
            for start in range(0, len(table), entry_size):  # values too long for their entry lie elsewhere
                _, kind, count, value = struct.unpack(entry_format, table[start:start + entry_size])
                length = count * _TIFF_TYPE_SIZES.get(kind, 1)
                if length > entry_size - 4 - struct.calcsize(count_format) and value + length > size:
                    return True
            offset = struct.unpack(order + offset_format, following)[0]
    return False


# Bytes per value of each TIFF field type (TIFF 6.0 section 2; BigTIFF's LONG8, SLONG8, IFD8).
_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8,
                    18: 8}


def page_frames(img: Image.Image, up_to: int | None = None) -> list[int]:
    """The frames of an image file that are pages (the first `up_to` + 1 of them, when given): in a TIFF, not
    the reduced-resolution copies (thumbnails) a scanner may store beside a page (NewSubfileType bit 0), which
    came out as extra pages of garbage; in a camera's MPO file, only the photo. Walking the frames costs what
    seeking to them does."""
    if img.format == "MPO":  # a camera's JPEG with more images after the photo (a depth map, a preview)
        return [0]
    frames = []
    for index in range(getattr(img, "n_frames", 1)):
        img.seek(index)
        tags = getattr(img, "tag_v2", None)
        if tags is None or not int(tags.get(NEW_SUBFILE_TYPE, 0)) & 1:
            frames.append(index)
            if up_to is not None and len(frames) > up_to:
                break
    img.seek(0)
    return frames or [0]


def _check_pixels(path: Path, img: Image.Image, fmt: str, max_pixels: int) -> None:
    """Over `max_pixels` an image would have to be decoded whole: refused. JPEGs are exempt: libjpeg decodes
    them at 1/2 to 1/8 scale when they exceed the working size (stages.load), so no full copy is ever made."""
    width, height = img.size
    if width * height > max_pixels and fmt != "jpeg":
        raise DecompressionBombError(
            path,
            f"page is {width}x{height} px ({width * height / 1e6:.0f} MP), over the limit of "
            f"{max_pixels / 1e6:.0f} MP (--max-pixels)",
        )
    if width < 16 or height < 16:
        raise CorruptFileError(path, f"image is only {width}x{height} px: too small to be a scanned page")


# A Huffman-coded JPEG codes each 8x8 block of its pixels in one bit at least (the DC difference's shortest
# code, even in a progressive file, whose AC scans can skip runs of blocks): fewer bytes than pixels / 512
# cannot be whole. Arithmetic coding (rare, but legal) codes a blank A4 page at 300 dpi in 340 bytes, 25,600
# pixels a byte. Fewer bytes than pixels / 65,536 is refused: a 380-byte file whose header said 65000 x 65000 px
# was decoded, at 1/8 scale, into a blank page of 850 MB.
JPEG_MIN_PIXELS_PER_BYTE = 65536


def _check_complete(path: Path, img: Image.Image, fmt: str, size: int) -> None:
    """Truncation check without decoding: every byte the header points at must exist."""
    if fmt == "tiff":
        for _, _, offset, _ in img.tile:
            if offset >= size:
                raise TruncatedFileError(path, "TIFF image data ends before the page does")
        counts = img.tag_v2.get(279) or img.tag_v2.get(325)  # StripByteCounts / TileByteCounts
        offsets = img.tag_v2.get(273) or img.tag_v2.get(324)  # StripOffsets / TileOffsets
        if counts and offsets and max(o + c for o, c in zip(offsets, counts)) > size:
            raise TruncatedFileError(path, "TIFF image data ends before the page does")
    elif fmt == "jpeg":
        with path.open("rb") as fh:
            fh.seek(max(0, size - 4096))
            if b"\xff\xd9" not in fh.read():
                raise TruncatedFileError(path, "JPEG data has no end marker: the file was cut short")
        if size * JPEG_MIN_PIXELS_PER_BYTE < img.width * img.height:
            raise TruncatedFileError(path, f"{size} bytes cannot hold a JPEG of {img.width}x{img.height} px: the "
                                           "file was cut short or its header is damaged")
        damage = jpeg_damage(path.read_bytes())
        if damage == "cut-short":
            # A file cut short with an end marker appended, or garbled so that libjpeg lost its way and ran into
            # the end (3000 bytes overwritten in the middle): both end before the image does.
            raise TruncatedFileError(path, "JPEG data ends before the image does: the file was cut short, or its "
                                           "data garbled")
        if damage:
            raise CorruptFileError(path, f"the JPEG's image data is {damage}")
    elif fmt == "png":
        with path.open("rb") as fh:
            fh.seek(max(0, size - 64))
            if b"IEND" not in fh.read():
                raise TruncatedFileError(path, "PNG has no IEND chunk: the file was cut short")
        if _png_rows_missing(path):
            # Pillow fills the missing rows with black and says nothing; the page was archived half blank.
            raise TruncatedFileError(path, "PNG image data ends before its last row: the file was cut short")
    elif fmt == "jp2" and _jpeg2000_cut_short(path, size):
        # It passed before, its master was copied into the archive, and its page failed as corrupt.
        raise TruncatedFileError(path, "JPEG 2000 data ends before its code stream does: the file was cut short")


def jpeg_damage(data: bytes) -> str | None:
    """What libjpeg-turbo finds wrong in the JPEG `data`, decoding it at 1/8 scale (every coefficient is still
    read: 3 ms for an A4 page at 300 dpi): "cut-short" when it meets its end marker or the data's end before the
    last block (a JPEG cut short, with an end marker appended by a tool that "repairs" such files), "damaged:
    ..." when its coded data is garbled (bits flipped or overwritten on a failing disk or in a transfer), else
    None. Pillow and poppler decode both without a word, the rest of the page grey or smeared; libjpeg only
    warns, and simplejpeg raises its warnings. Other warnings (extraneous bytes before a marker, from some
    scanners) and what TurboJPEG's API does not decode (some sampling layouts, 12-bit, lossless) are left to the
    page stage."""
    said = _libjpeg_complaint(data)
    if said is None:
        return None
    if "premature end" in said.lower():
        return "cut-short"
    return f"damaged: {said}" if any(sign in said.lower() for sign in _JPEG_DAMAGE) else None


def jpeg_data_left_over(data: bytes) -> int:
    """How many bytes of the JPEG `data`'s coded data libjpeg left unread before its end marker (0: none). Bits
    flipped in the coded data can make the decoder lose its way without a word: it reads the rest as codes that
    fill the page's lower part grey or smeared, and ends before the data does. Some writers put bytes of their
    own there too, on whole pages: not damage enough to refuse the file (its page is flagged for review)."""
    found = re.search(r"(\d+) extraneous bytes before marker 0xd9", _libjpeg_complaint(data) or "")
    return int(found.group(1)) if found else 0


def _libjpeg_complaint(data: bytes) -> str | None:
    """libjpeg-turbo's first warning or error decoding the JPEG `data` at 1/8 scale (simplejpeg raises its
    warnings), or None when it has none."""
    import simplejpeg  # loaded only for JPEGs

    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", min_height=1, min_width=1, strict=True)
    except ValueError as exc:
        return str(exc)
    return None


# libjpeg's words for garbled coded data (jerror.h: JWRN_HUFF_BAD_CODE, JWRN_ARITH_BAD_CODE, JWRN_MUST_RESYNC,
# JERR_UNKNOWN_MARKER met inside the coded data).
# Headers garbled inside the file ("Bogus Huffman table definition", "Bogus DAC index", "Two SOF markers", a frame
# marker of a process no decoder here reads met in the coded data): 3000 bytes overwritten in a scan's middle left
# a third of its page unread, archived as a good page.
_JPEG_DAMAGE = ("bad huffman code", "bad arithmetic code", "instead of rst", "unsupported marker", "bogus",
                "two sof markers", "unsupported jpeg process")


# Bytes per pixel of each PNG colour type, in samples (ISO/IEC 15948, 11.2.2), and the Adam7 passes: first
# column and row, then steps across and down (8.2).
_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_INFLATE_STEP = 1 << 22  # bytes inflated at a time: the rows are counted, never held


def _png_rows_missing(path: Path) -> bool:
    """Whether a PNG's image data (its IDAT chunks, inflated) holds fewer bytes than its rows need: a file cut
    short whose zlib stream and IEND a tool completed, or a writer that stopped early. Written by hand: Pillow
    decodes such a file without a word (the rest of the page black), and libpng's check ("Not enough image
    data") comes with decoding the whole image; this inflates it, counting bytes (60 ms for a colour A4 page at
    300 dpi), once per file: preflight's answer is remembered."""
    with path.open("rb") as fh:
        fh.seek(8)
        expected = None
        inflate, produced = zlib.decompressobj(), 0
        while True:
            header = fh.read(8)
            if len(header) < 8:
                return False  # no IEND where it should be: the check before this says so
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IHDR":
                width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", fh.read(13))
                bits = depth * _PNG_SAMPLES.get(colour, 1)
                passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
                expected = 0
                for x0, y0, dx, dy in passes:
                    columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
                    if columns > 0 and rows > 0:
                        expected += rows * (1 + -(-columns * bits // 8))  # each row: a filter byte, then pixels
                fh.seek(length - 13 + 4, 1)
            elif kind == b"IDAT" and expected is not None:
                data = fh.read(length)
                fh.seek(4, 1)
                try:
                    while data and not inflate.eof:
                        produced += len(inflate.decompress(data, _INFLATE_STEP))
                        data = inflate.unconsumed_tail
                        if produced >= expected:
                            return False
                except zlib.error:
                    return False  # damaged rather than short: decoding the page names it
            elif kind == b"IEND":
                return expected is not None and produced < expected
            else:
                fh.seek(length + 4, 1)


def _jpeg2000_cut_short(path: Path, size: int) -> bool:
    """Whether a JP2 file's boxes reach past its end (ISO 15444-1 annex I: length, type, and a 64-bit length
    when the length is 1), or its code stream (its box, or the whole file for a bare .j2k) lacks the
    end-of-codestream marker FFD9 near its end. What follows a whole code stream (NUL padding, a newline: some
    transfers add them) is no damage: Pillow decodes such files, and they were refused."""

    def ends_the_stream(end: int) -> bool:
        # FFD9 within the stream's last 4 KiB: no marker of FF90 or above occurs inside the coded data
        # (its bit stuffing rules them out), so it is the end-of-codestream marker.
        fh.seek(max(0, end - 4096))
        return b"\xff\xd9" in fh.read(end - fh.tell())

    with path.open("rb") as fh:
        if fh.read(4) == b"\xff\x4f\xff\x51":  # a bare code stream
            return not ends_the_stream(size)
        offset, whole_stream = 0, False
        while offset < size:
            fh.seek(offset)
            header = fh.read(8)
            if len(header) < 8:
                return not whole_stream
            length, kind = struct.unpack(">I4s", header)
            if length == 1:
                extended = fh.read(8)
                if len(extended) < 8:
                    return True
                length = struct.unpack(">Q", extended)[0]
            elif length == 0:  # the last box runs to the end of the file
                length = size - offset
            if length < 8 or offset + length > size:
                return not whole_stream  # after the code stream: trailing bytes, not a box cut short
            if kind == b"jp2c":
                if not ends_the_stream(offset + length):
                    return True
                whole_stream = True
            offset += length
    return False


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


A4_PIXELS_AT_300_DPI = 8.7e6  # what a page is taken for when its header is not read (PDFs: not parsed again)
LOW_DPI = 200  # below this, cleanup enlarges the page for OCR (stages.cleanup.resolution), which then costs more


def ocr_cost(scan: ScanFile) -> float:
    """A rough estimate of a scan's OCR work per page, from its first image's header: the pixels Tesseract
    will read, a low-resolution scan counted as enlarged to ~300 dpi (its tag judged as load_page judges it).
    Used only to start the heavy pages of a batch first (a long page started last keeps one core busy while
    the others idle). A PDF page, which would need parsing, counts as an A4 page at 300 dpi, as does an image
    whose header cannot be read."""
    if scan.format in IMAGE_FORMATS:
        try:
            with Image.open(scan.path) as img:
                width, height = img.size
                dpi = float((img.info.get("dpi") or (0, 0))[0] or 0)
                photograph = is_photograph(img)
        except (OSError, ValueError, TypeError, IndexError):
            return A4_PIXELS_AT_300_DPI
        dpi = plausible_dpi(dpi, max(width, height), 300, photograph)
        enlarge = min(300 / dpi, 4.0) if dpi < LOW_DPI else 1.0
        return width * height * enlarge * enlarge
    return A4_PIXELS_AT_300_DPI
