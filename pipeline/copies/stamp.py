"""The certification stamp: the formula in the request's language, request number and date, the copy's id and
the verification address, with a QR code of that address. Texts are in configs/certification.yaml."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import segno

from ..config_yaml import load_yaml
from ..errors import UsageError

CONFIG_FILE = "certification.yaml"


@dataclass(frozen=True)
class Stamp:
    title: str
    lines: tuple[str, ...]
    url: str  # what the QR code holds

    def qr_modules(self) -> list[list[bool]]:
        """The QR code's dark modules, row by row (drawn as vector squares: sharp at any zoom or print size)."""
        code = segno.make(self.url, error="m", micro=False)
        return [[bool(module) for module in row] for row in code.matrix]


@functools.cache
def _texts(configs_dir: Path) -> dict:
    return load_yaml((configs_dir / CONFIG_FILE).read_text(encoding="utf-8"), str(configs_dir / CONFIG_FILE))


def stamp_languages(configs_dir: Path) -> list[str]:
    return sorted(_texts(Path(configs_dir)))


def make_stamp(configs_dir: Path, language: str, request_number: str, issued: date, copy_id: str,
               url: str, requested: date | None = None) -> Stamp:
    """The stamp of a copy issued on `issued`; with a request number, the request's line is dated `requested`
    (when the request was filed; the day of issue when not known), and the day of issue has its own line: the
    request's line said the day of issue, which is not the request's date ("Cererea nr. X din <date>")."""
    texts = _texts(Path(configs_dir)).get(language)
    if texts is None:
        raise UsageError(f"no certification text for language '{language}' "
                         f"(languages: {', '.join(stamp_languages(configs_dir))})")
    values = {"number": request_number, "date": issued.strftime("%d.%m.%Y"), "copy": copy_id, "url": url}
    lines = [texts["issued"].format(**values), texts["copy"].format(**values), texts["verify"].format(**values)]
    if request_number.strip():  # a copy made at the counter (no online request) says only when it was issued
        lines.insert(0, texts["request"].format(**{**values, "date": (requested or issued).strftime("%d.%m.%Y")}))
    return Stamp(texts["title"], tuple(lines), url)
