"""The search backends the contract tests run against, and how each is opened for a test."""

from __future__ import annotations

from pathlib import Path

from pipeline.backends.search import EmbeddedSearch

BACKENDS = ["embedded"]


def open_backend(name: str, folder: Path):
    if name == "embedded":
        return EmbeddedSearch(folder / "search.sqlite")
    raise ValueError(name)
