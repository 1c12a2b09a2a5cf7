"""Hostile archives: every bad file is skipped or read, reported by name and reason, never fatal."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import write

from archivist.ingest import articles as articles_module
from archivist.ingest.articles import MAX_ARTICLE_BYTES, scan_archive
from archivist.build.indexer import reindex
from archivist.query.search import Searcher


def reasons(result) -> dict[str, str]:
    return {s.path: s.reason for s in result.skipped}


def test_oversized_text_file_is_refused_with_the_limit(tmp_path):
    big = tmp_path / "huge.txt"
    with open(big, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # 50 MB, sparse
    write(tmp_path / "ok.txt", "Fine\n\nA normal article.\n")
    result = scan_archive(tmp_path)
    assert [a.path for a in result.articles] == ["ok.txt"]
    assert reasons(result)["huge.txt"] == f"file is 52 MB, over the {MAX_ARTICLE_BYTES / 1e6:.0f} MB limit for this type"


def test_script_only_html_is_reported(tmp_path):
    write(tmp_path / "tracker.html", "<html><head><script>var a=1;</script></head><body>"
                                     "<script>document.write('x')</script></body></html>")
    assert "no article text found" in reasons(scan_archive(tmp_path))["tracker.html"]


def test_duplicate_record_ids_within_a_file_are_reported_and_across_files_kept_apart(tmp_path):
    record = {"id": "r1", "title": "T", "text": "Some text."}
    write(tmp_path / "a.jsonl", json.dumps(record) + "\n" + json.dumps({**record, "text": "Other."}) + "\n")
    write(tmp_path / "b.jsonl", json.dumps(record) + "\n")
    result = scan_archive(tmp_path)
    assert sorted(a.path for a in result.articles) == ["a.jsonl#r1", "b.jsonl#r1"]
    assert "duplicate article id" in reasons(result)["a.jsonl#r1"]


def test_symbolic_link_loops_and_folder_links_are_not_followed(tmp_path):
    write(tmp_path / "real" / "a.txt", "A\n\nText.\n")
    os.symlink(tmp_path / "real", tmp_path / "real" / "loop")
    os.symlink(tmp_path / "self.txt", tmp_path / "self.txt")
    result = scan_archive(tmp_path)
    assert [a.path for a in result.articles] == ["real/a.txt"]
    found = reasons(result)
    assert "not followed" in found["real/loop"]
    assert "looping" in found["self.txt"]


def test_fifo_is_skipped_instead_of_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    assert reasons(scan_archive(tmp_path))["pipe.txt"] == "not a regular file"


def test_unreadable_and_vanishing_files_are_reported(tmp_path, monkeypatch):
    write(tmp_path / "locked.txt", "Locked\n\nSecret.\n")
    write(tmp_path / "fine.txt", "Fine\n\nText.\n")
    real_walk = articles_module._walk

    def walk_with_a_vanished_file(archive, skipped):
        yield from real_walk(archive, skipped)
        yield archive / "gone.txt"  # listed, then deleted before it was read

    original = Path.read_bytes

    def read_bytes(self):
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(articles_module, "_walk", walk_with_a_vanished_file)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = scan_archive(tmp_path)
    assert [a.path for a in result.articles] == ["fine.txt"]
    assert reasons(result) == {"locked.txt": "cannot be read: Permission denied",
                               "gone.txt": "cannot be read: No such file or directory"}


def test_a_parser_crash_is_reported_not_fatal(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setitem(articles_module.READERS, ".html", explode)
    write(tmp_path / "deep.html", "<div>" * 10 + "x")
    write(tmp_path / "fine.txt", "Fine\n\nText.\n")
    result = scan_archive(tmp_path)
    assert [a.path for a in result.articles] == ["fine.txt"]
    assert "RecursionError" in reasons(result)["deep.html"]


def test_reindex_of_a_hostile_archive_reports_everything_and_indexes_the_rest(tmp_path, fake_embedder):
    archive = tmp_path / "archive"
    write(archive / "good.md", "# Good\n\nThe good article about orchards.\n")
    write(archive / "empty.txt", "")
    write(archive / "binary.txt", bytes(range(256)) * 8)
    write(archive / "feed.jsonl", '{"id": 1, "text": "Line one about harbours."}\n{broken\n')
    report = reindex(archive, tmp_path / "index", embedder=fake_embedder)
    assert report.articles == 2
    assert {s.path for s in report.skipped} == {"empty.txt", "binary.txt", "feed.jsonl:2"}
    searcher = Searcher.open(tmp_path / "index", embedder=fake_embedder)
    assert searcher.search("harbours", mode="keyword").hits[0].article.path == "feed.jsonl#1"


@pytest.mark.parametrize("query", ["x" * 10_000, '" AND ( NEAR( * ^ col:term', "SELECT * FROM articles; --",
                                   "طالبان در پنجشیر", "潘杰希尔 抵抗", "🔥🏔️", "\u202eevil\u202c"])
def test_hostile_queries_answer_without_errors(tmp_path, fake_embedder, query):
    archive = tmp_path / "archive"
    write(archive / "a.txt", "Valley\n\nThe valley resisted. Articles table select from.\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=fake_embedder)
    for mode in ("hybrid", "semantic", "keyword"):
        response = searcher.search(query, mode=mode)
        assert isinstance(response.hits, list)


def test_one_odd_json_record_never_drops_the_records_after_it(tmp_path):
    lines = ['{"id": 1, "text": "First."}', '{"id": 2, "text": "Lone \\ud800 surrogate."}',
             '{"id": 3, "text": "Third.", "date": {"nested": true}}', '{"id": 4, "text": "Fourth."}']
    write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")
    write(tmp_path / "list.json", "[" + ",".join(lines) + "]")
    result = scan_archive(tmp_path)
    assert sorted(a.path for a in result.articles) == sorted(
        [f"{name}#{i}" for name in ("feed.jsonl", "list.json") for i in (1, 2, 3, 4)])
    surrogate = next(a for a in result.articles if a.path == "feed.jsonl#2")
    surrogate.text.encode("utf-8")  # storable
