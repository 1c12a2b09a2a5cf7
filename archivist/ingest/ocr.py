"""Optical character recognition of a page image with Tesseract (Debian's `tesseract-ocr`).

Tesseract is a program, not a Python package: it is called as one (image on stdin, text on
stdout), so nothing but the binary and its language data is needed, and its absence is a
state the PDF reader reports ("OCR is not installed"), never an import error.
"""

from __future__ import annotations

import io
import shutil
import os
import subprocess

from archivist import config

# A page that takes longer than this is given up on (and reported), not waited for forever.
PAGE_TIMEOUT_S = 120
INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-eng"


class OcrFailed(RuntimeError):
    """Tesseract ran but gave no text for a page (with its one-line reason)."""


def tesseract_path() -> str | None:
    """The tesseract program, or None when OCR is not installed."""
    return shutil.which("tesseract")


def recognise(image, program: str) -> str:
    """The text Tesseract reads in a PIL image (a page rendered at about 300 dpi)."""
    png = io.BytesIO()
    image.save(png, format="PNG")
    try:
        # One thread: Tesseract's OpenMP threads made a page 4x slower on 2 cores (5.5 s against
        # 1.4 s, same text; benchmarks/ingest.py), and pages are read one after another anyway.
        done = subprocess.run([program, "stdin", "stdout", "-l", config.ocr_languages()], input=png.getvalue(),
                              capture_output=True, timeout=PAGE_TIMEOUT_S, check=False,
                              env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    except subprocess.TimeoutExpired:
        raise OcrFailed(f"OCR took over {PAGE_TIMEOUT_S} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrFailed(message[-1] if message else f"tesseract exited with {done.returncode}")
    return done.stdout.decode("utf-8", "replace")
