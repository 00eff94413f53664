"""Grouping pages into documents: the rules the README promises."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import UsageError
from pipeline.stages.discover import find_scan_files, group_documents, natural_key

from .conftest import REPO


def _touch(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = folder / name
        path.write_bytes(b"\x89PNG\r\n\x1a\n" if name.endswith(".png") else b"%PDF-1.4\n")
        paths.append(path)
    return paths


def test_natural_order_puts_p2_before_p10():
    names = ["p10.png", "p2.png", "p1.png"]
    assert sorted((Path(n) for n in names), key=natural_key) == [Path("p1.png"), Path("p2.png"), Path("p10.png")]


def test_auto_groups_numbered_pages_and_keeps_other_files_apart(tmp_path):
    pages = _touch(tmp_path / "dosar-7", "p10.png", "p2.png", "p1.png", "cover.png", "deed.pdf")
    files = find_scan_files([str(tmp_path)]).scans
    plans = group_documents(files, single_page={p for p in pages if p.suffix == ".png"}, rule="auto")
    sources = {plan.source: [f.name for f in plan.files] for plan in plans}
    assert sources[str(tmp_path / "dosar-7" / "p*.png")] == ["p1.png", "p2.png", "p10.png"]
    assert sources[str(tmp_path / "dosar-7" / "cover.png")] == ["cover.png"]
    assert sources[str(tmp_path / "dosar-7" / "deed.pdf")] == ["deed.pdf"]


def test_auto_groups_numbered_pages_named_without_an_ending(tmp_path):
    # The text after the last dot was taken for an ending: each page was a document of its own.
    pages = _touch(tmp_path, "Hotărârea nr. 45 pag. 10", "Hotărârea nr. 45 pag. 2", "Hotărârea nr. 45 pag. 1",
                   "scan.002", "scan.001")
    plans = group_documents(sorted(pages, key=natural_key), set(pages), "auto")
    assert sorted([f.name for f in plan.files] for plan in plans) == [
        ["Hotărârea nr. 45 pag. 1", "Hotărârea nr. 45 pag. 2", "Hotărârea nr. 45 pag. 10"], ["scan.001", "scan.002"]]


def test_auto_does_not_join_files_that_differ_before_the_last_number(tmp_path):
    pages = _touch(tmp_path, "EHRI-BF-19380802_EN_01.png", "EHRI-BF-19380810_EN_01.png")
    plans = group_documents(pages, set(pages), "auto")
    assert len(plans) == 2


def test_folder_rule_makes_one_document_per_folder(tmp_path):
    first = _touch(tmp_path / "a", "scan b.png", "scan a.png")
    second = _touch(tmp_path / "b", "x.png")
    plans = group_documents(first + second, set(first + second), "folder")
    assert [[f.name for f in p.files] for p in plans] == [["scan a.png", "scan b.png"], ["x.png"]]


def test_file_rule_keeps_every_file_apart(tmp_path):
    pages = _touch(tmp_path, "p1.png", "p2.png")
    assert len(group_documents(pages, set(pages), "file")) == 2


def test_walk_skips_hidden_and_non_scan_files_and_the_archive_itself(tmp_path):
    _touch(tmp_path, "p1.png")
    (tmp_path / "notes.txt").write_text("not a scan")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    _touch(tmp_path / "archive" / "masters", "old.png")
    found = find_scan_files([str(tmp_path)], exclude=tmp_path / "archive")
    assert [f.name for f in found.scans] == ["p1.png"]
    assert [o.name for o in found.not_scans] == ["notes.txt"]


def test_missing_input_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        find_scan_files([str(tmp_path / "nope")])
    with pytest.raises(UsageError, match="no files match"):
        find_scan_files([str(tmp_path / "*.tif")])


def test_linked_folders_are_walked_once(tmp_path):
    """Path.rglob passed over a linked folder: its scans were silently left out of the batch."""
    _touch(tmp_path / "fond" / "real", "a.png")
    _touch(tmp_path / "elsewhere", "b.png")
    (tmp_path / "fond" / "linked").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "fond" / "real" / "loop").symlink_to(tmp_path / "fond")  # a link back up ends there
    found = find_scan_files([str(tmp_path / "fond")])
    assert sorted(path.name for path in found.scans) == ["a.png", "b.png"]


def test_a_folder_that_cannot_be_listed_is_reported(tmp_path):
    """It was passed over silently: "0 processed, 0 skipped, 0 failed" for a folder of scans."""
    _touch(tmp_path / "fond", "a.png")
    _touch(tmp_path / "fond" / "locked", "b.png")
    os.chmod(tmp_path / "fond" / "locked", 0)
    _touch(tmp_path / "fond" / "listed", "c.png")
    os.chmod(tmp_path / "fond" / "listed", 0o444)  # its names can be read, not its files: it stopped the batch
    list_it = ("import json, sys; from pipeline.stages.discover import find_scan_files\n"
               "found = find_scan_files([sys.argv[1]])\n"
               "print(json.dumps([[p.name for p in found.scans], [[p.name, why] for p, why in found.unreadable]]))")
    command = [sys.executable, "-c", list_it, str(tmp_path / "fond")]
    if os.geteuid() == 0:  # root lists any folder: the process is started without that right
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    os.chmod(tmp_path / "fond" / "locked", 0o755)
    os.chmod(tmp_path / "fond" / "listed", 0o755)
    scans, unreadable = json.loads(done.stdout)
    assert scans == ["a.png"], done.stderr
    assert sorted(name for name, _ in unreadable) == ["c.png", "locked"]
    assert all("Permission denied" in why for _, why in unreadable)


def test_links_up_into_the_archive_or_to_nothing_are_not_ingested(tmp_path):
    """A link up to a parent folder walked the parent's other folders; a link to a file of the archive ingested
    the archive's own master; a link to a missing file was dropped silently."""
    _touch(tmp_path / "fond" / "box", "elsewhere.png")
    _touch(tmp_path / "fond" / "sub", "p1.png")
    (tmp_path / "fond" / "sub" / "up").symlink_to(tmp_path / "fond")
    _touch(tmp_path / "fond" / "sub" / "archive" / "masters", "old.png")
    (tmp_path / "fond" / "sub" / "master.png").symlink_to(tmp_path / "fond" / "sub" / "archive" / "masters" / "old.png")
    (tmp_path / "fond" / "sub" / "p2.png").symlink_to(tmp_path / "offline" / "p2.png")
    found = find_scan_files([str(tmp_path / "fond" / "sub")], exclude=tmp_path / "fond" / "sub" / "archive")
    assert [path.name for path in found.scans] == ["p1.png"]
    (broken, why), = found.unreadable
    assert broken.name == "p2.png" and "not there" in why


def test_a_folder_named_twice_is_reported_once(tmp_path):
    _touch(tmp_path / "fond", "p1.png")
    (tmp_path / "fond" / "notes.txt").write_text("not a scan")
    found = find_scan_files([str(tmp_path / "fond"), str(tmp_path / "fond") + "/"])
    assert [path.name for path in found.scans] == ["p1.png"]
    assert [path.name for path in found.not_scans] == ["notes.txt"]



def test_a_file_named_by_a_relative_and_an_absolute_path_is_one_file(tmp_path, monkeypatch):
    """in/a.png and $PWD/in/a.png were two inputs: the second was reported as a copy of the first ("duplicate")."""
    _touch(tmp_path / "in", "a.png")
    monkeypatch.chdir(tmp_path)
    found = find_scan_files(["in/a.png", str(tmp_path / "in" / "a.png"), "in", str(tmp_path / "in")])
    assert found.scans == [Path("in/a.png")]
