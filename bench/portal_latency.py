"""Server time of the portal's search page on a generated archive (default 100,000 pages).

The search index is generated and built as bench/search_latency.py does (its generator, imported: real word
frequencies from ../shared/corpus, a Zipf tail of made-up words, 5 % OCR errors; built with
EmbeddedSearch.rebuild as `retrodig reindex` builds it). The portal app is then run in-process on that archive,
signed in as a clerk, and the search page (`GET /?q=...`: 20 hits with snippets and thumbnails' links, the
four facets, the whole HTML rendered) is requested for each query. Server time is the app's own
`Server-Timing` header (request in, response out, as uvicorn would send it), so the figure does not include
the network or the client. Goal: p95 under 150 ms.

    .venv/bin/python bench/portal_latency.py                  # 100,000 pages (several minutes to build)
    .venv/bin/python bench/portal_latency.py --reuse          # time again on the archive built last time
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from search_latency import build, language_vocabularies, percentile, queries  # noqa: E402

from pipeline.options import Options  # noqa: E402


def query_params(query) -> dict:
    params = {"q": query.text}
    if query.collection:
        params["collection"] = query.collection
    if query.doc_type:
        params["type"] = query.doc_type
    if query.language:
        params["lang"] = query.language
    if query.year_from:
        params["from"], params["to"] = query.year_from, query.year_to
    return params


def time_search_page(archive: Path, batch) -> tuple[list[float], list[float]]:
    from fastapi.testclient import TestClient

    from portal.accounts import Accounts
    from portal.db import staff_database
    from portal.settings import PortalSettings
    from portal.web import create_app

    accounts = Accounts(staff_database(archive))
    if "bench" not in {u.name for u in accounts.users()}:
        accounts.add_user("bench", "bench-password", "clerk")
    with TestClient(create_app(PortalSettings(options=Options(archive=archive))), follow_redirects=False) as client:
        assert client.post("/api/session", json={"name": "bench", "password": "bench-password"}).status_code == 200
        for query in batch[:20]:  # warm the page cache, as a running portal would be
            client.get("/?" + urlencode(query_params(query)))
        server, wall = [], []
        for query in batch:
            started = time.perf_counter()
            response = client.get("/?" + urlencode(query_params(query)))
            wall.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text[:300]
            server.append(float(response.headers["server-timing"].split("dur=")[1]))
    return server, wall


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--archive", type=Path, default=REPO / "bench" / "out" / "portal-archive")
    parser.add_argument("--reuse", action="store_true", help="Time the pages on the archive built last time.")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()

    vocabularies = language_vocabularies(args.corpus)
    (args.archive / "documents").mkdir(parents=True, exist_ok=True)  # the search page needs no document files
    build_seconds = None
    if not args.reuse:
        print(f"building an index of {args.pages:,} pages in {args.archive}", file=sys.stderr)
        # the embedded index lives where open_search looks for it
        build_seconds = build(args.archive / "index" / "search", args.pages, vocabularies, args.workers)
    batch = queries(vocabularies, args.queries, seed=2)
    load_before = os.getloadavg()
    server, wall = time_search_page(args.archive, batch)
    load_after = os.getloadavg()
    figures = {
        "pages": args.pages, "queries": len(batch), "build_seconds": build_seconds, "machine": machine(),
        "date": time.strftime("%Y-%m-%d"), "load_before": load_before, "load_after": load_after,
        "server_p50_ms": percentile(server, 50), "server_p95_ms": percentile(server, 95),
        "server_p99_ms": percentile(server, 99), "server_max_ms": max(server),
        "client_p95_ms": percentile(wall, 95), "server_mean_ms": statistics.fmean(server),
    }
    print(f"{machine()}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"search page on {args.pages:,} pages, {len(batch)} queries: server ms p50 {figures['server_p50_ms']:.1f}  "
          f"p95 {figures['server_p95_ms']:.1f}  p99 {figures['server_p99_ms']:.1f}  max {figures['server_max_ms']:.1f}"
          f"  | in-process client p95 {figures['client_p95_ms']:.1f}")
    print("goal p95 < 150 ms:", "met" if figures["server_p95_ms"] < 150 else "NOT met")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
