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
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .preflight import SCAN_SUFFIXES, sniff_format

_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class DocumentPlan:
    source: str  # what the user recognises: the file, or the folder/pattern of its pages
    files: tuple[Path, ...]


def natural_key(path: Path) -> tuple:
    """Sort key that puts p2 before p10."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name))


def find_scan_files(inputs: list[str], exclude: Path | None = None) -> tuple[list[Path], list[Path]]:
    """Files to ingest, and files seen while walking folders that are not scans (reported as skipped).

    Files named explicitly are always tried (and refused with a reason if they are not scans); inside
    folders, hidden files and files that neither look nor are named like scans are passed over.
    """
    scans: list[Path] = []
    others: list[Path] = []
    seen: set[Path] = set()
    excluded = exclude.resolve() if exclude else None
    for raw in inputs:
        for path in _expand(raw):
            if excluded and (excluded == path.resolve() or excluded in path.resolve().parents):
                raise UsageError(f"{path} is inside the archive {exclude}: ingest the original scans")
            if path.is_dir():
                walked, skipped = _walk(path, exclude)
                scans += [p for p in walked if p not in seen]
                others += skipped
                seen.update(walked)
            elif path not in seen:
                scans.append(path)
                seen.add(path)
    return scans, others


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


def _walk(folder: Path, exclude: Path | None) -> tuple[list[Path], list[Path]]:
    scans, others = [], []
    excluded = exclude.resolve() if exclude else None
    for path in sorted(folder.rglob("*"), key=lambda p: (p.parent.as_posix(), natural_key(p))):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if excluded and (excluded == path.resolve() or excluded in path.resolve().parents):
            continue  # never ingest the archive into itself
        (scans if _looks_like_scan(path) else others).append(path)
    return scans, others


def _looks_like_scan(path: Path) -> bool:
    if path.suffix.lower() in SCAN_SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            return sniff_format(fh.read(1024)) is not None
    except OSError:
        return False


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
    runs = list(_DIGITS.finditer(path.stem))
    if not runs:
        return None
    last = runs[-1]
    pattern = path.stem[: last.start()] + "*" + path.stem[last.end():] + path.suffix.lower()
    return (path.parent, pattern)


def _describe(key: tuple, members: list[Path]) -> str:
    if len(members) == 1:
        return str(members[0])
    folder, pattern = key
    return str(folder / pattern) if pattern != "*" else str(folder)
