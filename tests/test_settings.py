"""The build's settings record: stored whole in the manifest, compared whole at the next reindex."""

from __future__ import annotations

import json

from conftest import write
from test_stories import WIRE, groups

from archivist.ingest import chunking

from archivist.build import stories
from archivist.ingest.chunking import ChunkingSettings
from archivist.build.indexer import reindex
from archivist.settings import SECTIONS, BuildSettings


def test_the_record_round_trips_through_the_manifest_and_names_each_change(monkeypatch):
    current = BuildSettings.current()
    assert BuildSettings.from_dict(json.loads(json.dumps(current.as_dict()))) == current
    assert BuildSettings.from_dict(None) is None and BuildSettings.from_dict({"model": {}}) is None
    assert set(current.as_dict()) == set(SECTIONS)
    monkeypatch.setattr(stories, "REWRITE_SIMILARITY", 0.95)
    changed = BuildSettings.current()
    assert changed.changes_from(current) == ["stories.rewrite_similarity 0.9 -> 0.95"]
    assert changed.must_regroup(current) and not changed.must_resplit(current)
    monkeypatch.setattr(chunking, "CHUNKING", ChunkingSettings(max_tokens=256, rules=99))
    assert BuildSettings.current().must_resplit(current)
    assert current.changes_from(None) == ["no build settings recorded in the previous index"]


def test_a_changed_story_rule_regroups_every_article_and_says_so(tmp_path, fake_embedder, monkeypatch):
    archive, index = tmp_path / "archive", tmp_path / "index"
    write(archive / "wire.txt", "Bank Raises Rates\n\n" + WIRE + "\n")
    write(archive / "paper.md", "# Central bank lifts rates\n\n" + WIRE.replace("sharply", "strongly") + "\n")
    first = reindex(archive, index, embedder=fake_embedder)
    assert [kind for kind, _ in groups(index, fake_embedder)] == ["near"]
    assert json.loads((index / "manifest.json").read_text())["settings"] == BuildSettings.current().as_dict()
    assert reindex(archive, index, embedder=fake_embedder).build_id == first.build_id  # nothing changed

    monkeypatch.setattr(stories, "NEAR_THRESHOLD", 0.99)  # the two are no longer near copies
    fake_embedder.encoded.clear()
    report = reindex(archive, index, embedder=fake_embedder)
    assert report.build_id != first.build_id
    assert report.settings_changes == ["stories.near_threshold 0.8 -> 0.99"]
    assert "Build settings changed (stories.near_threshold 0.8 -> 0.99)" in report.summary()
    assert report.to_json()["settings_changes"] == report.settings_changes
    assert (report.unchanged, report.passages_embedded) == (2, 0)  # not split or embedded again
    assert "near" not in [kind for kind, _ in groups(index, fake_embedder)]


def test_a_changed_chunking_rule_splits_every_article_again(tmp_path, fake_embedder, monkeypatch):
    archive, index = tmp_path / "archive", tmp_path / "index"
    write(archive / "a.txt", "Harbour news\n\nThe ferry left at dawn. The crane was repaired.\n")
    reindex(archive, index, embedder=fake_embedder)
    monkeypatch.setattr(chunking, "CHUNKING", ChunkingSettings(max_tokens=chunking.CHUNKING.max_tokens, rules=99))
    report = reindex(archive, index, embedder=fake_embedder)
    assert report.updated == 1 and report.unchanged == 0
    assert report.settings_changes == [f"chunking.rules {ChunkingSettings().rules} -> 99"]
