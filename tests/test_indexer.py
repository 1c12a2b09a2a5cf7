"""Reindex: incremental by content hash, embedding cache, atomic publish, lock, crash recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PROJECT, write

from archivist.storage import manifest as index_files
from archivist.errors import IndexBusy, IndexMissing
from archivist.build.indexer import reindex
from archivist.storage.locking import IndexLock
from archivist.query.search import Searcher


def small_archive(root: Path) -> Path:
    archive = root / "archive"
    write(archive / "alpha.txt", "Alpha Headline\n\nThe alpha story tells of mountains and rivers in the north.\n")
    write(archive / "beta.md", "# Beta Headline\n\nThe beta story is about elections and ballots in the south.\n")
    write(archive / "gamma.txt", "Gamma Headline\n\nThe gamma story covers markets, trade and prices.\n")
    return archive


def test_incremental_reindex(tmp_path, fake_embedder):
    archive, index = small_archive(tmp_path), tmp_path / "index"
    first = reindex(archive, index, embedder=fake_embedder)
    assert (first.articles, first.added, first.passages) == (3, 3, 3)
    assert first.passages_embedded == 3

    fake_embedder.encoded.clear()
    again = reindex(archive, index, embedder=fake_embedder)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 3)
    assert again.passages_embedded == 0 and fake_embedder.encoded == []

    write(archive / "alpha.txt", "Alpha Headline\n\nThe alpha story now tells of deserts instead.\n")
    (archive / "gamma.txt").unlink()
    changed = reindex(archive, index, embedder=fake_embedder)
    assert (changed.added, changed.updated, changed.removed, changed.unchanged) == (0, 1, 1, 1)
    assert changed.passages_embedded == 1
    searcher = Searcher.open(index, embedder=fake_embedder)
    paths = {h.article.path for h in searcher.search("markets trade prices", mode="keyword").hits}
    assert "gamma.txt" not in paths
    assert searcher.search("deserts", mode="keyword").hits[0].article.path == "alpha.txt"
    assert not searcher.search("mountains rivers", mode="keyword").hits


def test_text_embedded_before_is_never_embedded_again(tmp_path, fake_embedder):
    archive, index = small_archive(tmp_path), tmp_path / "index"
    reindex(archive, index, embedder=fake_embedder)
    original = (archive / "beta.md").read_text()
    write(archive / "beta.md", original + "\nAn added line about ballots being counted twice over.\n")
    reindex(archive, index, embedder=fake_embedder)
    fake_embedder.encoded.clear()
    write(archive / "beta.md", original)  # back to text whose embeddings are cached
    report = reindex(archive, index, embedder=fake_embedder)
    assert report.updated == 1 and report.passages_embedded == 0 and fake_embedder.encoded == []


def test_publish_keeps_only_live_and_previous_builds(tmp_path, fake_embedder):
    archive, index = small_archive(tmp_path), tmp_path / "index"
    builds = []
    for i in range(3):
        write(archive / f"extra{i}.txt", f"Extra {i}\n\nNew text number {i}.\n")
        builds.append(reindex(archive, index, embedder=fake_embedder).build_id)
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["build_id"] == builds[-1] and manifest["previous_build_id"] == builds[-2]
    assert sorted(p.name for p in (index / "builds").iterdir()) == sorted(builds[-2:])
    assert manifest["counts"]["articles"] == 6
    assert manifest["model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["model"]["dimension"] == 384 and manifest["chunking"]["max_tokens"] == 256


def test_second_reindex_is_refused_while_one_runs(tmp_path, fake_embedder):
    archive, index = small_archive(tmp_path), tmp_path / "index"
    index.mkdir()
    with IndexLock(index):
        with pytest.raises(IndexBusy, match="already running"):
            reindex(archive, index, embedder=fake_embedder)
    reindex(archive, index, embedder=fake_embedder)  # released afterwards


def test_lock_is_refused_from_another_process_and_released_when_it_dies(tmp_path, fake_embedder):
    archive, index = small_archive(tmp_path), tmp_path / "index"
    index.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from archivist.storage.locking import IndexLock; "
                               "l = IndexLock(Path(sys.argv[1])).__enter__(); print('held', flush=True); "
                               "time.sleep(60)", str(index)],
                              cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        cli = subprocess.run([sys.executable, "-m", "archivist", "reindex", "--archive", str(archive),
                              "--index", str(index)], cwd=PROJECT, capture_output=True, text=True, timeout=120)
        assert cli.returncode == 1
        assert "Another reindex is already running" in cli.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    reindex(archive, index, embedder=fake_embedder)


def test_missing_index_says_to_reindex(tmp_path):
    with pytest.raises(IndexMissing, match="python -m archivist reindex"):
        Searcher.open(tmp_path / "nothing")


@pytest.mark.parametrize("stage", ["reading", "splitting", "embedding", "writing", "vectors", "copies",
                                   "publishing"])
def test_reindex_killed_at_any_stage_leaves_previous_index_whole(tmp_path, real_embedder, stage):
    """SIGKILL a real reindex process in each stage; the old index answers exactly as before."""
    archive, index = small_archive(tmp_path), tmp_path / "index"
    reindex(archive, index, embedder=real_embedder)
    before = Searcher.open(index, embedder=real_embedder).search("elections ballots", k=3).to_json()["results"]
    for i in range(3):
        write(archive / "more" / f"article{i}.txt", f"More Story {i}\n\nThe harvest number {i} was large.\n")
    process = subprocess.run([sys.executable, "-m", "archivist", "reindex", "--quiet",
                              "--archive", str(archive), "--index", str(index)],
                             cwd=PROJECT, capture_output=True, timeout=300,
                             env={**os.environ, "HF_HUB_OFFLINE": "1", "ARCHIVIST_KILL_AT": stage})
    assert process.returncode == -signal.SIGKILL
    if stage != "reading":  # from splitting on, a half-written build lies beside the live one
        assert any(p.name != index_files.current_build_id(index) for p in (index / "builds").iterdir())
    after = Searcher.open(index, embedder=real_embedder).search("elections ballots", k=3).to_json()["results"]
    assert after == before
    report = reindex(archive, index, embedder=real_embedder)
    assert (report.articles, report.added) == (6, 3)
    manifest = json.loads((index / "manifest.json").read_text())
    assert sorted(p.name for p in (index / "builds").iterdir()) == sorted(
        [manifest["build_id"], manifest["previous_build_id"]])
    assert Searcher.open(index, embedder=real_embedder).search("harvest number 2", k=1).hits


@pytest.mark.parametrize("field, value, message", [
    ("format_version", 999, "format version 999"),
    ("model", {"name": "some/other-model", "dimension": 768}, "'some/other-model'"),
])
def test_index_from_another_model_or_format_is_refused_with_the_fix(tmp_path, fake_embedder, field, value, message):
    from archivist.errors import IndexIncompatible

    archive, index = small_archive(tmp_path), tmp_path / "index"
    reindex(archive, index, embedder=fake_embedder)
    manifest = json.loads((index / "manifest.json").read_text())
    manifest[field] = value
    (index / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatible, match=message) as caught:
        Searcher.open(index, embedder=fake_embedder)
    assert "python -m archivist reindex" in str(caught.value)
    report = reindex(archive, index, embedder=fake_embedder)  # reindex rebuilds from the archive
    assert report.added == 3
    assert Searcher.open(index, embedder=fake_embedder).search("ballots", mode="keyword").hits


def test_an_index_of_an_older_format_is_rebuilt_without_embedding_again(tmp_path, fake_embedder):
    archive, index = small_archive(tmp_path), tmp_path / "index"
    reindex(archive, index, embedder=fake_embedder)
    manifest = json.loads((index / "manifest.json").read_text())
    manifest["format_version"] -= 1
    (index / "manifest.json").write_text(json.dumps(manifest))
    fake_embedder.encoded.clear()
    report = reindex(archive, index, embedder=fake_embedder)
    assert report.added == 3 and fake_embedder.encoded == []  # vectors came from the old build's cache
    live = json.loads((index / "manifest.json").read_text())
    assert live["previous_build_id"] is None
    assert [p.name for p in (index / "builds").iterdir()] == [live["build_id"]]  # the old build is gone
    assert Searcher.open(index, embedder=fake_embedder).search("ballots").hits


def test_damaged_database_is_reported_not_a_traceback(tmp_path, fake_embedder):
    from archivist.errors import IndexIncompatible

    archive, index = small_archive(tmp_path), tmp_path / "index"
    reindex(archive, index, embedder=fake_embedder)
    database = index_files.build_dir(index, index_files.current_build_id(index)) / index_files.DATABASE
    database.write_bytes(b"not a database" * 100)
    with pytest.raises(IndexIncompatible, match="damaged"):
        Searcher.open(index, embedder=fake_embedder)
    report = reindex(archive, index, embedder=fake_embedder)
    assert report.articles == 3 and report.passages == 3
    assert Searcher.open(index, embedder=fake_embedder).search("ballots", mode="keyword").hits


def test_reindex_with_nothing_changed_keeps_the_live_build(tmp_path, fake_embedder):
    archive, index = small_archive(tmp_path), tmp_path / "index"
    first = reindex(archive, index, embedder=fake_embedder)
    again = reindex(archive, index, embedder=fake_embedder)
    assert again.build_id == first.build_id == index_files.current_build_id(index)
    assert (again.unchanged, again.passages) == (3, first.passages)
    assert [p.name for p in (index / "builds").iterdir()] == [first.build_id]


def _sentences_without_vectors(index) -> int:
    searcher = Searcher.open(index)
    return searcher.connection.execute(
        "SELECT count(*) FROM sentences s LEFT JOIN embeddings e ON e.text_hash = s.embed_hash "
        "WHERE e.vector IS NULL").fetchone()[0]


def test_one_text_split_two_ways_gets_every_sentence_vector(tmp_path, fake_embedder):
    archive = tmp_path / "archive"
    # The same words, as two paragraphs in one file and one in the other: one passage text,
    # embedded once, but the sentences differ.
    write(archive / "a.txt", "Market day\n\nThe mayor said\n\nshops opened early on the square today.\n")
    write(archive / "b.txt", "Market day\n\nThe mayor said shops opened early on the square today.\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    assert _sentences_without_vectors(tmp_path / "index") == 0
    assert fake_embedder.encoded.count("Market day\nThe mayor said shops opened early on the square today.") == 1


def test_a_resplit_embeds_again_and_drops_the_old_splits_vectors(tmp_path, fake_embedder, monkeypatch):
    from archivist.build import changes
    from archivist.ingest import chunking
    from archivist.ingest.chunking import ChunkingSettings

    archive, index = tmp_path / "archive", tmp_path / "index"
    write(archive / "a.txt", "Harbour news\n\nThe ferry left at dawn. The crane was repaired. Traders waited.\n")
    reindex(archive, index, embedder=fake_embedder)
    before = Searcher.open(index).connection.execute("SELECT text_hash FROM embeddings").fetchall()
    # New splitting rules: the passage text is the same, its sentence vectors are keyed anew.
    monkeypatch.setattr(chunking, "CHUNKING", ChunkingSettings(max_tokens=chunking.CHUNKING.max_tokens, rules=99))
    monkeypatch.setattr(changes, "sentence_key", lambda passage, span: f"v2 {passage} {span}")
    reindex(archive, index, embedder=fake_embedder)
    assert len(fake_embedder.encoded) == 2  # the cached passage vector alone does not do
    assert _sentences_without_vectors(index) == 0
    connection = Searcher.open(index).connection
    after = {r[0] for r in connection.execute("SELECT text_hash FROM embeddings")}
    passage_hash = connection.execute("SELECT embed_hash FROM passages").fetchone()[0]
    new_sentences = {r[0] for r in connection.execute("SELECT embed_hash FROM sentences")}
    assert len(new_sentences) == 3 and all(h.startswith("v2 ") for h in new_sentences)
    assert after == {passage_hash} | new_sentences  # the old split's sentence vectors are gone
    assert len({r[0] for r in before} - after) == 3
