"""`reindex --index-url`: the archive reindexed into a PostgreSQL index on a real server, with the
embedding cache shared through the database, and a reindex killed mid-way."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import PROJECT, write
from pg_server import database, server_url  # noqa: F401 (fixtures)

SEED_ARCHIVE = PROJECT / "archive"
NEW_ARTICLE = ("Cocoa harvest report\n\nCocoa growers in the Brazilian state of Bahia expect a record harvest "
               "this season, the producers' association said, after rains returned to the plantations.\n")


@pytest.fixture
def archive(tmp_path):
    folder = tmp_path / "archive"
    shutil.copytree(SEED_ARCHIVE, folder)
    return folder


def reindex(archive, index, url: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("ARCHIVIST_KILL_AT", None)
    if kill_at:
        env["ARCHIVIST_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "archivist", "reindex", "--archive", str(archive), "--index",
                           str(index), "--index-url", url, "--json", "--quiet"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)


def search(url: str, query: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "archivist", "search", query, "--json", "-k", "3",
                             "--index-url", url], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def live_generation(url: str) -> int:
    from archivist.storage.postgres.connection import connect
    from archivist.storage.postgres.generations import live_generation as live

    with connect(url) as connection:
        return live(connection)


def mentions(url: str) -> list[tuple]:
    """Every name the live generation holds, with where it is, in a fixed order."""
    from archivist.storage.postgres.connection import connect

    with connect(url) as connection:
        return connection.execute('SELECT article_id, key, name, type, start, "end" FROM mentions m '
                                  "JOIN generations g ON g.id = m.generation AND g.state = 'live' "
                                  "ORDER BY 1, 5, 2").fetchall()


def test_a_reindex_into_postgres_publishes_and_a_second_machine_embeds_nothing_again(tmp_path, archive, database):
    first = reindex(archive, tmp_path / "machine-a", database)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["passages_embedded"] == report["passages"] > 0
    assert report["shared_cache"]["drawn"] == 0 and report["shared_cache"]["written"] > report["passages"]
    assert report["published"]["generation"] == 1
    assert report["shared_entities"] == {"drawn": 0, "written": 5}  # the five seed articles' names
    top = search(database, "Lion of Panjshir")["results"][0]
    assert "Lion of Panjshir" in top["passage"]
    names_before = mentions(database)
    assert names_before

    # Another machine (a fresh working folder) reindexing the same archive draws every vector from the database.
    second = json.loads(reindex(archive, tmp_path / "machine-b", database).stdout)
    assert second["passages_embedded"] == 0 and second["shared_cache"] == {"drawn": report["shared_cache"]["written"],
                                                                 "written": 0}
    assert second["published"]["generation"] == 2 and second["published"]["replaced"] == 1
    # Nor does it read names again: each article's come from the database's entity cache.
    assert second["shared_entities"] == {"drawn": 5, "written": 0}
    assert mentions(database) == names_before
    # Built from the vectors the database held (fp16), it answers as the first machine's build did.
    assert search(database, "Lion of Panjshir")["results"][0]["passage"] == top["passage"]

    # Nothing changed: nothing embedded, nothing published.
    again = json.loads(reindex(archive, tmp_path / "machine-b", database).stdout)
    assert again["published"] is None and live_generation(database) == 2


@pytest.mark.parametrize("stage", ["embedding", "building the vector and keyword indexes"])
def test_a_reindex_into_postgres_killed_midway_leaves_readers_on_the_previous_generation(
        tmp_path, archive, database, stage):
    assert reindex(archive, tmp_path / "index", database).returncode == 0
    before = search(database, "cocoa harvest in Bahia")
    write(archive / "cocoa.txt", NEW_ARTICLE)
    killed = reindex(archive, tmp_path / "index", database, kill_at=stage)
    assert killed.returncode == -9, killed.stderr
    assert live_generation(database) == 1
    during = search(database, "cocoa harvest in Bahia")
    assert [h["article"]["path"] for h in during["results"]] == [h["article"]["path"] for h in before["results"]]
    assert all(h["article"]["path"] != "cocoa.txt" for h in during["results"])

    finished = reindex(archive, tmp_path / "index", database)
    assert finished.returncode == 0, finished.stderr
    published = json.loads(finished.stdout)["published"]
    assert published["replaced"] == 1 and published["generation"] == 2
    # Killed before the publish began, nothing is resumed; killed while indexing, every article
    # (the five seed reports and the new one) was in and is kept.
    assert published["resumed_articles"] == (0 if stage == "embedding" else 6)
    after = search(database, "cocoa harvest in Bahia")
    assert after["results"][0]["article"]["path"] == "cocoa.txt"


def watch(url: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archivist", "watch", *arguments, "--index-url", url], cwd=PROJECT,
                          capture_output=True, text=True, timeout=300)


def test_a_watch_kept_in_postgres_counts_what_a_reindex_from_another_machine_adds(tmp_path, archive, database):
    """The watchlist over --index-url is a row of the database: a watch added on one machine is
    checked on another, sees the article a third machine's reindex published, and outlives the
    publish (nothing of it is written beside any working folder)."""
    assert reindex(archive, tmp_path / "machine-a", database).returncode == 0
    added = watch(database, "add", "Taliban OR Bahia", "--json")
    assert added.returncode == 0, added.stderr
    seen = json.loads(added.stdout)["seen"]
    assert seen == 5  # every seed article names the Taliban: they count as seen
    assert json.loads(watch(database, "check", "--json").stdout)["watches"][0]["new"] == []
    write(archive / "cocoa.txt", NEW_ARTICLE)
    assert reindex(archive, tmp_path / "machine-b", database).returncode == 0
    listed = watch(database, "list")
    assert listed.returncode == 0 and '1. Taliban OR Bahia: 1 new of 6 matching' in listed.stdout
    checked = json.loads(watch(database, "check", "--json").stdout)["watches"][0]
    assert [a["path"] for a in checked["new"]] == ["cocoa.txt"]
    assert watch(database, "check").stdout == ""  # marked seen: nothing new for cron to mail
    assert not list(tmp_path.glob("machine-*/watchlist.json"))
    assert watch(database, "remove", "1").returncode == 0 and "No watches yet" in watch(database, "list").stdout
    missing = watch(database, "remove", "1")
    assert missing.returncode != 0 and "No watch 1" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
