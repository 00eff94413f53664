"""A rerun of a finished batch reuses preflight's results for unchanged inputs instead of reading them again."""

import json
import os

import pipeline.run
from pipeline.stages.preflight import inspect_scan


def test_rerun_reads_no_unchanged_input_but_notices_a_changed_one(run_cli, phototest, monkeypatch):
    inspected = []

    def counting_inspect(path, max_pixels):
        inspected.append(path.name)
        return inspect_scan(path, max_pixels)

    monkeypatch.setattr(pipeline.run, "inspect_scan", counting_inspect)
    first = json.loads(run_cli("ingest", str(phototest), "--lang", "eng", "--json").stdout)
    assert inspected == ["phototest.tif"]

    second = json.loads(run_cli("ingest", str(phototest), "--lang", "eng", "--json").stdout)
    assert inspected == ["phototest.tif"]  # not read again
    assert second["items"][0]["document"] == first["items"][0]["document"]

    os.utime(phototest, ns=(0, 0))  # any change to the file's stat: inspected and hashed again
    run_cli("ingest", str(phototest), "--lang", "eng", "--json")
    assert inspected == ["phototest.tif"] * 2
    run_cli("ingest", str(phototest), "--lang", "eng", "--force", "--json")
    assert inspected == ["phototest.tif"] * 3  # --force trusts nothing remembered


def test_a_damaged_cache_is_started_again(run_cli, phototest, archive_dir):
    """The cache is only an optimisation: garbage in its file must not stop an ingest."""
    run_cli("ingest", str(phototest), "--lang", "eng")
    (archive_dir / "index" / "scans.sqlite").write_bytes(b"not a database" * 200)
    again = json.loads(run_cli("ingest", str(phototest), "--lang", "eng", "--json").stdout)
    assert [item["reason"] for item in again["items"]] == ["already-archived"]
