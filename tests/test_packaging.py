"""The container image holds what the package is: Docker cannot run on these machines, so the files that build it
are checked against the project's own (the image once lacked the portal: `retrodig serve` failed in it)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DOCKER = REPO / "docker"


def _copied_by_dockerfile() -> set[str]:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    return {source for line in re.findall(r"^COPY\s+(.+)$", text, re.M) for source in line.split()[:-1]}


def test_the_image_holds_every_package_and_the_configs():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {pattern.rstrip("*") for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages == {"pipeline", "cli", "portal"}
    assert packages | {"configs", "pyproject.toml", "README.md"} <= _copied_by_dockerfile()
    for source in _copied_by_dockerfile():
        assert (REPO / source).exists(), source


def test_the_image_has_the_debian_packages_the_setup_installs():
    """What scripts/setup.sh installs for running retrodig (not for its tests) is in the image too: DejaVu, the
    font of the copies' stamps, was not."""
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    for package in ("tesseract-ocr", "poppler-utils", "ghostscript", "qpdf", "unpaper", "pngquant",
                    "fonts-dejavu-core"):
        assert re.search(rf"\s{re.escape(package)}\s", dockerfile), package
        assert package in (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8"), package


def test_every_compose_service_of_retrodig_s_image_can_build_it():
    """The cluster's services named the image without building it: `up` pulled `retrodig` from a registry."""
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))["services"]
    of_retrodig = {name: service for name, service in services.items() if service.get("image") == "retrodig"}
    assert {"retrodig", "dask-scheduler", "dask-worker"} <= set(of_retrodig)
    for name, service in of_retrodig.items():
        assert service.get("build") == {"context": "..", "dockerfile": "docker/Dockerfile"}, name
