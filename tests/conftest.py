"""Shared fixtures: real files from tests/data, a fresh archive per test, the CLI run in-process."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
SAMPLES = REPO / "samples"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
# Why a test on a development page skips in a clone without the corpus beside it (CI has it): the page stays out
# of the repository for want of a stated licence (DIBCO, Kant, the rendered pages, some edge inputs) or for size.
NEEDS_CORPUS = ("needs ../shared/corpus beside the clone: a development page kept out of the repository "
                "(no stated licence, or size)")


def run_without_write_rights(read_only: Path, args: list[str], cwd: Path = REPO, env: dict | None = None,
                             restore: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m cli.main ARGS` with the folder `read_only` (all it holds) made read-only, as for a user whose
    archive, or part of it, they may not write; root writes anywhere, so its process is started without that
    right. The folders' rights are given back afterwards (from `restore` down, or `read_only`)."""
    for folder, _, names in os.walk(read_only):
        os.chmod(folder, 0o555)
        for name in names:
            os.chmod(Path(folder) / name, 0o444)
    command = [sys.executable, "-m", "cli.main", *args]
    if os.geteuid() == 0:
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    try:
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    finally:
        for folder, _, _ in os.walk(restore or read_only):
            os.chmod(folder, 0o755)


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


# --- the portal's archive: real scans, OCRed once per test session --------------------------------------

SCRIPT_LINE = "Observații: <script>alert('xss')</script> & <b>bold</b>"


def _render_page(path: Path, lines: list[str], size: int = 44, blur: float = 0.0, noise: int = 0) -> Path:
    """A page of typed text rendered with Pillow (DejaVu, from Debian's fonts-dejavu), saved at 300 dpi."""
    import random

    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", size)
    image = Image.new("L", (1700, 900), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((120, 150 + number * 120), line, font=font, fill=0)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    rng = random.Random(3)
    pixels = image.load()
    for _ in range(noise):
        pixels[rng.randrange(image.width), rng.randrange(image.height)] = rng.choice((0, 90, 255))
    image.save(path, dpi=(300, 300))
    return path


def _speckled(grey: np.ndarray, share: float) -> np.ndarray:
    """`grey` with `share` of its pixels set to black, dark grey or white at random (salt-and-pepper noise: dust on
    the scanner glass, a worn sensor), the same pixels on every run."""
    rng = np.random.default_rng(7)
    count = int(share * grey.size)
    noisy = grey.copy()
    noisy[rng.integers(0, grey.shape[0], count), rng.integers(0, grey.shape[1], count)] = rng.choice(
        np.array([0, 90, 255], np.uint8), count)
    return noisy


@pytest.fixture(scope="session")
def portal_archive_template(tmp_path_factory) -> Path:
    """An archive ingested for real from three scans: Clujul.jpg (Romanian print with diacritics, samples/),
    a typed page that says `<script>` (to prove OCR text is escaped), and a page blurred past reading and
    speckled, which the pipeline flags for review. Tests copy it (portal_archive) before changing anything."""
    from pipeline.api import ingest
    from pipeline.options import Options

    root = tmp_path_factory.mktemp("portal")
    inputs = root / "scans"
    inputs.mkdir()
    shutil.copy(SAMPLES / "Clujul.jpg", inputs / "Clujul.jpg")
    _render_page(inputs / "script-page.png", ["Primăria comunei Florești", "Certificat de urbanism nr. 17 din 1976",
                                               SCRIPT_LINE, "Semnătura secretarului"])
    _render_page(inputs / "faded-register.png", ["Registrul agricol al comunei Mihai Viteazu",
                                                  "volumul 3, poziția 17, anul 1958"], size=30, blur=6, noise=160_000)
    report = ingest([str(inputs)], Options(archive=root / "archive", languages="ron", collection="Fond 12 – Urbanism",
                                           grouping="file"))
    assert report.count("processed") == 3, report.to_dict()
    return root / "archive"


@pytest.fixture
def portal_archive(portal_archive_template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(portal_archive_template, copy)
    return copy


# --- citizens' requests: records with personal data to redact -----------------------------------------------

POLISH_PERMIT = ["Urząd Miejski w Przemyślu", "Pozwolenie na budowę nr 12/1978", "ul. Mickiewicza 5, Przemyśl",
                 "inwestor Jan Kowalski, PESEL 44051401359", "budynek mieszkalny jednorodzinny"]
ROMANIAN_BIRTH = ["Primăria comunei Florești", "Certificat de naștere din anul 1980",
                  "născut Ion Popescu, CNP 1800101221144", "fiul lui Gheorghe și al Mariei"]


@pytest.fixture(scope="session")
def requests_archive_template(portal_archive_template: Path, tmp_path_factory) -> Path:
    """The portal's archive plus two typed records with third parties' personal data: a Polish building permit
    (a PESEL with a valid checksum) and a Romanian birth certificate of 1980 (a valid CNP; civil status under
    embargo for third parties)."""
    from pipeline.api import ingest
    from pipeline.options import Options

    root = tmp_path_factory.mktemp("requests")
    shutil.copytree(portal_archive_template, root / "archive")
    inputs = root / "scans"
    inputs.mkdir()
    _render_page(inputs / "pozwolenie-12-1978.png", POLISH_PERMIT)
    _render_page(inputs / "certificat-nastere-1980.png", ROMANIAN_BIRTH)
    report = ingest([str(inputs)], Options(archive=root / "archive", languages="pol+ron", grouping="file",
                                           collection="Fond 7 – Urbanism și stare civilă"))
    assert report.count("processed") == 2, report.to_dict()
    return root / "archive"


@pytest.fixture
def requests_archive(requests_archive_template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(requests_archive_template, copy)
    return copy


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free port; its inbox holds what the portal sent."""
    from .requests_support import start_smtp

    controller, inbox = start_smtp()
    yield inbox
    controller.stop()
