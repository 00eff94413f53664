"""Accuracy benchmark: character error rate (CER) of retrodig, raw Tesseract and OCRmyPDF on the dev corpus.

What it measures
    For every page image of the corpus manifest with kind=ocr and a `<name>.gt.txt` beside it, and every image
    of the manifest (of any kind) transcribed in `bench/transcriptions/<name>.gt.txt` (the two DIBCO 2011
    strips, whose corpus entries have no text GT), the page is read by three systems, always with the same
    Tesseract language(s) for all three:
      retrodig   `retrodig --archive TMP ocr PAGE --lang L --json` (cleanup + Tesseract, as users run it)
      tesseract  `tesseract PAGE - -l L` with OMP_THREAD_LIMIT=1 (no preprocessing at all)
      ocrmypdf   `ocrmypdf -j 1 --deskew --clean --rotate-pages -l L --image-dpi 300 --sidecar OUT.txt
                  --output-type pdf PAGE OUT.pdf`, scoring the sidecar text
    and scored with `pipeline.evaluation.character_error_rate` (whitespace collapsed, NFC; can exceed 1.0).

Corpus caveats handled here (see the corpus's SOURCES.md):
    - Languages whose Tesseract data is not installed (ces, slk, dan here) are read with `eng` by every
      system; the table marks them as e.g. `eng(ces)`.
    - Kant (Fraktur, diplomatic transcription): long s is mapped to s and the combining small e above
      (U+0364) to an umlaut, in the ground truth and in every OCR text alike, before scoring.
    - The UNLV page 8071_093.3B has zoned GT (only the zones of its .uzn file): it is run and shown, marked
      `z`, but left out of every mean.
    - EHRI GT covers typewritten text only, so letterheads and stamps that are read count as insertions.
    - A system that fails on a page scores it as an empty text (CER 1.0) and is marked `!`.

Groups and goals reported:
    - degraded pages (`d`): the manifest calls them degraded (the rendered pages: aged paper, uneven light,
      ink loss, bleed-through, skew, scanner-bed borders), and any rendered or DIBCO page (`is_degraded`);
      goal: retrodig's mean CER <= half of Tesseract's.
    - real scans: everything else; goal: no page worse than raw Tesseract by more than 5 % (the worst ratio
      and the pages over 1.05 are printed).
    - overall: retrodig's mean CER below OCRmyPDF's.
    - cleanup time / OCR time, as `retrodig ocr --json` reports them per page (cleanup_seconds covers every
      cleanup step incl. an orientation-detector run when one was needed; ocr_seconds the Tesseract run(s)).
      Goal: under 15 %. `retrodig ocr` cleans each page in a fresh process, where the first writes into new
      memory cost extra on some machines (0.1-0.6 s a page on the benchmark machine, a virtual machine); a
      batch's worker cleans pages one after another in one process. So the cleanup is also timed that way,
      after the runs: each page cleaned twice in this process, the faster counts (`warm`; as
      bench/cleanup_time.py, default profile only), against the same OCR seconds.
    `R` marks pages retrodig flagged for review (quality below the profile's threshold).

How to run (from the repository root; takes ~10 minutes for the 30 pages on 2 cores):
    .venv/bin/python bench/accuracy.py [--corpus DIR] [--limit N] [--only SUBSTRING] [--json FILE]
                                       [--save-text DIR] [--baselines-from JSON] [--retrodig-lang auto]
                                       [--retrodig-profile auto]
    --baselines-from reuses raw Tesseract's and OCRmyPDF's numbers of an earlier --json run and only runs
    retrodig: for iterating on cleanup. Numbers for RESULTS.md come from one run without it.
    --retrodig-lang auto runs retrodig with `--lang auto` (its language detection) against the baselines read
    with each page's language, and lists the languages it picked; --retrodig-profile auto likewise measures
    `--profile auto` and lists the profile picked for each page.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.evaluation import character_error_rate  # noqa: E402

BIN = Path(sys.executable).parent  # the virtualenv's bin/, where retrodig and ocrmypdf live
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
TRANSCRIPTIONS = Path(__file__).resolve().parent / "transcriptions"  # GT of corpus images that have none
SYSTEMS = ("retrodig", "tesseract", "ocrmypdf")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".tif", ".tiff", ".png"}
ZONED_GT = {"8071_093.3B"}  # GT covers only the zones of the .uzn file: shown, not averaged
FALLBACK_LANGUAGE = "eng"
TIMEOUT_S = 900
CLEANUP_SHARE_GOAL = 0.15  # cleanup time / OCR time, per page


@dataclass
class Page:
    name: str
    image: Path
    truth: Path
    group: str  # "rendered" or "scanned"
    degraded: bool  # the manifest describes the page as degraded (the rendered pages); else a real scan
    manifest_language: str
    language: str  # what every system is given
    zoned: bool
    retrodig_language: str = ""  # given to retrodig instead of `language` (--retrodig-lang, e.g. auto)
    retrodig_profile: str = ""  # the cleanup profile retrodig is given (--retrodig-profile); "": its default


@dataclass
class SystemResult:
    text: str = ""
    seconds: float = 0.0
    error: str = ""
    cleanup_seconds: float = 0.0  # retrodig only: time in the cleanup stage (as retrodig measures it)
    ocr_seconds: float = 0.0  # retrodig only: time in Tesseract (incl. a language probe with --lang auto)
    review: bool = False  # retrodig only: a page was flagged for review
    languages: str = ""  # retrodig only: the languages it read with (what --lang auto picked)
    profiles: str = ""  # retrodig only: the cleanup profile of each page (what --profile auto picked)
    warm_cleanup_seconds: float = 0.0  # retrodig only: the page cleaned in a warm process (0: not measured)


@dataclass
class PageResult:
    page: Page
    systems: dict[str, SystemResult] = field(default_factory=dict)
    cer: dict[str, float] = field(default_factory=dict)


# --- corpus --------------------------------------------------------------------------------------------------

def installed_languages() -> set[str]:
    out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True)
    return {line.strip() for line in (out.stdout + out.stderr).splitlines()[1:] if line.strip()}


def language_to_use(manifest_language: str, installed: set[str]) -> str:
    """The manifest's codes that are installed, joined with +; `eng` when none is."""
    usable = [code for code in manifest_language.split("+") if code in installed]
    return "+".join(usable) if usable else FALLBACK_LANGUAGE


def is_degraded(row: dict[str, str], image: Path) -> bool:
    """The issue's degraded pages: those the manifest calls degraded, the rendered ones, and DIBCO's (images of
    the document image binarization contests, chosen for their stains, bleed-through and faded ink), wherever
    the manifest puts them and whatever its notes say of them."""
    described = " ".join((row.get("notes") or "", row.get("source_repo") or "", row["path"])).lower()
    return "degraded" in described or "dibco" in described or image.parent.name == "rendered"


def load_pages(corpus: Path, installed: set[str], transcriptions: Path = TRANSCRIPTIONS) -> list[Page]:
    """Page images of kind=ocr with ground truth beside them, and images of any kind transcribed in
    `transcriptions`, in manifest path order."""
    pages = []
    with open(corpus / "MANIFEST.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            image = corpus / row["path"]
            truth = image.with_name(image.stem + ".gt.txt")
            if not truth.exists() and (transcriptions / truth.name).is_file():
                truth = transcriptions / truth.name
            elif row["kind"] != "ocr":
                continue
            if image.suffix.lower() not in IMAGE_SUFFIXES or not truth.exists():
                continue
            pages.append(Page(
                name=image.stem, image=image, truth=truth,
                group="rendered" if image.parent.name == "rendered" else "scanned",
                degraded=is_degraded(row, image),
                manifest_language=row["language"],
                language=language_to_use(row["language"], installed),
                zoned=image.stem in ZONED_GT,
            ))
    return sorted(pages, key=lambda p: str(p.image))


# --- the three systems ---------------------------------------------------------------------------------------

def single_thread_env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def timed_run(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=single_thread_env(), timeout=TIMEOUT_S)
    return proc, time.perf_counter() - start


def failure(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}: " + " ".join(proc.stderr.split())[-200:]


def run_retrodig(page: Page, work: Path) -> SystemResult:
    cmd = [str(BIN / "retrodig"), "--archive", str(work / "archive"), "ocr", str(page.image),
           "--lang", page.retrodig_language or page.language, "--json"]
    if page.retrodig_profile:
        cmd += ["--profile", page.retrodig_profile]
    proc, seconds = timed_run(cmd)
    if proc.returncode != 0:
        return SystemResult(seconds=seconds, error=failure(proc))
    pages = json.loads(proc.stdout)["pages"]
    return SystemResult(text="\n".join(p["text"] for p in pages), seconds=seconds,
                        cleanup_seconds=sum(p.get("cleanup_seconds", 0.0) for p in pages),
                        ocr_seconds=sum(p.get("ocr_seconds", 0.0) for p in pages),
                        review=any(p.get("needs_review") for p in pages),
                        languages=" ".join(p.get("languages", "") for p in pages),
                        profiles=" ".join(p.get("profile", "") for p in pages))


def run_tesseract(page: Page, work: Path) -> SystemResult:
    proc, seconds = timed_run(["tesseract", str(page.image), "-", "-l", page.language])
    if proc.returncode != 0:
        return SystemResult(seconds=seconds, error=failure(proc))
    return SystemResult(text=proc.stdout, seconds=seconds)


def run_ocrmypdf(page: Page, work: Path) -> SystemResult:
    sidecar, output = work / "ocrmypdf.txt", work / "ocrmypdf.pdf"
    cmd = [str(BIN / "ocrmypdf"), "-q", "-j", "1", "--deskew", "--clean", "--rotate-pages",
           "-l", page.language, "--image-dpi", "300", "--sidecar", str(sidecar), "--output-type", "pdf",
           str(page.image), str(output)]
    proc, seconds = timed_run(cmd)
    if proc.returncode != 0 or not sidecar.exists():
        return SystemResult(seconds=seconds, error=failure(proc))
    return SystemResult(text=sidecar.read_text(encoding="utf-8", errors="replace"), seconds=seconds)


RUNNERS = {"retrodig": run_retrodig, "tesseract": run_tesseract, "ocrmypdf": run_ocrmypdf}


# --- scoring -------------------------------------------------------------------------------------------------

def normalize_historic(text: str) -> str:
    """Fraktur diplomatic spelling -> modern letters: long s -> s, combining e above -> combining diaeresis
    (NFC in the CER function then turns a/o/u + diaeresis into ä/ö/ü)."""
    return text.replace("\u017f", "s").replace("\u0364", "\u0308")


def score(result: PageResult, truth: str) -> None:
    for system, outcome in result.systems.items():
        result.cer[system] = character_error_rate(normalize_historic(outcome.text), normalize_historic(truth))


def evaluate_page(page: Page, save_text: Path | None, reused: PageResult | None = None) -> PageResult:
    """Run every system on the page, or only retrodig when `reused` holds the baselines of an earlier run."""
    result = PageResult(page=page)
    with tempfile.TemporaryDirectory(prefix="bench-accuracy-") as tmp:
        for system in SYSTEMS:
            if reused and system != "retrodig":
                continue
            work = Path(tmp) / system
            work.mkdir()
            result.systems[system] = RUNNERS[system](page, work)
    score(result, page.truth.read_text(encoding="utf-8"))
    if reused:
        for system in SYSTEMS:
            if system != "retrodig":
                result.systems[system], result.cer[system] = reused.systems[system], reused.cer[system]
    if save_text:
        for system, outcome in result.systems.items():
            (save_text / f"{page.name}.{system}.txt").write_text(outcome.text, encoding="utf-8")
    return result


def time_warm_cleanup(results: list[PageResult]) -> None:
    """Clean every page as a batch's worker does, in this process (see the module's docstring)."""
    from cleanup_time import FORMATS, time_page  # it imports this module: imported when needed
    import cv2

    from pipeline.options import CONFIGS_DIR
    from pipeline.process_memory import keep_freed_memory
    from pipeline.profiles import load_profile
    from pipeline.stages.load import load_page

    cv2.setNumThreads(1)  # as a pool worker
    keep_freed_memory()  # as a pool worker, too
    profile = load_profile("default", CONFIGS_DIR)
    print("timing the cleanup in a warm process", file=sys.stderr, flush=True)
    for result in results:
        image = result.page.image
        loaded = load_page(image, FORMATS[image.suffix.lower()], 0, 10**9, 300)
        steps = time_page(loaded.pixels, loaded.dpi, profile, repeat=2)
        result.systems["retrodig"].warm_cleanup_seconds = sum(steps.values())


# --- report --------------------------------------------------------------------------------------------------

def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def language_label(page: Page) -> str:
    return page.language if page.language == page.manifest_language else f"{page.language}({page.manifest_language})"


def cer_cell(result: PageResult, system: str) -> str:
    mark = "!" if result.systems[system].error else ""
    return f"{result.cer[system]:.3f}{mark}"


def print_page_table(results: list[PageResult]) -> None:
    print(f"{'page':<30} {'lang':<10} {'retrodig':>9} {'tesseract':>9} {'ocrmypdf':>9} {'r/t':>6} {'r/o':>6} "
          f"{'clean s':>7} {'ocr s':>6} {'share':>6} {'warm':>6}")
    print("-" * 111)
    for r in results:
        name = r.page.name + (" z" if r.page.zoned else "") + (" d" if r.page.degraded else "") \
            + (" R" if r.systems["retrodig"].review else "")
        own = r.systems["retrodig"]
        print(f"{name:<30} {language_label(r.page):<10} {cer_cell(r, 'retrodig'):>9} "
              f"{cer_cell(r, 'tesseract'):>9} {cer_cell(r, 'ocrmypdf'):>9} "
              f"{ratio(r.cer['retrodig'], r.cer['tesseract']):>6} {ratio(r.cer['retrodig'], r.cer['ocrmypdf']):>6} "
              f"{own.cleanup_seconds:>7.2f} {own.ocr_seconds:>6.2f} {ratio(own.cleanup_seconds, own.ocr_seconds):>6} "
              f"{ratio(own.warm_cleanup_seconds, own.ocr_seconds) if own.warm_cleanup_seconds else '':>6}")


def print_means(label: str, results: list[PageResult]) -> dict:
    if not results:
        return {}
    means = {s: statistics.fmean(r.cer[s] for r in results) for s in SYSTEMS}
    medians = {s: statistics.median(r.cer[s] for r in results) for s in SYSTEMS}
    print(f"{label:<22} n={len(results):<3} mean CER  retrodig {means['retrodig']:.3f}  "
          f"tesseract {means['tesseract']:.3f}  ocrmypdf {means['ocrmypdf']:.3f}  |  "
          f"retrodig/tesseract {ratio(means['retrodig'], means['tesseract'])}  "
          f"retrodig/ocrmypdf {ratio(means['retrodig'], means['ocrmypdf'])}")
    print(f"{'':<22} {'':<5} median CER retrodig {medians['retrodig']:.3f}  "
          f"tesseract {medians['tesseract']:.3f}  ocrmypdf {medians['ocrmypdf']:.3f}")
    return {"pages": len(results), "mean": means, "median": medians}


def print_wins(results: list[PageResult]) -> None:
    for other in ("tesseract", "ocrmypdf"):
        better = sum(r.cer["retrodig"] < r.cer[other] for r in results)
        worse = sum(r.cer["retrodig"] > r.cer[other] for r in results)
        print(f"retrodig vs {other}: lower CER on {better} pages, higher on {worse}, equal on "
              f"{len(results) - better - worse}")


def print_worst(results: list[PageResult]) -> dict:
    """The real scan where retrodig does worst against raw Tesseract (the goal: at most 1.05)."""
    if not results:
        return {}
    worst = max(results, key=lambda r: r.cer["retrodig"] / max(r.cer["tesseract"], 1e-9))
    value = worst.cer["retrodig"] / max(worst.cer["tesseract"], 1e-9)
    over = [r.page.name for r in results if r.cer["retrodig"] > 1.05 * r.cer["tesseract"]]
    print(f"real scans: worst retrodig/tesseract {value:.2f} ({worst.page.name}); "
          f"pages over 1.05: {len(over)}{' (' + ', '.join(over) + ')' if over else ''}")
    return {"page": worst.page.name, "ratio": round(value, 3), "over_1.05": over}


def print_cleanup_share(results: list[PageResult]) -> dict:
    """Cleanup time as a share of Tesseract time, as retrodig measures both inside one run, and with the
    cleanup timed in a warm process (when it was)."""
    measured = [r for r in results if r.systems["retrodig"].ocr_seconds > 0]
    if not measured:
        return {}
    summary = _shares("cleanup time / OCR time", measured, lambda o: o.cleanup_seconds)
    warm = [r for r in measured if r.systems["retrodig"].warm_cleanup_seconds > 0]
    if warm:
        summary["warm"] = _shares("warm cleanup / OCR time", warm, lambda o: o.warm_cleanup_seconds)
    return summary


def _shares(label: str, results: list[PageResult], cleanup) -> dict:
    own = {r.page.name: r.systems["retrodig"] for r in results}
    shares = {name: cleanup(o) / o.ocr_seconds for name, o in own.items()}
    total = sum(cleanup(o) for o in own.values()) / sum(o.ocr_seconds for o in own.values())
    over = [name for name, share in shares.items() if share > CLEANUP_SHARE_GOAL]
    print(f"{label}: overall {total:.1%}, per page median {statistics.median(shares.values()):.1%}, "
          f"max {max(shares.values()):.1%}; pages over {CLEANUP_SHARE_GOAL:.0%}: {len(over)}"
          + (f" ({', '.join(over)})" if over else ""))
    return {"overall": round(total, 4), "median": round(statistics.median(shares.values()), 4),
            "max": round(max(shares.values()), 4), "over": over}


def print_times(results: list[PageResult]) -> None:
    totals = {s: sum(r.systems[s].seconds for r in results) for s in SYSTEMS}
    print("wall time per page (single job, mean s): "
          + "  ".join(f"{s} {totals[s] / len(results):.1f}" for s in SYSTEMS))


def print_report(results: list[PageResult]) -> dict:
    print_page_table(results)
    print()
    scored = [r for r in results if not r.page.zoned]
    clean = [r for r in scored if not r.page.degraded]
    summary = {
        "all": print_means("all (excl. zoned)", scored),
        "degraded": print_means("degraded (rendered, DIBCO)", [r for r in scored if r.page.degraded]),
        "clean": print_means("real scans", clean),
    }
    print()
    print_wins(scored)
    summary["worst_clean"] = print_worst(clean)
    print_times(results)
    summary["cleanup_share"] = print_cleanup_share(results)
    print_choices(results)
    notes = ["z = zoned GT (UNLV, only the .uzn zones transcribed): not in any mean",
             "d = degraded page (the manifest says so, or a rendered or DIBCO page)",
             "R = retrodig flagged the page for review",
             "r/t, r/o = retrodig's CER / raw Tesseract's, / OCRmyPDF's; share = cleanup s / OCR s of retrodig",
             "warm = the page's cleanup timed in one warm process (as a batch's worker) / the same OCR s",
             "! = the system failed on this page; scored as empty text (CER 1.0)",
             "lang eng(xxx) = xxx traineddata not installed, every system read the page with eng"]
    print("\n".join("note: " + n for n in notes))
    return summary


def print_choices(results: list[PageResult]) -> None:
    """With --retrodig-lang or --retrodig-profile: what retrodig was given and chose for each page."""
    given = [r for r in results if r.page.retrodig_language or r.page.retrodig_profile]
    if not given:
        return
    page = given[0].page
    print(f"retrodig was given --lang {page.retrodig_language or '(the page language)'} "
          f"--profile {page.retrodig_profile or '(default)'}; the baselines read each page's language")
    for r in given:
        print(f"  {r.page.name[:30]:30} manifest {r.page.manifest_language:4} read with "
              f"{r.systems['retrodig'].languages:12} profile {r.systems['retrodig'].profiles}")


def to_json(results: list[PageResult], summary: dict) -> dict:
    return {
        "pages": [{
            "name": r.page.name, "image": str(r.page.image), "truth": str(r.page.truth), "group": r.page.group,
            "manifest_language": r.page.manifest_language, "language": r.page.language, "zoned": r.page.zoned,
            "retrodig_language": r.page.retrodig_language, "retrodig_languages": r.systems["retrodig"].languages,
            "retrodig_profile": r.page.retrodig_profile, "retrodig_profiles": r.systems["retrodig"].profiles,
            "cer": r.cer,
            "seconds": {s: round(o.seconds, 2) for s, o in r.systems.items()},
            "degraded": r.page.degraded,
            "retrodig_stages": {"cleanup": round(r.systems["retrodig"].cleanup_seconds, 3),
                                "ocr": round(r.systems["retrodig"].ocr_seconds, 3),
                                "cleanup_warm": round(r.systems["retrodig"].warm_cleanup_seconds, 3),
                                "review": r.systems["retrodig"].review},
            "errors": {s: o.error for s, o in r.systems.items() if o.error},
        } for r in results],
        "summary": summary,
    }


def results_from_json(files: list[Path]) -> list[PageResult]:
    """Page results saved with --json (no OCR text); later files override earlier ones page by page."""
    by_image: dict[str, PageResult] = {}
    for path in files:
        for saved in json.loads(path.read_text(encoding="utf-8"))["pages"]:
            image = Path(saved["image"])
            truth = Path(saved.get("truth") or image.with_name(image.stem + ".gt.txt"))
            page = Page(name=saved["name"], image=image, truth=truth,
                        group=saved["group"], degraded=saved.get("degraded", saved["group"] == "rendered"),
                        manifest_language=saved["manifest_language"],
                        language=saved["language"], zoned=saved["zoned"],
                        retrodig_language=saved.get("retrodig_language", ""),
                        retrodig_profile=saved.get("retrodig_profile", ""))
            systems = {s: SystemResult(seconds=saved["seconds"][s], error=saved["errors"].get(s, ""))
                       for s in SYSTEMS}
            stage = saved.get("retrodig_stages", {})
            systems["retrodig"].cleanup_seconds = stage.get("cleanup", 0.0)
            systems["retrodig"].ocr_seconds = stage.get("ocr", 0.0)
            systems["retrodig"].warm_cleanup_seconds = stage.get("cleanup_warm", 0.0)
            systems["retrodig"].review = stage.get("review", False)
            systems["retrodig"].languages = saved.get("retrodig_languages", "")
            systems["retrodig"].profiles = saved.get("retrodig_profiles", "")
            by_image[saved["image"]] = PageResult(page=page, systems=systems, cer=saved["cer"])
    return sorted(by_image.values(), key=lambda r: str(r.page.image))


# --- main ----------------------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (has MANIFEST.tsv)")
    parser.add_argument("--limit", type=int, help="only the first N pages")
    parser.add_argument("--only", action="append",
                        help="only pages whose path contains this substring (repeat for several)")
    parser.add_argument("--json", type=Path, help="write the raw numbers here")
    parser.add_argument("--save-text", type=Path, help="write every system's OCR text into this folder")
    parser.add_argument("--baselines-from", type=Path, metavar="JSON",
                        help="while iterating: run only retrodig, take raw Tesseract's and OCRmyPDF's numbers "
                             "for the same pages from an earlier --json file (final numbers: run without it)")
    parser.add_argument("--retrodig-lang", metavar="LANG",
                        help="give retrodig this --lang instead of each page's language (e.g. auto, to measure "
                             "language detection); Tesseract and OCRmyPDF keep the page's language")
    parser.add_argument("--retrodig-profile", metavar="NAME",
                        help="give retrodig this cleanup profile (e.g. auto, to measure its choice of profile)")
    parser.add_argument("--report-from", type=Path, nargs="+", metavar="JSON",
                        help="run nothing: print the report of earlier --json files; a page in a later file "
                             "replaces the same page of an earlier one (to merge a rerun of a few pages)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.report_from:
        print_report(results_from_json(args.report_from))
        return 0
    pages = load_pages(args.corpus, installed_languages())
    if args.only:
        pages = [p for p in pages if any(s in str(p.image) for s in args.only)]
    if args.limit:
        pages = pages[: args.limit]
    if args.retrodig_lang or args.retrodig_profile:
        pages = [replace(p, retrodig_language=args.retrodig_lang or "", retrodig_profile=args.retrodig_profile or "")
                 for p in pages]
    if not pages:
        sys.exit(f"no page with ground truth found in {args.corpus}")
    if args.save_text:
        args.save_text.mkdir(parents=True, exist_ok=True)

    baselines = {str(r.page.image): r for r in results_from_json([args.baselines_from])} \
        if args.baselines_from else {}
    results = []
    for index, page in enumerate(pages, 1):
        print(f"[{index}/{len(pages)}] {page.name} ({page.language})", file=sys.stderr, flush=True)
        results.append(evaluate_page(page, args.save_text, baselines.get(str(page.image))))
    if not args.retrodig_profile:
        time_warm_cleanup(results)
    summary = print_report(results)
    if args.json:
        args.json.write_text(json.dumps(to_json(results, summary), indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
