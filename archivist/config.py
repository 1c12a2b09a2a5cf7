"""Where things live, which model is used, and every environment variable Archivist reads.

The one place that reads the environment, so the CLI, the page, the benchmarks and the tests
agree on it:
    ARCHIVIST_ARCHIVE        the archive folder (default: archive/ of the project)
    ARCHIVIST_INDEX          the index folder (default: index/ of the project)
    ARCHIVIST_BACKEND        "torch", "openvino" or "openvino-f32" to force an embedding backend
    ARCHIVIST_MODEL_CACHE    where the OpenVINO export of the model is kept
    ARCHIVIST_API_TOKEN      the bearer token `serve` requires (without one it listens on loopback only)
    ARCHIVIST_PAGE_PASSWORD  the page's password (without one the page refuses to listen beyond loopback)
    ARCHIVIST_LOG_QUERIES    "1" to write query text to the server logs (off: it can identify sources)
    ARCHIVIST_ENTITIES       "0" to skip people/organisations/places at reindex
    ARCHIVIST_ENTITY_PROCESSES  worker processes for entity extraction (default: one per core
                             for large reindexes; 1 keeps it in the reindexing process)
    ARCHIVIST_OCR_LANGUAGES  Tesseract's languages for scanned PDF pages, e.g. "eng+deu" (default "eng")
    ARCHIVIST_KILL_AT        tests only: a reindex stage at which the process kills itself
    XDG_CACHE_HOME           the base of the default caches (~/.cache)
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Bumped whenever the on-disk layout of index/ changes; readers refuse other versions.
FORMAT_VERSION = 11

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIMENSION = 384
# all-MiniLM-L6-v2 truncates input past 256 word pieces; passages are sized to stay under it.
MODEL_MAX_TOKENS = 256


def archive_dir(override: str | os.PathLike | None = None) -> Path:
    """The archive folder: explicit argument, else $ARCHIVIST_ARCHIVE, else ./archive of the project."""
    return _choose(override, "ARCHIVIST_ARCHIVE", PROJECT_ROOT / "archive")


def archive_named(override: str | os.PathLike | None = None) -> bool:
    """Whether an archive folder was named (argument or $ARCHIVIST_ARCHIVE), not defaulted: over a
    PostgreSQL index only a server or page started on purpose beside the archive publishes into
    the shared database (a checkout's own archive/ would otherwise replace every reader's index)."""
    return bool(override or os.environ.get("ARCHIVIST_ARCHIVE"))


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


def use_offline_model() -> None:
    """Never let a library reach for a model hub: the model ships as a package."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def ocr_languages() -> str:
    """Tesseract's languages ($ARCHIVIST_OCR_LANGUAGES, "eng" when unset); each needs its Debian package."""
    return os.environ.get("ARCHIVIST_OCR_LANGUAGES", "").strip() or "eng"


def entities_enabled() -> bool:
    """Whether reindex reads people, organisations and places ($ARCHIVIST_ENTITIES=0 turns it off:
    on a large archive it is over a third of a reindex from nothing, and search does not need it)."""
    return os.environ.get("ARCHIVIST_ENTITIES", "").strip().lower() not in ("0", "false", "no", "off")


def entity_processes() -> int | None:
    """$ARCHIVIST_ENTITY_PROCESSES as a number, or None when unset (the reindex chooses)."""
    raw = os.environ.get("ARCHIVIST_ENTITY_PROCESSES", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        from archivist.errors import ArchivistError

        raise ArchivistError(f"ARCHIVIST_ENTITY_PROCESSES must be a whole number, not {raw!r}: "
                             "unset it to let the reindex choose, or set 1 to stay in one process") from None


def requested_backend() -> str:
    """The embedding backend asked for in $ARCHIVIST_BACKEND ("auto" when unset)."""
    return (os.environ.get("ARCHIVIST_BACKEND") or "auto").lower()


def cache_home() -> Path:
    """The base folder of Archivist's caches: $XDG_CACHE_HOME/archivist, else ~/.cache/archivist."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "archivist"


def model_cache_dir() -> Path | None:
    """$ARCHIVIST_MODEL_CACHE when set: where the exported OpenVINO model is kept."""
    explicit = os.environ.get("ARCHIVIST_MODEL_CACHE")
    return Path(explicit).expanduser() if explicit else None


def index_url(override: str | None = None) -> str | None:
    """--index-url, else $ARCHIVIST_INDEX_URL: a PostgreSQL index (storage/postgres/), or None
    for the embedded default under index/."""
    return override or os.environ.get("ARCHIVIST_INDEX_URL") or None


def ray_actors() -> int | None:
    """$ARCHIVIST_RAY_ACTORS: the size of `reindex --ray`'s actor pool (default: from the cluster)."""
    value = os.environ.get("ARCHIVIST_RAY_ACTORS")
    return int(value) if value and value.isdigit() and int(value) > 0 else None


def api_token() -> str | None:
    """$ARCHIVIST_API_TOKEN: the token every API request but /health must carry."""
    return os.environ.get("ARCHIVIST_API_TOKEN") or None


def page_password() -> str | None:
    """$ARCHIVIST_PAGE_PASSWORD: the password the page asks for, once per browser session."""
    return os.environ.get("ARCHIVIST_PAGE_PASSWORD") or None


def log_queries() -> bool:
    """Whether query text may be written to logs ($ARCHIVIST_LOG_QUERIES=1); off by default."""
    return os.environ.get("ARCHIVIST_LOG_QUERIES", "").strip().lower() in ("1", "true", "yes")


def kill_at_stage() -> str | None:
    """$ARCHIVIST_KILL_AT: the stage at which a reindex kills itself (crash tests)."""
    return os.environ.get("ARCHIVIST_KILL_AT") or None
