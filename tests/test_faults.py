"""Faults around the index: searching during a reindex, disk full, unwritable or busy index."""

from __future__ import annotations

import errno
import sqlite3
import threading
import time

import pytest
from conftest import FakeEmbedder, write
from test_indexer import small_archive

from archivist.storage import database, manifest

from archivist.build import indexer
from archivist.storage.vector_index import FaissVectorIndex
from archivist.errors import ArchivistError
from archivist.build.indexer import reindex
from archivist.query.search import Searcher


class SlowEmbedder(FakeEmbedder):
    """Embeds slowly so a search can run while the reindex is in its embedding stage."""

    def __init__(self, started: threading.Event) -> None:
        super().__init__()
        self.started = started

    def encode(self, texts, batch_size=32, progress=None):
        self.started.set()
        time.sleep(1.5)
        return super().encode(texts, batch_size, progress)


def test_searches_during_a_reindex_use_the_previous_index_then_switch_without_restart(tmp_path, fake_embedder):
    archive, index = small_archive(tmp_path), tmp_path / "index"
    reindex(archive, index, embedder=fake_embedder)
    searcher = Searcher.open(index, embedder=fake_embedder)
    old_build = searcher.build_id
    write(archive / "delta.txt", "Delta Headline\n\nThe delta story is about glaciers melting.\n")
    started = threading.Event()
    worker = threading.Thread(target=reindex, args=(archive, index), kwargs={"embedder": SlowEmbedder(started)})
    worker.start()
    assert started.wait(30)
    during = searcher.search("glaciers", mode="keyword")
    assert during.hits == [] and searcher.build_id == old_build
    assert searcher.search("ballots", mode="keyword").hits  # still answering
    worker.join(60)
    after = searcher.search("glaciers", mode="keyword")
    assert searcher.build_id != old_build
    assert after.hits[0].article.path == "delta.txt"


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     sqlite3.OperationalError("database or disk is full")])
def test_disk_full_during_reindex_is_a_clear_error_and_the_old_index_stays(tmp_path, fake_embedder,
                                                                           monkeypatch, failure):
    archive, index = small_archive(tmp_path), tmp_path / "index"
    reindex(archive, index, embedder=fake_embedder)
    live = manifest.current_build_id(index)
    write(archive / "delta.txt", "Delta Headline\n\nThe delta story is about glaciers.\n")

    def full(*args, **kwargs):
        raise failure

    monkeypatch.setattr(FaissVectorIndex, "save", full)
    with pytest.raises(ArchivistError, match="the previous index is unchanged") as caught:
        reindex(archive, index, embedder=fake_embedder)
    assert "full" in str(caught.value) or "No space" in str(caught.value)
    assert manifest.current_build_id(index) == live
    assert [p.name for p in (index / "builds").iterdir()] == [live]
    assert Searcher.open(index, embedder=fake_embedder).search("ballots", mode="keyword").hits


def test_unwritable_index_folder_is_a_clear_error(tmp_path, fake_embedder, monkeypatch):
    archive = small_archive(tmp_path)
    blocker = write(tmp_path / "index-is-a-file", "not a folder")
    with pytest.raises(ArchivistError, match="Cannot create the index folder"):
        reindex(archive, blocker / "index", embedder=fake_embedder)

    index = tmp_path / "index"
    reindex(archive, index, embedder=fake_embedder)
    original_connect = database.connect

    def read_only(path, readonly=False):
        if not readonly:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return original_connect(path, readonly)

    write(archive / "delta.txt", "Delta Headline\n\nA new article to write.\n")
    monkeypatch.setattr(indexer.database, "connect", read_only)
    with pytest.raises(ArchivistError, match="readonly database.*previous index is unchanged"):
        reindex(archive, index, embedder=fake_embedder)


@pytest.mark.parametrize("damage", ["truncate-vectors", "remove-vectors", "truncate-database", "manifest-garbage"])
def test_corrupt_index_is_explained_and_reindex_repairs_it(tmp_path, fake_embedder, damage):
    from archivist.errors import IndexIncompatible

    archive, index = small_archive(tmp_path), tmp_path / "index"
    reindex(archive, index, embedder=fake_embedder)
    build = manifest.build_dir(index, manifest.current_build_id(index))
    if damage == "truncate-vectors":
        data = (build / manifest.VECTORS).read_bytes()
        (build / manifest.VECTORS).write_bytes(data[: len(data) // 2])
    elif damage == "remove-vectors":
        (build / manifest.VECTORS).unlink()
    elif damage == "truncate-database":
        data = (build / manifest.DATABASE).read_bytes()
        (build / manifest.DATABASE).write_bytes(data[:1000])
    else:
        (index / manifest.MANIFEST).write_text("{ not json")
    with pytest.raises(IndexIncompatible, match="reindex") as caught:
        Searcher.open(index, embedder=fake_embedder)
    assert "\n" not in str(caught.value)
    reindex(archive, index, embedder=fake_embedder)
    assert Searcher.open(index, embedder=fake_embedder).search("ballots", mode="keyword").hits


def test_the_index_holds_no_pickle_only_plain_files(tmp_path, fake_embedder):
    """Nothing from the index is ever unpickled: it is JSON, SQLite and FAISS files only."""
    archive, index = small_archive(tmp_path), tmp_path / "index"
    reindex(archive, index, embedder=fake_embedder)
    files = sorted(p.relative_to(index).as_posix() for p in index.rglob("*") if p.is_file())
    build = manifest.current_build_id(index)
    assert files == [".lock", "builds/" + build + "/archive.sqlite",
                     "builds/" + build + "/vectors.faiss", "manifest.json"]
    for path in index.rglob("*"):
        if path.is_file() and path.stat().st_size:
            assert not path.read_bytes().startswith(b"\x80"), path  # pickle protocol 2+ header
    import ast
    import pathlib

    for module in pathlib.Path(__file__).resolve().parent.parent.joinpath("archivist").glob("*.py"):
        tree = ast.parse(module.read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                    for alias in node.names} | {node.module for node in ast.walk(tree)
                                                if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"pickle", "marshal", "shelve", "dill", "joblib"}, module
