"""Cleanup profiles: named YAML files in configs/profiles/ that say which cleanup steps run and how.

Archivists edit these files, so every mistake (a typo in a field name, a value out of range) is reported
as a UsageError naming the file and the field, never as a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config_yaml import read_yaml_file
from .errors import UsageError, validation_problems

_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
# Degrees: the largest skew a profile may have deskew look for (the orientation test looks as far). A sheet laid
# 30 degrees askew on the glass, or photographed so, read as nothing at 15 (bench/scan_variants.py "crooked").
# Below 45: there the projections of the pixel grid's diagonals pile up (every pixel of a diagonal falls in one
# row), and their sharpness passed for lines of text: an upright page was turned on its side.
MAX_SKEW_ANGLE = 40.0


class _Step(BaseModel):
    # extra="forbid": a misspelt field in a profile must be an error, not a silently ignored setting.
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True


class OrientationSettings(_Step):
    osd_confidence: float = Field(
        default=2.0, ge=0, le=50,
        description="Tesseract's orientation detector is believed from this confidence on (asked only when unsure)",
    )


class DespeckleSettings(_Step):
    """Salt-and-pepper specks, removed from the OCR image when a page has them (stages.cleanup.specks)."""


class PerspectiveSettings(_Step):
    """A sheet photographed askew on a darker background (its edges converging) is warped to its rectangle, for
    Tesseract and the PDF alike (stages.cleanup.perspective); a scanned sheet is never touched."""


class SplitSpreadsSettings(_Step):
    min_gutter_darkness: float = Field(
        default=0.12, gt=0, lt=1,
        description="a valley of the ink profile at least this empty, in the middle fifth: the fold between two pages",
    )


class DeskewSettings(_Step):
    max_angle: float = Field(default=40.0, gt=0, le=MAX_SKEW_ANGLE, description="largest skew searched, degrees")
    min_angle: float = Field(default=0.1, ge=0, le=5, description="smaller skews are left alone, degrees")


class CropBordersSettings(_Step):
    bed_darkness: float = Field(
        default=0.5, gt=0, lt=1,
        description="areas darker than this fraction of the paper's brightness count as scanner bed",
    )
    margin_px: int = Field(default=20, ge=0, le=500, description="kept around the page, px at 300 dpi")
    min_page_fraction: float = Field(
        default=0.4, gt=0, le=1, description="a smaller bright region is not trusted to be the page: no crop"
    )
    punched_holes: bool = Field(
        default=True, description="fill dark punched holes near the page's edges in the OCR image"
    )


class ResolutionSettings(_Step):
    target_text_px: int = Field(default=25, ge=10, le=80, description="letter height Tesseract reads best, px")
    max_upscale: float = Field(default=4.0, ge=1, le=8, description="largest enlargement of the OCR image")
    max_text_ratio: float = Field(
        default=1.25, ge=1.05, le=10, description="letters larger than target x this are reduced to target"
    )
    max_ocr_megapixels: float = Field(default=60.0, ge=4, le=500, description="the OCR image is kept below this")


class NormalizeIlluminationSettings(_Step):
    kernel_fraction: float = Field(
        default=0.025, gt=0, le=0.25,
        description="background smoothing window, as a fraction of the page's longer side",
    )


class ShowThroughSettings(_Step):
    min_share: float = Field(
        default=0.15, gt=0, le=1,
        description="share of the page's non-paper pixels that must lie in faint marks without an ink core "
                    "before they are taken for show-through and whitened",
    )


class DenoiseSettings(_Step):
    method: Literal["median", "none"] = "median"
    size: int = Field(default=3, ge=1, le=15, description="filter size, px at 300 dpi")


class BinarizeSettings(_Step):
    method: Literal["auto", "otsu", "sauvola", "adaptive", "none"] = "auto"
    window_px: int = Field(default=51, ge=3, le=1001, description="local window (sauvola, adaptive), px at 300 dpi")
    k: float = Field(default=0.2, gt=0, le=1, description="sauvola: how much darker than the local mean ink must be")
    offset: int = Field(default=15, ge=0, le=100, description="adaptive: grey levels below the local mean for ink")
    keep_clean_scans: bool = Field(
        default=True,
        description="an already clean, straight scan goes to Tesseract as it was scanned (only turned upright and"
        " resized if need be)"
    )


class QualitySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    review_below: float = Field(
        default=0.6, ge=0, le=1, description="pages whose quality score is below this are flagged for review"
    )
    reread_if_unread: float | None = Field(
        default=0.2, ge=0, le=1,
        description="share of the page's letters left outside every word from which the page is read again "
                    "as one block of text (pipeline.stages.unread); null: never",
    )
    fraktur_check_below: float | None = Field(
        default=0.8, ge=0, le=1,
        description="pages read with German whose quality score is below this are checked for Fraktur type and, "
                    "when they are set in it, read again with the Fraktur model (pipeline.stages.fraktur); "
                    "null: never",
    )
    show_through_check_below: float | None = Field(
        default=0.8, ge=0, le=1,
        description="pages whose quality score is below this and that show the reverse side's text are read "
                    "again with it whitened, and the better reading is kept (pipeline.stages.show_through); "
                    "null: never",
    )
    flag_lines_below: float | None = Field(
        default=None, ge=0, le=100,
        description="text lines whose words Tesseract read with a mean confidence (0-100) below this are listed "
                    "as read unsurely (handwriting, a signature, a stamp) and flag their page for review "
                    "(pipeline.stages.quality.unsure_lines); null: never",
    )
    flag_unread_writing: bool = Field(
        default=False,
        description="places where writing was left unread (handwriting, signatures, stamps, print Tesseract "
                    "skipped) are listed and flag their page for review "
                    "(pipeline.stages.unread.writing_left_unread)",
    )
    read_skipped_print: float | None = Field(
        default=60, ge=0, le=100,
        description="places where writing was left unread are read alone, and the lines read there "
                    "with a mean word confidence (0-100) of at least this join the page's reading: print Tesseract's "
                    "layout analysis skipped (pipeline.stages.skipped_print); null: never",
    )


class CleanProfile(BaseModel):
    """One cleanup recipe. Sections left out of the YAML keep their defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    perspective: PerspectiveSettings = PerspectiveSettings()
    split_spreads: SplitSpreadsSettings = SplitSpreadsSettings(enabled=False)
    despeckle: DespeckleSettings = DespeckleSettings()
    orientation: OrientationSettings = OrientationSettings()
    deskew: DeskewSettings = DeskewSettings()
    crop_borders: CropBordersSettings = CropBordersSettings()
    resolution: ResolutionSettings = ResolutionSettings()
    normalize_illumination: NormalizeIlluminationSettings = NormalizeIlluminationSettings()
    show_through: ShowThroughSettings = ShowThroughSettings(enabled=False)
    denoise: DenoiseSettings = DenoiseSettings()
    binarize: BinarizeSettings = BinarizeSettings()
    quality: QualitySettings = QualitySettings()
    # --profile auto: the shipped profiles one of which is picked per page (pipeline.stages.cleanup.choose)
    candidates: tuple[CleanProfile, ...] = ()


def available_profiles(configs_dir: Path) -> list[str]:
    """Names of the profiles shipped in `configs_dir`/profiles, sorted."""
    folder = configs_dir / "profiles"
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


AUTO_PROFILE = "auto"


def load_profile(name_or_path: str, configs_dir: Path) -> CleanProfile:
    """A profile by name (`default` -> configs/profiles/default.yaml) or by the path of a .yaml file.
    `auto` carries every shipped profile as a candidate; each page then gets the one that fits it."""
    if name_or_path == AUTO_PROFILE:
        candidates = tuple(_parse_profile(configs_dir / "profiles" / f"{name}.yaml")
                           for name in available_profiles(configs_dir))
        if not candidates:
            raise UsageError(f"--profile auto: no profiles found in {configs_dir / 'profiles'}")
        default = next((c for c in candidates if c.name == "default"), candidates[0])
        return default.model_copy(update={"name": AUTO_PROFILE, "candidates": candidates})
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path or "\\" in name_or_path:
        path = Path(name_or_path)
        try:
            found = path.is_file()
        except OSError:  # a name longer than the file system allows
            found = False
        if not found:
            raise UsageError(f"cleanup profile file not found: {str(path)[:200]}")
    else:
        path = configs_dir / "profiles" / f"{name_or_path}.yaml"
        if not _PROFILE_NAME.match(name_or_path) or not path.is_file():
            names = ", ".join([*available_profiles(configs_dir), AUTO_PROFILE])
            raise UsageError(f"unknown cleanup profile '{name_or_path}' (available: {names})")
    return _parse_profile(path)


def _parse_profile(path: Path) -> CleanProfile:
    data = read_yaml_file(path, "cleanup profile")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a cleanup profile must be a mapping of settings, not {type(data).__name__}")
    data.setdefault("name", path.stem)
    try:
        return CleanProfile.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"{path}: invalid cleanup profile: {validation_problems(exc)}") from exc
