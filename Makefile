# The two commands of the README, and a few helpers. Each target installs what it needs first.
ARCHIVE ?= archive
RETRODIG = .venv/bin/retrodig --archive $(ARCHIVE)

.PHONY: demo test test-all bench bench-search setup

## Set up, ingest samples/ into ./archive, and search it.
demo:
	./scripts/setup.sh
	$(RETRODIG) ingest samples --collection "Samples" --lang ron+eng; test $$? -le 4
	$(RETRODIG) search "situatia geografica"
	$(RETRODIG) search somesului
	$(RETRODIG) search "jews" --year 1930..1945

## Set up and run the test suite (slow cases excluded: make test-all runs them too).
test:
	./scripts/setup.sh test
	.venv/bin/python -m pytest

test-all:
	./scripts/setup.sh test
	.venv/bin/python -m pytest -m ""

## Benchmarks (by hand; they read ../shared/corpus).
bench:
	./scripts/setup.sh bench
	.venv/bin/python bench/throughput.py
	.venv/bin/python bench/accuracy.py

## Search benchmarks: recall@10 per backend (minutes), latency on 1,000,000 generated pages (about an hour).
bench-search:
	./scripts/setup.sh test
	.venv/bin/python bench/search_relevance.py
	.venv/bin/python bench/search_latency.py

setup:
	./scripts/setup.sh test
