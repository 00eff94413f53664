"""A process that works on pages keeps the memory it frees for its next page (pipeline/process_memory.py)."""

import platform
import subprocess
import sys

import pytest

from .conftest import REPO

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason=(
    "keep_freed_memory sets glibc's allocator; with another C library it changes nothing to test"))

# Frees a page-sized array in a fresh process (a pool worker after `init_worker`, or a plain one) and prints how
# many MB of resident memory the process gave back.
_FREE_A_PAGE = """
import sys
import numpy as np
from pipeline.executor import init_worker
if sys.argv[1] == "worker":
    init_worker()
def resident_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS:"))
page = np.ones((7000, 5000, 4), np.uint8)  # a 600 dpi A4 page turned as colour with its grey copy: 140 MB
before = resident_mb()
del page
print(before - resident_mb())
"""


def _given_back_mb(process: str) -> int:
    proc = subprocess.run([sys.executable, "-c", _FREE_A_PAGE, process], capture_output=True, text=True,
                          cwd=REPO, check=True)
    return int(proc.stdout)


def test_a_worker_keeps_a_freed_page_for_its_next_page():
    assert _given_back_mb("plain") > 100  # glibc's default: a freed array that large goes back to the system
    assert _given_back_mb("worker") < 10
