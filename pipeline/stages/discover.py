"""Discover: expand the inputs into scan files, and group their pages into documents by a visible rule.

Grouping rules (`--group`):
  auto    single-page images in one folder whose names differ only by their last number
          (p1.tif, p2.tif ... p10.tif; scan_0001.jpg, scan_0002.jpg) form one document, in number order;
          every other file is a document of its own.
  folder  all single-page images in one folder form one document, in natural order (p2 before p10).
  file    every file is a document of its own.
In every rule a multi-page file (PDF, multi-page TIFF) is one document.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import UsageError
from .preflight import OTHER_IMAGE_SUFFIXES, SCAN_SUFFIXES, other_image_format, sniff_format

_DIGITS = re.compile(r"\d+")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentPlan:
    source: str  # what the user recognises: the file, or the folder/pattern of its pages
    files: tuple[Path, ...]


def natural_key(path: Path) -> tuple:
    """Sort key that puts p2 before p10."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name))


class Discovered(NamedTuple):
    scans: list[Path]  # files to ingest
    not_scans: list[Path]  # files seen while walking folders that are not scans (reported as skipped)
    unreadable: list[tuple[Path, str]]  # what could not be looked at (a folder, a broken link), and why: failed


def find_scan_files(inputs: list[str], exclude: Path | None = None) -> Discovered:
    """Files to ingest, and what was passed over while walking folders.

    Files named explicitly are always tried (and refused with a reason if they are not scans); inside
    folders, hidden files and folders are passed over silently, and files that neither look nor are named like
    scans are reported. Linked folders are followed (each real folder once: a link back up ends there).
    """
    found = Discovered([], [], [])
    seen: set[Path] = set()
    excluded = exclude.resolve() if exclude else None
    for raw in inputs:
        for path in _expand(raw):
            if excluded and (excluded == path.resolve() or excluded in path.resolve().parents):
                raise UsageError(f"{path} is inside the archive {exclude}: ingest the original scans")
            if path.is_dir():
                walked = _walk(path, exclude)  # a folder named twice (F and F/) is reported once
                if not (walked.scans or walked.not_scans or walked.unreadable):
                    # "0 processed", exit 0: a disk not mounted where the scans should be looked like a batch done.
                    log.warning("%s holds no files (a disk not mounted there?)", path)
                found.scans.extend(_unseen(walked.scans, seen))
                found.not_scans.extend(_unseen(walked.not_scans, seen))
                reported = set(_unseen([path for path, _ in walked.unreadable], seen))
                found.unreadable.extend(item for item in walked.unreadable if item[0] in reported)
            else:
                found.scans.extend(_unseen([path], seen))
    return found


def check_inputs(inputs: list[str]) -> None:
    """UsageError for an input that names nothing (no such file, a glob matching none), before anything is made:
    a mistyped path made a new archive's folders, then was refused."""
    for raw in inputs:
        _expand(raw)


def _unseen(paths: list[Path], seen: set[Path]) -> list[Path]:
    """The paths not in `seen`, which now holds them. Compared as absolute paths: one file named as in/a.tif and
    as $PWD/in/a.tif was read twice and reported as a copy of itself ("duplicate")."""
    new = []
    for path in paths:
        key = Path(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            new.append(path)
    return new


def _expand(raw: str) -> list[Path]:
    if not raw.strip():  # Path("") is the current folder: an empty shell variable must not ingest it
        raise UsageError("an input is empty: name a file, a folder or a glob")
    path = Path(raw)
    try:
        found = path.exists()
    except OSError as exc:  # a name longer than the file system allows
        raise UsageError(f"no such file or folder: {raw[:200]} ({exc.strerror})") from exc
    if found:
        return [path]
    if any(ch in raw for ch in "*?["):
        matches = sorted(glob.glob(raw, recursive=True))
        if matches:
            return [Path(m) for m in matches]
        raise UsageError(f"no files match {raw}")
    raise UsageError(f"no such file or folder: {raw}")


def _walk(folder: Path, exclude: Path | None) -> Discovered:
    """The files under `folder` in natural order, folder by folder. os.walk, not Path.rglob: rglob passed over
    linked folders and folders it could not list, silently."""
    found = Discovered([], [], [])
    excluded = exclude.resolve() if exclude else None
    root = folder.resolve()
    visited: set[Path] = set()

    def unreadable(error: OSError) -> None:
        found.unreadable.append((Path(error.filename), f"the folder cannot be read: {error.strerror or error}; "
                                                       "the scans in it were not looked for"))

    def inside_archive(real: Path) -> bool:  # never ingested into itself, nor through a link
        return bool(excluded) and (excluded == real or excluded in real.parents)

    files: list[Path] = []
    for top, folders, names in os.walk(folder, onerror=unreadable, followlinks=True):
        real = Path(top).resolve()
        if real in visited or real in root.parents or inside_archive(real):
            folders[:] = []  # a link back to a folder walked already or up to one above: it ends there
            continue
        visited.add(real)
        folders[:] = [name for name in folders if not name.startswith(".")]
        files += [Path(top) / name for name in names if not name.startswith(".")]
    for path in sorted(files, key=lambda p: (p.parent.as_posix(), natural_key(p))):
        try:
            if path.is_symlink() and not path.exists():
                found.unreadable.append((path, "a link to a file that is not there (a disk not mounted?)"))
            elif path.is_file() and not inside_archive(path.resolve()):
                (found.scans if _looks_like_scan(path) else found.not_scans).append(path)
        except OSError as exc:  # a folder that can be listed but not entered
            found.unreadable.append((path, f"the file cannot be read: {exc.strerror or exc}"))
    return found


def _looks_like_scan(path: Path) -> bool:
    """A file in a format retrodig reads, or an image in one it does not (preflight refuses it by name)."""
    if path.suffix.lower() in SCAN_SUFFIXES | OTHER_IMAGE_SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError:
        return False
    return sniff_format(head) is not None or other_image_format(head) is not None


def group_documents(files: list[Path], single_page: set[Path], rule: str) -> list[DocumentPlan]:
    """Documents from scan files, in the order found; `single_page` names the single-page image files."""
    if rule not in ("auto", "folder", "file"):
        raise UsageError(f"unknown grouping rule '{rule}' (choose auto, folder or file)")
    groups: dict[tuple, list[Path]] = defaultdict(list)
    for path in files:
        key = _group_key(path, rule) if path in single_page else None
        groups[key or (path, None)].append(path)
    plans = []
    for key, members in groups.items():
        members.sort(key=natural_key)
        plans.append(DocumentPlan(_describe(key, members), tuple(members)))
    return plans


def _group_key(path: Path, rule: str) -> tuple | None:
    if rule == "file":
        return None
    if rule == "folder":
        return (path.parent, "*")
    # The name without its ending, if it has a scan's: "Hotărârea nr. 45 pag. 2" and "scan.002" have none (the
    # text after their last dot was taken for one, and the series' pages were each a document of its own).
    stem, ending = (path.stem, path.suffix.lower()) if path.suffix.lower() in SCAN_SUFFIXES else (path.name, "")
    runs = list(_DIGITS.finditer(stem))
    if not runs:
        return None
    last = runs[-1]
    return (path.parent, stem[: last.start()] + "*" + stem[last.end():] + ending)


def _describe(key: tuple, members: list[Path]) -> str:
    if len(members) == 1:
        return str(members[0])
    folder, pattern = key
    return str(folder / pattern) if pattern != "*" else str(folder)
