"""Throughput benchmark: pages per minute of retrodig ingest, OCRmyPDF, and the bare-Tesseract limit.

What it measures (one run, on the same N page images, all read as English):
    pages        the first N page images of kind=ocr in the corpus manifest, sorted by path (default 24),
                 copied into a temporary folder.
    retrodig     wall-clock time of `retrodig --archive TMP ingest FOLDER --group file --lang eng --json
                 --jobs <cores>` into a fresh archive (cleanup, OCR, PDF/A, index: the whole ingest).
    rerun        the same command again on the same archive (every document is already there), as a
                 percentage of the first run: the cost of re-running a batch.
    ocrmypdf     OCRmyPDF parallelises pages within one file (-j), so the N images are first combined into
                 one multi-page PDF with img2pdf at a fixed 300 dpi (what `--image-dpi 300` does for a single
                 image), then `ocrmypdf --deskew --clean -j <cores> -l eng --output-type pdfa` runs once on it.
                 Its time includes the img2pdf step, which is also shown on its own.
    tesseract    the bare-Tesseract limit: `tesseract IMG - -l eng` with OMP_THREAD_LIMIT=1 on every page,
                 one after the other; the summed time divided by the number of cores is the best a perfect
                 page-parallel wrapper doing nothing but OCR could reach.
    size         bytes per page of retrodig's document PDFs and of OCRmyPDF's output (input size for scale).

    repeat       retrodig and the Tesseract loop run --repeat times (default 3), in turns; the table shows the
                 median run of each, and the ratio is also given run by run (a run on these virtual machines
                 varies by up to 10 %).

How to run (from the repository root; about 9 minutes on 2 cores):
    .venv/bin/python bench/throughput.py [--corpus DIR] [--pages N] [--repeat N] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import img2pdf  # noqa: E402  (a retrodig dependency, so it is in the virtualenv)

BIN = Path(sys.executable).parent  # the virtualenv's bin/, where retrodig and ocrmypdf live
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".tif", ".tiff", ".png"}
LANGUAGE = "eng"
CORES = os.cpu_count() or 1


@dataclass
class Measurement:
    name: str
    seconds: float
    pages: int
    output_bytes: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def pages_per_minute(self) -> float:
        return 60 * self.pages / self.seconds if self.seconds else 0.0


# --- other work on the machine ------------------------------------------------------------------------------

def machine_busy_seconds() -> float:
    """CPU seconds all processes have used since boot (every core), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds used by this script and every finished process it started (and theirs)."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def adopt_orphans() -> None:
    """Become the reaper of our orphaned descendants (retrodig's forkserver outlives retrodig), so that their
    CPU time is counted in ours once reaped rather than taken for other work (Linux PR_SET_CHILD_SUBREAPER)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap_orphans(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def measure_foreign_load(run, *args) -> tuple[Measurement, float]:
    """Run one benchmark phase; also return the share of the machine's cores other processes used meanwhile."""
    busy, own, start = machine_busy_seconds(), own_cpu_seconds(), time.perf_counter()
    measurement = run(*args)
    reap_orphans()
    interval = time.perf_counter() - start
    foreign = (machine_busy_seconds() - busy) - (own_cpu_seconds() - own)
    measurement.extra["foreign_cpu_share"] = round(max(foreign, 0.0) / (interval * CORES), 3)
    return measurement, measurement.extra["foreign_cpu_share"]


# --- pages ---------------------------------------------------------------------------------------------------

def select_pages(corpus: Path, count: int) -> list[Path]:
    """The first `count` page images of kind=ocr in the manifest, by sorted path (deterministic)."""
    with open(corpus / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["kind"] == "ocr"]
    images = sorted(r["path"] for r in rows if Path(r["path"]).suffix.lower() in IMAGE_SUFFIXES)
    return [corpus / p for p in images[:count]]


def stage_pages(pages: list[Path], folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    return [Path(shutil.copy2(page, folder / page.name)) for page in pages]


# --- the systems ---------------------------------------------------------------------------------------------

def run_checked(cmd: list[str], env: dict | None = None) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 4):  # 4 = retrodig: some inputs failed, the rest landed
        sys.exit(f"{cmd[0]} failed (exit {proc.returncode}): {proc.stderr[-1000:]}")
    return proc, seconds


def run_retrodig(folder: Path, archive: Path, page_count: int, name: str) -> Measurement:
    cmd = [str(BIN / "retrodig"), "--archive", str(archive), "ingest", str(folder), "--group", "file",
           "--lang", LANGUAGE, "--jobs", str(CORES), "--json"]
    proc, seconds = run_checked(cmd)
    report = json.loads(proc.stdout)
    pdfs = {Path(item["pdf"]) for item in report["items"] if item.get("pdf")}
    pdfs = {p if p.is_absolute() else archive / p for p in pdfs}
    return Measurement(
        name=name, seconds=seconds, pages=page_count,
        output_bytes=sum(p.stat().st_size for p in pdfs if p.exists()),
        extra={"exit_code": proc.returncode, "summary": report["summary"], "pdfs": len(pdfs)},
    )


def combine_to_pdf(images: list[Path], output: Path) -> float:
    """All pages in one PDF at a fixed 300 dpi, as OCRmyPDF itself does for an image with --image-dpi 300."""
    start = time.perf_counter()
    layout = img2pdf.get_fixed_dpi_layout_fun((300, 300))
    output.write_bytes(img2pdf.convert([str(i) for i in images], layout_fun=layout))
    return time.perf_counter() - start


def run_ocrmypdf(images: list[Path], work: Path) -> Measurement:
    combined, output = work / "combined.pdf", work / "ocrmypdf.pdf"
    combine_seconds = combine_to_pdf(images, combined)
    cmd = [str(BIN / "ocrmypdf"), "-q", "--deskew", "--clean", "-j", str(CORES), "-l", LANGUAGE,
           "--output-type", "pdfa", str(combined), str(output)]
    _, seconds = run_checked(cmd)
    return Measurement(
        name="ocrmypdf", seconds=combine_seconds + seconds, pages=len(images), output_bytes=output.stat().st_size,
        extra={"img2pdf_seconds": round(combine_seconds, 2), "ocrmypdf_seconds": round(seconds, 2)},
    )


def run_tesseract_limit(images: list[Path]) -> Measurement:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    per_page = []
    for image in images:
        _, seconds = run_checked(["tesseract", str(image), "-", "-l", LANGUAGE], env=env)
        per_page.append(seconds)
    total = sum(per_page)
    return Measurement(name="tesseract limit", seconds=total / CORES, pages=len(images),
                       extra={"sequential_seconds": round(total, 2), "per_page": [round(s, 2) for s in per_page]})


# --- report --------------------------------------------------------------------------------------------------

def print_report(pages: list[Path], first: Measurement, rerun: Measurement, ocrmypdf: Measurement,
                 limit: Measurement, input_bytes: int) -> None:
    n = len(pages)
    print(f"{n} pages ({pages[0].name} .. {pages[-1].name}), --lang {LANGUAGE}, {CORES} cores")
    print()
    print(f"{'system':<34} {'seconds':>8} {'pages/min':>10} {'KB/page':>9} {'other load':>11}")
    print("-" * 76)
    rows = [(f"retrodig ingest (-j {CORES})", first), (f"ocrmypdf pdfa (-j {CORES}, incl. img2pdf)", ocrmypdf),
            (f"tesseract limit (sum/{CORES} cores)", limit)]
    for label, m in rows:
        size = f"{m.output_bytes / n / 1024:9.0f}" if m.output_bytes else f"{'-':>9}"
        other = f"{100 * m.extra['foreign_cpu_share']:10.0f}%"
        print(f"{label:<34} {m.seconds:8.1f} {m.pages_per_minute:10.1f} {size} {other}")
    print(f"{'input images':<34} {'':>8} {'':>10} {input_bytes / n / 1024:9.0f}")
    print()
    print(f"retrodig / ocrmypdf        (pages/min): {first.pages_per_minute / ocrmypdf.pages_per_minute:.2f}")
    print(f"retrodig / tesseract limit (pages/min): {first.pages_per_minute / limit.pages_per_minute:.2f}")
    print(f"retrodig / ocrmypdf        (bytes/page): {first.output_bytes / ocrmypdf.output_bytes:.2f}")
    print(f"ocrmypdf: img2pdf {ocrmypdf.extra['img2pdf_seconds']:.1f} s + ocrmypdf "
          f"{ocrmypdf.extra['ocrmypdf_seconds']:.1f} s; tesseract sequential sum "
          f"{limit.extra['sequential_seconds']:.1f} s")
    summary = first.extra["summary"]
    print(f"retrodig report: {summary['processed']} processed, {summary['failed']} failed, "
          f"{summary['pages']} pages, its own timer {summary['seconds']:.1f} s, exit {first.extra['exit_code']}")
    rerun_summary = rerun.extra["summary"]
    print(f"rerun (same ingest, same archive): {rerun.seconds:.1f} s = "
          f"{100 * rerun.seconds / first.seconds:.1f}% of the first run "
          f"({rerun_summary['skipped']} skipped, {rerun_summary['processed']} processed)")
    print("other load = share of the cores used by other processes during that measurement; "
          "above a few % the machine was not idle and the times are too slow")


def to_json(pages: list[Path], measurements: list[Measurement], input_bytes: int) -> dict:
    return {
        "pages": [str(p) for p in pages], "cores": CORES, "language": LANGUAGE, "input_bytes": input_bytes,
        "runs": [{"name": m.name, "seconds": round(m.seconds, 2), "pages": m.pages,
                  "pages_per_minute": round(m.pages_per_minute, 2), "output_bytes": m.output_bytes,
                  **m.extra} for m in measurements],
    }


# --- main ----------------------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (has MANIFEST.tsv)")
    parser.add_argument("--pages", type=int, default=24, help="how many pages (default 24)")
    parser.add_argument("--json", type=Path, help="write the raw numbers here")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of retrodig and of the Tesseract loop, taken in turns (default 3): the median "
                             "is reported, as one run on this kind of machine varies by up to 10 %%")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    pages = select_pages(args.corpus, args.pages)
    if not pages:
        sys.exit(f"no page images found in {args.corpus}")
    adopt_orphans()
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        tmp = Path(tmp)
        images = stage_pages(pages, tmp / "pages")
        input_bytes = sum(i.stat().st_size for i in images)
        progress = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
        firsts, limits = [], []
        for run in range(1, args.repeat + 1):  # in turns, so that a slow spell of the machine hits both
            progress(f"retrodig ingest (run {run} of {args.repeat}) ...")
            firsts.append(measure_foreign_load(run_retrodig, tmp / "pages", tmp / f"archive-{run}", len(images),
                                               "retrodig")[0])
            progress(f"tesseract, page by page (run {run} of {args.repeat}) ...")
            limits.append(measure_foreign_load(run_tesseract_limit, images)[0])
        progress("retrodig ingest again (rerun) ...")
        rerun, _ = measure_foreign_load(run_retrodig, tmp / "pages", tmp / f"archive-{args.repeat}", len(images),
                                        "retrodig rerun")
        progress("img2pdf + ocrmypdf ...")
        ocrmypdf, _ = measure_foreign_load(run_ocrmypdf, images, tmp)
    first, limit = median_run(firsts), median_run(limits)
    print_report(pages, first, rerun, ocrmypdf, limit, input_bytes)
    print_runs(firsts, limits)
    if args.json:
        args.json.write_text(json.dumps(to_json(pages, [*firsts, rerun, ocrmypdf, *limits], input_bytes), indent=2))
    return 0


def median_run(runs: list[Measurement]) -> Measurement:
    return sorted(runs, key=lambda m: m.seconds)[(len(runs) - 1) // 2]


def print_runs(firsts: list[Measurement], limits: list[Measurement]) -> None:
    """Every run, and the ratio of each retrodig run to the Tesseract loop run next to it."""
    paired = [limit.seconds / first.seconds for first, limit in zip(firsts, limits)]
    print(f"runs: retrodig {' / '.join(f'{m.seconds:.1f}' for m in firsts)} s; tesseract limit "
          f"{' / '.join(f'{m.seconds:.1f}' for m in limits)} s; retrodig / limit run by run "
          f"{' / '.join(f'{r:.2f}' for r in paired)} (median {statistics.median(paired):.2f}); the table shows "
          f"the median run of each")


if __name__ == "__main__":
    sys.exit(main())
