"""The index folder and its manifest, which names the live build and is replaced last.

Layout of the index folder:
    manifest.json            the published build: its folder, model, settings, counts
    builds/<build_id>/       archive.sqlite + vectors.faiss of one build
    .lock                    held (flock) by a running reindex
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from archivist.config import FORMAT_VERSION, MODEL_NAME
from archivist.storage.database import connect
from archivist.errors import IndexIncompatible, IndexMissing, first_line

MANIFEST = "manifest.json"
BUILDS = "builds"
DATABASE = "archive.sqlite"
VECTORS = "vectors.faiss"
BUILD_FILES = (DATABASE, VECTORS)  # what a published build holds


def read_manifest(index: Path) -> dict:
    """The published manifest, checked for format and model; raises with the fix in the message."""
    path = index / MANIFEST
    if not path.exists():
        raise IndexMissing(f"No index in {index}; build it with: python -m archivist reindex")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise IndexIncompatible(f"The index manifest {path} is damaged; rebuild it with: "
                                "python -m archivist reindex") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexIncompatible(f"The index in {index} has format version {manifest.get('format_version')}, "
                                f"this Archivist reads version {FORMAT_VERSION}; rebuild it with: "
                                "python -m archivist reindex")
    if manifest.get("model", {}).get("name") != MODEL_NAME:
        raise IndexIncompatible(f"The index in {index} was built with the model "
                                f"{manifest.get('model', {}).get('name')!r}, not {MODEL_NAME!r}; "
                                "rebuild it with: python -m archivist reindex")
    build = build_dir(index, manifest.get("build_id", ""))
    for name in BUILD_FILES:
        if not (build / name).is_file():
            raise IndexIncompatible(f"The index in {index} is missing {BUILDS}/{build.name}/{name}; "
                                    "rebuild it with: python -m archivist reindex")
    return manifest


def damaged(index: Path, error: BaseException) -> IndexIncompatible:
    """The one message for a published build that cannot be read, with the fix."""
    return IndexIncompatible(f"The index in {index} is damaged ({first_line(error)}); "
                             "rebuild it with: python -m archivist reindex")


def open_live_database(index: Path, manifest: dict) -> sqlite3.Connection:
    """A read-only connection to the published build's database, checked to be readable."""
    try:
        connection = connect(build_dir(index, manifest["build_id"]) / DATABASE, readonly=True)
        connection.execute("SELECT count(*) FROM articles").fetchone()
    except sqlite3.DatabaseError as error:
        raise damaged(index, error) from None
    return connection


def current_build_id(index: Path) -> str | None:
    """Cheap check of which build is live (for cache keys); None when there is no readable manifest."""
    try:
        return json.loads((index / MANIFEST).read_text(encoding="utf-8")).get("build_id")
    except (OSError, ValueError):
        return None


def build_dir(index: Path, build_id: str) -> Path:
    return index / BUILDS / build_id


def publish_manifest(index: Path, manifest: dict) -> None:
    """Write the manifest beside the old one and swap it in with one atomic rename."""
    tmp = index / f".{MANIFEST}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, index / MANIFEST)
    _fsync_dir(index)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
