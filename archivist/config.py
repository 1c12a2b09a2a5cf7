"""Where things live and which model is used; one place so the CLI, page and tests agree."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Bumped whenever the on-disk layout of index/ changes; readers refuse other versions.
FORMAT_VERSION = 6

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIMENSION = 384
# all-MiniLM-L6-v2 truncates input past 256 word pieces; passages are sized to stay under it.
MODEL_MAX_TOKENS = 256


def archive_dir(override: str | os.PathLike | None = None) -> Path:
    """The archive folder: explicit argument, else $ARCHIVIST_ARCHIVE, else ./archive of the project."""
    return _choose(override, "ARCHIVIST_ARCHIVE", PROJECT_ROOT / "archive")


def index_dir(override: str | os.PathLike | None = None) -> Path:
    """The index folder: explicit argument, else $ARCHIVIST_INDEX, else ./index of the project."""
    return _choose(override, "ARCHIVIST_INDEX", PROJECT_ROOT / "index")


def _choose(override: str | os.PathLike | None, env_name: str, default: Path) -> Path:
    if override:
        return Path(override).expanduser().resolve()
    from_env = os.environ.get(env_name)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return default
