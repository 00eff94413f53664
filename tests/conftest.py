"""Shared fixtures: real files from tests/data, a fresh archive per test, the CLI run in-process."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
SAMPLES = REPO / "samples"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def run_cli(archive_dir: Path):
    """Run `retrodig --archive <tmp archive> ARGS...` in-process; returns click's Result."""

    from cli.main import cli

    def run(*args: str):
        runner = CliRunner()
        return runner.invoke(cli, ["--archive", str(archive_dir), *args], catch_exceptions=False)

    return run


@pytest.fixture
def phototest(tmp_path: Path) -> Path:
    """A clean rendered English page (tesseract-ocr/test, Apache-2.0), copied so the test owns it."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(DATA / "pages" / "phototest.tif", folder / "phototest.tif"))
