"""Search latency of the embedded backend on a simulated archive (default 1,000,000 pages).

The archive is generated, 150-450 words a page, in documents of 1-8 pages with a collection, a document type,
a language and 1-3 years. Three words in four are drawn by their real frequency from the ground-truth texts of
../shared/corpus in the page's language; the fourth from a long tail of 100,000 made-up words per language
(pieces of real words joined, Zipf-distributed), standing for the names, places and rare terms that make up most
of a real archive's vocabulary; about 5 % of all words get a one-letter OCR error. The index is built with the
real EmbeddedSearch.rebuild, as `retrodig reindex` builds it (so build time and size are the product's). Then one- and two-word queries typed without
diacritics are timed, each returning 20 hits with snippets and the four facets; a third of them also filter.
Half the query words are common words of the language (frequency rank 20-2000), half come from the tail.

    .venv/bin/python bench/search_latency.py                 # 1,000,000 pages (about an hour to build)
    .venv/bin/python bench/search_latency.py --pages 50000   # a quick look
    .venv/bin/python bench/search_latency.py --reuse         # time queries on the index built last time
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.backends.search import EmbeddedSearch, IndexedDocument, IndexedPage, SearchQuery  # noqa: E402
from pipeline.backends.search.folding import fold, words  # noqa: E402

COLLECTIONS = [f"Fond {n}" for n in range(1, 31)]
DOC_TYPES = ["building_permit", "council_decision", "certificate", "letter", "register", "property_deed",
             "civil_status", "unknown"]
OCR_ERROR_RATE = 0.05
LETTERS = "abcdefghijklmnopqrstuvwxyz"


TAIL_WORDS = 100_000
TAIL_SHARE = 0.25


def language_vocabularies(corpus: Path) -> dict[str, dict]:
    """Per language: the words of its ground-truth pages with their counts, and a made-up long tail."""
    languages = {}
    for row in (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        path, kind, language, *_ = row.split("\t")
        if kind == "ocr" and path.endswith(".gt.txt"):
            languages.setdefault(language, Counter()).update(
                w for w in words((corpus / path).read_text(encoding="utf-8")) if w.isalpha())
    vocabularies = {}
    for language, counts in sorted(languages.items()):
        if len(counts) > 100:
            common = [w for w, _ in counts.most_common()]
            vocabularies[language] = {"common": common, "weights": [counts[w] for w in common],
                                      "tail": made_up_words(common, random.Random(language))}
    return vocabularies


def made_up_words(real: list[str], rng: random.Random) -> list[str]:
    """Words that look like the language's: the start of one real word and the end of another."""
    long_words = [w for w in real if len(w) >= 4]
    made = set()
    while len(made) < TAIL_WORDS:
        a, b = rng.choice(long_words), rng.choice(long_words)
        made.add(a[: rng.randint(2, len(a) - 1)] + b[rng.randint(1, len(b) - 2):])
    return sorted(made)


def misread(word: str, rng: random.Random) -> str:
    """One OCR error: a letter replaced, dropped or doubled."""
    i = rng.randrange(len(word))
    kind = rng.random()
    if kind < 0.6:
        return word[:i] + rng.choice(LETTERS) + word[i + 1:]
    if kind < 0.8 and len(word) > 2:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def page_text(vocab: dict, rng: random.Random) -> str:
    count = rng.randint(150, 450)
    tail = int(count * TAIL_SHARE)
    chosen = rng.choices(vocab["common"], weights=vocab["weights"], k=count - tail)
    # Log-uniform ranks: P(rank r) ~ 1/r, Zipf's law; 7919 (prime) spreads the ranks over the list.
    chosen += [vocab["tail"][(int(TAIL_WORDS ** rng.random()) - 1) * 7919 % TAIL_WORDS] for _ in range(tail)]
    rng.shuffle(chosen)
    chosen = [misread(w, rng) if rng.random() < OCR_ERROR_RATE else w for w in chosen]
    lines = [" ".join(chosen[i:i + 10]) for i in range(0, len(chosen), 10)]
    return "\n".join(lines)


def documents(count_pages: int, vocabularies, seed: int):
    rng = random.Random(seed)
    languages = sorted(vocabularies)
    made, number = 0, 0
    while made < count_pages:
        number += 1
        language = rng.choice(languages)
        pages = min(rng.randint(1, 8), count_pages - made)
        made += pages
        start = rng.randint(1880, 2010)
        yield IndexedDocument(
            id=f"{number:016x}", collection=rng.choice(COLLECTIONS), title=f"document {number}",
            doc_type=rng.choice(DOC_TYPES), languages=(language,),
            years=tuple(sorted({start + rng.randint(0, 3) for _ in range(rng.randint(1, 3))})),
            source=f"/scans/{number}.tif",
            pages=tuple(IndexedPage(n, page_text(vocabularies[language], rng)) for n in range(1, pages + 1)),
        )


def build(index_path: Path, pages: int, vocabularies, workers: int) -> float:
    """The index as `retrodig reindex` builds it: EmbeddedSearch.rebuild, analysis in `workers` processes."""
    shutil.rmtree(index_path, ignore_errors=True)
    started = time.perf_counter()

    def with_progress(docs):
        done = 0
        for doc in docs:
            done += len(doc.pages)
            if done % 5000 < len(doc.pages):
                rate = done / (time.perf_counter() - started)
                print(f"\r  generated {done:,} pages ({rate:,.0f}/s)", end="", file=sys.stderr)
            yield doc

    search = EmbeddedSearch(index_path, workers=workers)
    search.rebuild(with_progress(documents(pages, vocabularies, seed=1)))
    search.close()
    print(file=sys.stderr)
    return time.perf_counter() - started


def queries(vocabularies, count: int, seed: int) -> list[SearchQuery]:
    """One- and two-word queries, typed folded, words of middling frequency; a third with filters."""
    rng = random.Random(seed)
    made = []
    for n in range(count):
        language = rng.choice(sorted(vocabularies))
        vocab = vocabularies[language]
        common = [w for w in vocab["common"] if len(w) >= 4][20:2000]  # not stop words, not hapaxes
        tail = [vocab["tail"][(rank * 7919) % TAIL_WORDS] for rank in range(100, 50_000)]
        pool = common if n % 4 < 2 else tail
        text = " ".join(fold(rng.choice(pool)) for _ in range(1 + n % 2))
        filters = {}
        if n % 3 == 0:
            filters = rng.choice([{"collection": rng.choice(COLLECTIONS)}, {"year_from": 1940, "year_to": 1960},
                                  {"doc_type": rng.choice(DOC_TYPES)}, {"language": language}])
        made.append(SearchQuery(text, limit=20, **filters))
    return made


def time_queries(index_path: Path, batch: list[SearchQuery]) -> tuple[list[float], list[int]]:
    search = EmbeddedSearch(index_path)
    for query in batch[:20]:  # warm the page cache, as a running portal would be
        search.search(query)
    timings, totals = [], []
    for query in batch:
        started = time.perf_counter()
        results = search.search(query)
        timings.append((time.perf_counter() - started) * 1000)
        totals.append(results.total)
    search.close()
    return timings, totals


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--index", type=Path, default=REPO / "bench" / "out" / "latency" / "search")
    parser.add_argument("--reuse", action="store_true", help="Time queries on the existing index.")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Analysing processes.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()

    vocabularies = language_vocabularies(args.corpus)
    args.index.parent.mkdir(parents=True, exist_ok=True)
    build_seconds = None
    if not args.reuse:
        print(f"building an index of {args.pages:,} pages in {args.index}", file=sys.stderr)
        build_seconds = build(args.index, args.pages, vocabularies, args.workers)
    size = sum(f.stat().st_size for f in args.index.rglob("*") if f.is_file())
    batch = queries(vocabularies, args.queries, seed=2)
    timings, totals = time_queries(args.index, batch)
    one = [t for q, t in zip(batch, timings) if len(q.text.split()) == 1]
    two = [t for q, t in zip(batch, timings) if len(q.text.split()) == 2]
    figures = {
        "pages": args.pages, "languages": sorted(vocabularies), "build_seconds": build_seconds,
        "index_bytes": size, "queries": len(batch), "median_hits": statistics.median(totals),
        "p50_ms": percentile(timings, 50), "p95_ms": percentile(timings, 95), "p99_ms": percentile(timings, 99),
        "p95_one_word_ms": percentile(one, 95), "p95_two_words_ms": percentile(two, 95),
        "max_ms": max(timings),
    }
    if build_seconds:
        print(f"build: {build_seconds:,.0f} s ({args.pages / build_seconds:,.0f} pages/s)")
    print(f"index: {size / 2**30:.2f} GiB ({size / args.pages:,.0f} bytes/page), languages {', '.join(sorted(vocabularies))}")
    print(f"{len(batch)} queries (1-2 words, facets, a third filtered), median {figures['median_hits']:,} matching pages")
    print(f"latency ms: p50 {figures['p50_ms']:.1f}  p95 {figures['p95_ms']:.1f}  p99 {figures['p99_ms']:.1f}  "
          f"max {figures['max_ms']:.1f}  | p95 one word {figures['p95_one_word_ms']:.1f}, "
          f"two words {figures['p95_two_words_ms']:.1f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
