"""Files added to the archive from outside it (the page's upload, `archivist add`): checked, then saved.

Whatever name a browser or a zip file gives, a file lands inside the archive folder: folder
parts are dropped from uploaded names ("../../etc/x.txt" is saved as "x.txt"), a zip keeps its
inner folders with each part made safe, and names are limited to letters, digits and ". - _
space" (a leading dot would make a hidden file the archive never reads). A name already in the
archive with different content is not overwritten unless the caller says so for that name;
the same content again is simply "already there". Files are written whole (a temporary file
renamed into place), so a reindex never reads half a file.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from archivist.ingest.articles import METADATA_FIELDS, METADATA_FILE, READERS, file_type, size_limit
from archivist.records import Skipped

# A zip may unpack to at most this much, in at most this many files (a zip bomb is refused whole).
MAX_ZIP_UNPACKED = 2 * 1024 * 1024 * 1024
MAX_ZIP_FILES = 10_000
_UNSAFE = re.compile(r"[^\w.\- ]+")


@dataclass
class UploadResult:
    saved: list[str] = field(default_factory=list)  # archive-relative paths written
    unchanged: list[str] = field(default_factory=list)  # already in the archive, same content
    conflicts: list[str] = field(default_factory=list)  # a different file has that name: not written
    refused: list[Skipped] = field(default_factory=list)  # wrong type, too large, unreadable zip


def safe_name(name: str) -> str | None:
    """The file name part of `name` with unsafe characters replaced, or None if nothing is left."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")
    return cleaned or None


def save_uploads(archive: Path, files: list[tuple[str, bytes]], replace: Collection[str] = (),
                 replace_all: bool = False) -> UploadResult:
    """Save each (name, content) under `archive`; a .zip is unpacked in place of itself.
    `replace` holds the archive-relative names the caller agreed to overwrite (`replace_all`: any)."""
    archive.mkdir(parents=True, exist_ok=True)
    result = UploadResult()
    agreed = set(replace)
    may_replace: Callable[[str], bool] = (lambda rel: True) if replace_all else agreed.__contains__
    for name, content in files:
        if name.lower().endswith(".zip"):
            _save_zip(archive, name, content, may_replace, result)
        else:
            _save_one(archive, safe_name(name), name, content, may_replace, result)
    return result


def set_metadata(archive: Path, rels: Sequence[str], values: dict[str, str]) -> None:
    """Set (or add) the rows of `rels` in archive/metadata.csv with the non-empty `values` (outlet,
    date, url...), in one rewrite of the file; other rows and columns are kept as they were."""
    values = {k: v.strip() for k, v in values.items() if k in METADATA_FIELDS and v and v.strip()}
    if not values or not rels:
        return
    path = archive / METADATA_FILE
    rows: list[dict[str, str]] = []
    columns = ["path", *METADATA_FIELDS]
    if path.exists():
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns += [c for c in (reader.fieldnames or []) if c and c not in columns]
            rows = [dict(row) for row in reader]
    by_path = {(r.get("path") or "").strip(): r for r in rows}
    for rel in rels:
        row = by_path.get(rel)
        if row is None:
            row = by_path[rel] = {"path": rel}
            rows.append(row)
        row.update(values)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    _write_whole(path, out.getvalue().encode("utf-8"))


def _save_zip(archive: Path, name: str, content: bytes, may_replace: Callable[[str], bool],
              result: UploadResult) -> None:
    try:
        bundle = zipfile.ZipFile(io.BytesIO(content))
        members = [m for m in bundle.infolist() if not m.is_dir()]
    except zipfile.BadZipFile:
        result.refused.append(Skipped(name, "not a readable zip file"))
        return
    if len(members) > MAX_ZIP_FILES or sum(m.file_size for m in members) > MAX_ZIP_UNPACKED:
        result.refused.append(Skipped(name, f"the zip unpacks to more than {MAX_ZIP_FILES:,} files or "
                                            f"{MAX_ZIP_UNPACKED // 1024 ** 3} GB; split it"))
        return
    for member in members:
        raw = [p for p in re.split(r"[\\/]", member.filename) if p not in ("", ".", "..")]
        if not raw or raw[0] == "__MACOSX" or raw[-1].startswith("._"):  # macOS resource forks
            continue
        parts = [safe_name(p) for p in raw]
        if None in parts:
            result.refused.append(Skipped(f"{name}: {member.filename}", "a part of the name has no usable characters"))
            continue
        _save_one(archive, "/".join(parts), f"{name}: {member.filename}", bundle.read(member), may_replace, result)


def _save_one(archive: Path, rel: str | None, shown: str, content: bytes, may_replace: Callable[[str], bool],
              result: UploadResult) -> None:
    if rel is None:
        result.refused.append(Skipped(shown, "the name has no usable characters; rename the file"))
        return
    kind = file_type(Path(rel))
    if kind not in READERS:
        result.refused.append(Skipped(shown, f"unsupported file type {kind or '(none)'}; "
                                             f"supported: {', '.join(sorted(READERS))}, .zip"))
        return
    limit = size_limit(kind)
    if len(content) > limit:
        result.refused.append(Skipped(shown, f"over the {limit // (1024 * 1024)} MB limit for {kind} files"))
        return
    target = archive / rel
    if not target.resolve().is_relative_to(archive.resolve()):  # a link inside the archive pointing out
        result.refused.append(Skipped(shown, "that name would be saved outside the archive"))
        return
    if target.exists():
        if target.is_file() and target.read_bytes() == content:
            result.unchanged.append(rel)
            return
        if not may_replace(rel):
            result.conflicts.append(rel)
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_whole(target, content)
    result.saved.append(rel)


def _write_whole(target: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
