#!/usr/bin/env bash
# Install what retrodig needs on a Debian machine: Tesseract with the archive's language packs, the PDF
# helpers, and a Python virtual environment (.venv) with retrodig in it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  tesseract-ocr tesseract-ocr-osd
  tesseract-ocr-ron tesseract-ocr-pol tesseract-ocr-ukr tesseract-ocr-rus
  tesseract-ocr-hun tesseract-ocr-deu tesseract-ocr-frk tesseract-ocr-eng
  poppler-utils ghostscript qpdf unpaper pngquant fonts-dejavu-core
  python3-venv
)
EXTRA="${1:-}"  # "test" or "bench" adds that group of Python packages
# The portal's browser tests drive Debian's own chromium (Playwright never downloads a browser here); cjpeg
# (libjpeg-turbo-progs) writes the arithmetic-coded JPEG a format test reads.
[ "$EXTRA" = "test" ] && APT_PACKAGES+=(chromium libjpeg-turbo-progs)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
spec="."; [ -n "$EXTRA" ] && spec=".[$EXTRA]"
echo "setup: installing retrodig into .venv ($spec)"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
