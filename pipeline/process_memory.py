"""How a process that works on pages keeps the memory it frees.

Cleaning a page allocates and frees arrays of the page's size several times (the grey copy, the turned page,
the flattened one, the OCR copy): 35-140 MB each for a 600 dpi A4 page. glibc hands every allocation over its
mmap threshold (which never grows past 32 MB) back to the system when it is freed, and the next array of that
size is faulted in again, page by page. On a virtual machine whose host takes freed memory back (free page
reporting, as on this project's Firecracker machines) those faults are slow: a 600 dpi A4 page's cleanup took
4.2-4.6 s in a fresh `retrodig ocr` and 2.6-3.3 s with freed memory kept (Tesseract's 14.5 s unchanged); in a
worker, 4.8 s against 2.6 s (bench/RESULTS.md, twenty-first session). 300 dpi pages move by a few per cent:
their arrays mostly fit under the threshold already.

So a page-working process (a pool or Dask worker, the CLI) asks glibc to serve large arrays from its heap and
never to trim it. Its resident memory then stays at its high-water mark between pages instead of falling back,
and that mark is higher, as arrays of different sizes leave gaps in one heap: 792 MB against 625 MB for seven
300 and 600 dpi pages in a row, 705 MB against 683 MB for one huge scanned PDF page (tests/test_big_pages.py
bounds the peak of such pages). Not for the portal, a long-lived process that mostly serves small requests.
Python has no binding for `mallopt`, hence ctypes.
"""

from __future__ import annotations

import ctypes
import platform

_M_TRIM_THRESHOLD = -1  # <malloc.h>: free memory at the heap's top is returned above this many bytes
_M_MMAP_MAX = -4  # <malloc.h>: how many allocations may be served by mmap at once
_NEVER = 2**31 - 1  # mallopt takes an int

_kept = False


def keep_freed_memory() -> bool:
    """Keep freed memory in this process for its next arrays (glibc only; elsewhere nothing changes).
    Returns whether the allocator took the settings; calling it again does nothing more."""
    global _kept
    if _kept:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    _kept = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _NEVER))
    return _kept
