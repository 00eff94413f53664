"""Memory bound: huge pages are read within 1.5 GB, reduced as they are decoded; only true bombs are refused."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pipeline.stages.load import WORK_PIXELS, load_page

from .conftest import DATA, REPO

PEAK_RSS_LIMIT_MB = 1536

# Ingests one file in this process (serially, as a pool worker would) and prints the report and peak RSS.
_MEASURE = """
import json, resource, sys
from pipeline.api import ingest, Options
from pipeline.executor import SerialExecutor, init_worker
init_worker()
report = ingest([sys.argv[2]], Options(archive=sys.argv[1], jobs=1, languages="eng"), executor=SerialExecutor())
print(json.dumps({"items": [i.__dict__ for i in report.items],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def _ingest_measured(scan: Path, archive: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(archive), str(scan)], capture_output=True,
                          text=True, cwd=REPO, check=True)
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def page_9000(tmp_path_factory) -> Path:
    """A 9000x9000 colour scan at 600 dpi: a real typewritten page, enlarged, on a dark scanner bed."""
    page = Image.open(DATA / "pages" / "EHRI-DR-19390519-US_04.jpg").convert("RGB")
    big = Image.new("RGB", (9000, 9000), (60, 50, 40))
    big.paste(page.resize((page.width * 3, page.height * 3)).rotate(1.5, fillcolor=(60, 50, 40)), (2000, 900))
    path = tmp_path_factory.mktemp("big") / "page9000.jpg"
    big.save(path, quality=85, dpi=(600, 600))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hugemono.pdf", "page9000.jpg"])
def test_huge_pages_are_read_within_the_memory_bound(name, page_9000, tmp_path):
    scan = DATA / "edge" / name if name.endswith(".pdf") else page_9000
    result = _ingest_measured(scan, tmp_path / "archive")
    (item,) = result["items"]
    assert item["status"] == "processed", item
    assert result["peak_mb"] < PEAK_RSS_LIMIT_MB, result
    record = json.loads((tmp_path / "archive" / "documents" / item["document"] / "document.json").read_text())
    (page,) = record["pages"]
    assert page["width"] * page["height"] <= WORK_PIXELS * 1.01


def test_jpeg_over_the_budget_is_decoded_reduced_and_its_dpi_follows():
    loaded = load_page(DATA / "pages" / "EHRI-DR-19390519-US_04.jpg", "jpeg", 0, 1_000_000, 300)
    height, width = loaded.pixels.shape[:2]
    assert width * height <= 1_000_000 and loaded.scale < 0.6
    assert loaded.dpi == round(300 * loaded.scale)  # the page keeps its physical size


def test_pdf_page_over_the_budget_is_rasterized_at_a_lower_dpi():
    full = load_page(DATA / "edge" / "3small.pdf", "pdf", 0, 250_000_000, 300)
    reduced = load_page(DATA / "edge" / "3small.pdf", "pdf", 0, full.pixels.size // 4, 300)
    assert reduced.pixels.size <= full.pixels.size // 4 * 1.01 and reduced.dpi < full.dpi  # poppler rounds up
