"""Kill -9 in the middle of a batch, rerun: it completes, nothing is duplicated, nothing half-written shows."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from pipeline._exec import tesseract
from pipeline.archive import Archive
from pipeline.backends.search import open_search
from pipeline.errors import ArchiveFullError, ExitCode
from pipeline.executor import call_task

from .conftest import DATA, REPO


def _distinct_pages(folder: Path, count: int) -> None:
    """Real page variants (different margins) so each file has its own checksum and becomes its own document."""
    page = Image.open(DATA / "pages" / "phototest.tif").convert("L")
    for n in range(count):
        ImageOps.expand(page, border=10 + 7 * n, fill=255).save(folder / f"letter-{chr(97 + n)}.png", dpi=(200, 200))


def _retrodig(archive: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", "--archive", str(archive), *args]


def test_killed_batch_resumes_without_duplicates(tmp_path):
    batch, archive_dir = tmp_path / "batch", tmp_path / "archive"
    batch.mkdir()
    _distinct_pages(batch, 6)
    cmd = _retrodig(archive_dir, "ingest", str(batch), "--lang", "eng", "--jobs", "1", "--json")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    documents = archive_dir / "documents"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if documents.is_dir() and any(documents.iterdir()):
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the batch finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {p.name for p in documents.iterdir()}
    assert 1 <= len(done_before) < 6

    rerun = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    items = json.loads(rerun.stdout)["items"]
    statuses = sorted(i["status"] for i in items)
    assert statuses.count("skipped") >= len(done_before) and statuses.count("failed") == 0
    folders = {p.name for p in documents.iterdir()}
    assert len(folders) == 6 and done_before <= folders
    assert all((documents / f / "document.json").is_file() for f in folders)
    assert not list((archive_dir / "work").iterdir())
    search = open_search(archive_dir)
    try:
        assert search.document_ids() == folders
    finally:
        search.close()
    assert len(list(Archive(archive_dir).masters.rglob("*.png"))) == 6
    # The killed run is in runs/ too: the next run removed its progress file, and no trace of it was left.
    summaries = [json.loads(path.read_text())["summary"] for path in sorted((archive_dir / "runs").glob("2*.json"))]
    assert len(summaries) == 2 and "killed" in summaries[0]["interrupted"] and "interrupted" not in summaries[1]
    assert summaries[0]["stopped_by"] == "killed" and summaries[0]["exit_code"] is None


def test_the_progress_file_counts_each_archived_document_at_once(tmp_path):
    """Progress is written at most once a second; a document archived within that second was left out of the
    killed run's report, and its next run skips it: no report counted it as archived."""
    from pipeline.progress import ProgressFile
    from pipeline.report import PROCESSED, SKIPPED, ItemReport

    progress = ProgressFile(tmp_path, ["batch"])
    for name in ("a.png", "b.png"):
        progress.item(ItemReport(name, PROCESSED, document="0123456789abcdef", pages=1))
    progress.item(ItemReport("c.png", SKIPPED, "already-archived"))  # these may wait for the next write
    assert json.loads(progress.path.read_text())["processed"] == 2


def test_a_batch_stopped_with_ctrl_c_says_so_in_its_report(tmp_path):
    """Ctrl-C: exit 130, what was finished stays, and the run's report (it wrote none) names what it did."""
    batch, archive_dir = tmp_path / "batch", tmp_path / "archive"
    batch.mkdir()
    _distinct_pages(batch, 4)
    cmd = _retrodig(archive_dir, "ingest", str(batch), "--lang", "eng", "--jobs", "1")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    documents = archive_dir / "documents"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not (documents.is_dir() and any(documents.iterdir())):
        time.sleep(0.02)
    assert proc.poll() is None, "the batch finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) == 130, proc.stderr.read()
    (report,) = [json.loads(path.read_text()) for path in (archive_dir / "runs").glob("2*.json")]
    assert report["summary"]["interrupted"] == "interrupted (Ctrl-C)" and report["summary"]["stopped_by"] == "ctrl-c"
    assert report["summary"]["exit_code"] == 130  # as the command ended (it said 0)
    archived = {item["document"] for item in report["items"] if item["status"] == "processed"}
    assert archived and archived <= {path.name for path in documents.iterdir()}


def test_a_page_written_to_a_full_disk_is_reported_as_a_full_archive_not_as_a_bug(tmp_path):
    """/dev/full fails every write with ENOSPC, as a full disk does."""
    (tmp_path / "0001_ocr.tif").symlink_to("/dev/full")
    page = np.full((40, 60), 255, np.uint8)
    outcome = call_task(lambda stem: tesseract.write_image(page, stem), tmp_path / "0001_ocr")
    assert isinstance(outcome.error, ArchiveFullError) and outcome.crash == ""
    assert outcome.error.exit_code == ExitCode.archive_unavailable


def test_a_full_disk_stops_the_batch_and_the_same_command_then_finishes_it(tmp_path):
    """A disk of 300 KiB holds the masters and the index (~120 KiB) but not a page's OCR image (~330 KiB)."""
    batch, disk = tmp_path / "batch", tmp_path / "disk"
    batch.mkdir()
    disk.mkdir()
    _distinct_pages(batch, 3)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(disk)]).returncode != 0:
        pytest.skip("no small disk can be mounted here (mounting a tmpfs needs root's mount rights)")
    try:
        archive_dir = disk / "archive"
        first = subprocess.run(_retrodig(archive_dir, "ingest", str(batch), "--lang", "eng", "--group", "file"),
                               cwd=REPO, capture_output=True, text=True, timeout=300)
        assert first.returncode == ExitCode.archive_unavailable, first.stderr
        assert "no space left on the disk" in first.stderr and "internal" not in first.stderr
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        second = subprocess.run(_retrodig(archive_dir, "ingest", str(batch), "--lang", "eng", "--group", "file",
                                          "--json"), cwd=REPO, capture_output=True, text=True, timeout=300)
        assert second.returncode == ExitCode.ok, second.stderr
        assert {item["status"] for item in json.loads(second.stdout)["items"]} <= {"processed", "skipped"}
        assert len(list((archive_dir / "documents").iterdir())) == 3
        assert subprocess.run(_retrodig(archive_dir, "verify"), cwd=REPO, timeout=120).returncode == ExitCode.ok
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def _descendants(pid: int) -> set[int]:
    """The processes below `pid`, from /proc (each one's parent is field 4 of its stat line)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def test_a_killed_batch_leaves_no_workers_behind(tmp_path):
    """Killed with -9, a batch used to leave its fork server and workers running: idle, or still reading a page
    into the work folder that the rerun then cleaned out."""
    batch, archive_dir = tmp_path / "batch", tmp_path / "archive"
    batch.mkdir()
    _distinct_pages(batch, 6)
    cmd = _retrodig(archive_dir, "ingest", str(batch), "--lang", "eng", "--jobs", "2", "--group", "file")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and len(_descendants(proc.pid)) < 3:
        time.sleep(0.05)  # the fork server and its workers (and the resource tracker) have started
    helpers = _descendants(proc.pid)
    assert proc.poll() is None and len(helpers) >= 3, "the batch ended before its workers could be seen"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in helpers):
        time.sleep(0.1)
    left = [pid for pid in helpers if Path(f"/proc/{pid}").exists()]
    assert not left, f"still running after the batch was killed: {left}"


def test_a_file_rewritten_or_gone_after_its_check_fails_alone_and_is_not_archived(tmp_path):
    """A scanner or a transfer still writing into the folder: the batch checked (hashed) a file, another scan was
    then written over it, and those bytes were archived under the checked checksum (`verify` found the master
    changed, and the scan checked was later skipped as already archived). A file deleted after it was found
    stopped the whole batch with an internal error."""
    from pipeline.errors import ChangedFileError, UnreadableFileError
    from pipeline.options import Options
    from pipeline.run import check_file
    from pipeline.scan_cache import ScanCache
    from pipeline.stages.preflight import sha256_of

    _distinct_pages(tmp_path, 2)
    scan, other = tmp_path / "letter-a.png", tmp_path / "letter-b.png"
    archive = Archive(tmp_path / "archive").create()
    checked = sha256_of(scan)
    scan.write_bytes(other.read_bytes())  # rewritten after its check
    with pytest.raises(ChangedFileError, match="letter-a.png.*changed after it was checked"):
        archive.store_master(scan, checked, ".png")
    scan.unlink()
    with pytest.raises(UnreadableFileError, match="letter-a.png.*it is gone"):
        archive.store_master(scan, checked, ".png")
    assert [path for path in archive.masters.rglob("*") if path.is_file()] == []  # nothing half-copied is kept
    cache = ScanCache(archive.index / "scans.sqlite")
    try:
        gone = check_file(scan, cache, Options(archive=archive.root))
    finally:
        cache.close()
    assert isinstance(gone, UnreadableFileError) and "it is gone" in gone.detail


def _started_batch(tmp_path: Path, pages: int) -> tuple[subprocess.Popen, Path, Path]:
    """An ingest of `pages` distinct pages, one worker, running until its first document is archived."""
    batch, archive_dir = tmp_path / "batch", tmp_path / "archive"
    batch.mkdir()
    _distinct_pages(batch, pages)
    proc = subprocess.Popen(_retrodig(archive_dir, "ingest", str(batch), "--lang", "eng", "--jobs", "1"), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    documents = archive_dir / "documents"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not (documents.is_dir() and any(documents.iterdir())):
        time.sleep(0.02)
    assert proc.poll() is None, "the batch finished before it could be stopped"
    return proc, batch, archive_dir


def _indexed(archive_dir: Path) -> set[str]:
    search = open_search(archive_dir)
    try:
        return search.document_ids()
    finally:
        search.close()


def test_documents_a_killed_run_archived_are_indexed_by_the_next_ingest_of_any_batch(tmp_path):
    """Killed between archiving documents and indexing them (the index commits every 20 s), a run left them out of
    every search: only a rerun of the same batch indexed them, and `verify` said "all intact"."""
    proc, _, archive_dir = _started_batch(tmp_path, 4)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    archived = {path.name for path in (archive_dir / "documents").iterdir()}
    assert archived and not archived & _indexed(archive_dir)
    verified = subprocess.run(_retrodig(archive_dir, "verify", "--json"), cwd=REPO, capture_output=True, text=True)
    assert verified.returncode == ExitCode.ok and set(json.loads(verified.stdout)["unindexed_documents"]) == archived
    # Search said "no hits" and nothing more: it says that what was archived is not searched yet.
    searched = subprocess.run(_retrodig(archive_dir, "search", "the"), cwd=REPO, capture_output=True, text=True)
    assert f"note: {len(archived)} archived document" in searched.stderr and "not searched yet" in searched.stderr
    other = tmp_path / "other"
    other.mkdir()
    Image.open(DATA / "pages" / "phototest.tif").convert("L").save(other / "another.png", dpi=(200, 200))
    stray = archive_dir / "runs" / ".in-progress-4242.json.part"  # as a progress file being written when it died
    stray.write_text("")
    later = subprocess.run(_retrodig(archive_dir, "ingest", str(other), "--lang", "eng"), cwd=REPO,
                           capture_output=True, text=True, timeout=300)
    assert later.returncode == ExitCode.ok, later.stderr
    assert archived < _indexed(archive_dir) and not stray.exists()
    assert "unindexed_documents\": []" in subprocess.run(_retrodig(archive_dir, "verify", "--json"), cwd=REPO,
                                                          capture_output=True, text=True).stdout
    assert "note:" not in subprocess.run(_retrodig(archive_dir, "search", "the"), cwd=REPO, capture_output=True,
                                         text=True).stderr


def test_sigterm_stops_a_batch_as_ctrl_c_does(tmp_path):
    """A shutdown or `docker stop` sends SIGTERM: the run died on the spot (exit 143, no word, no report), its
    archived documents not searchable. Now it stops as on Ctrl-C: what it finished is indexed and reported."""
    proc, _, archive_dir = _started_batch(tmp_path, 4)
    workers = _descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == ExitCode.terminated
    assert "stopped by SIGTERM" in proc.stderr.read()
    (report,) = [json.loads(path.read_text()) for path in (archive_dir / "runs").glob("2*.json")]
    assert report["summary"]["stopped_by"] == "sigterm" and report["summary"]["exit_code"] == ExitCode.terminated
    archived = {item["document"] for item in report["items"] if item["status"] == "processed"}
    assert archived and archived == {path.name for path in (archive_dir / "documents").iterdir()}
    assert archived <= _indexed(archive_dir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "workers left running"


def test_a_mark_of_a_document_not_yet_published_is_left_to_the_writer(tmp_path):
    """`verify` (no writer lock) dropped the mark of a document an ingest at work was about to publish: killed
    then, the run left it out of search for good. Only a writer drops the marks of documents never published."""
    from pipeline.verify import verify_archive

    archive = Archive(tmp_path / "archive").create()
    archive.mark_unindexed("0123456789abcdef")  # marked, not (yet) published
    assert archive.unindexed_documents() == [] and verify_archive(archive).unindexed_documents == []
    assert (archive.unindexed / "0123456789abcdef").exists()
    archive.forget_unpublished_marks()
    assert not (archive.unindexed / "0123456789abcdef").exists()
