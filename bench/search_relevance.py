"""Search relevance: recall@10 of a hand-written query set (bench/search_queries.yaml) per search backend.

The pages of ../shared/corpus/ocr are ingested with retrodig (each with its own language, eng for languages
whose Tesseract pack is not installed), so the index holds real OCR text, errors included. Each query names
the pages whose ground truth holds its words; recall@10 is the share of those pages among the first 10 hits.

    .venv/bin/python bench/search_relevance.py     # embedded, and Elasticsearch on the osmem test server
    RETRODIG_ES_URL=https://... .venv/bin/python bench/search_relevance.py   # and a real cluster too

The backends are opened as the contract tests open them (tests/search_backends.py).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline._exec.tesseract import installed_languages  # noqa: E402
from pipeline.archive import Archive  # noqa: E402
from pipeline.backends.search import SearchQuery  # noqa: E402
from pipeline.indexing import all_indexed_documents  # noqa: E402
from tests.search_backends import BACKENDS, open_backend  # noqa: E402

TOP = 10


def corpus_pages(corpus: Path) -> dict[str, list[Path]]:
    """Page images with ground truth, by the Tesseract language they are read with."""
    by_language = defaultdict(list)
    for row in (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        path, kind, language, *_ = row.split("\t")
        if kind == "ocr" and path.endswith((".jpg", ".tif", ".png")):
            read_as = language if language in installed_languages() else "eng"
            by_language[read_as].append(corpus / path)
    return by_language


def ingest_corpus(corpus: Path, archive: Path) -> None:
    """Ingest every page once (a rerun skips what is archived already)."""
    for language, pages in sorted(corpus_pages(corpus).items()):
        subprocess.run([str(REPO / ".venv" / "bin" / "retrodig"), "--archive", str(archive), "ingest",
                        *map(str, pages), "--group", "file", "--lang", language, "--collection", "corpus"],
                       check=False, stdout=subprocess.DEVNULL)


def page_names(archive: Path) -> dict[tuple[str, int], str]:
    """(document id, page) -> the corpus page's name (its file name without extension)."""
    names = {}
    for record in Archive(archive).iter_documents():
        for entry in record["files"]:
            names[(record["id"], 1)] = Path(entry["source"]).stem
    return names


def evaluate(backend, queries: list[dict], names) -> list[dict]:
    rows = []
    for item in queries:
        results = backend.search(SearchQuery(item["query"], limit=TOP))
        found = [names.get((hit.document, hit.page), "?") for hit in results.hits]
        relevant = set(item["pages"])
        recall = len(relevant & set(found)) / len(relevant)
        rows.append({**item, "found": found, "recall": recall})
    return rows


def report(backend: str, rows: list[dict]) -> dict:
    print(f"\n== {backend}: recall@{TOP}")
    for row in rows:
        missing = sorted(set(row["pages"]) - set(row["found"]))
        note = f"  missing: {', '.join(missing)}" if missing else ""
        print(f"  {row['recall']:.2f}  {row['kind']:<14} {row['query']}{note}")
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row["recall"])
    summary = {kind: sum(v) / len(v) for kind, v in sorted(by_kind.items())}
    summary["all"] = sum(r["recall"] for r in rows) / len(rows)
    print("  " + "  ".join(f"{kind} {value:.3f}" for kind, value in summary.items()))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--archive", type=Path, default=REPO / "bench" / "out" / "relevance-archive")
    parser.add_argument("--queries", type=Path, default=REPO / "bench" / "search_queries.yaml")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="Comma-separated (default: %(default)s).")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()

    ingest_corpus(args.corpus, args.archive)
    names = page_names(args.archive)
    queries = yaml.safe_load(args.queries.read_text(encoding="utf-8"))
    figures = {}
    for name in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            backend = open_backend(name, Path(folder))
            try:
                backend.rebuild(all_indexed_documents(Archive(args.archive)))
                figures[name] = report(name, evaluate(backend, queries, names))
            finally:
                backend.close()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
