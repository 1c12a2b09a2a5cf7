"""Story groups: exact copies, near copies and rewrites, on tiny hand-made articles and the seeds."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import write
from test_cli import run

from archivist.build.indexer import reindex
from archivist.query.search import Searcher
from archivist.build.stories import group, read_stories, relation

STORIES = Path(__file__).parent / "data" / "stories"
RECURRING = Path(__file__).parent / "data" / "recurring"

WIRE = ("The central bank raised its main interest rate by half a point on Tuesday, the third increase "
        "this year, saying inflation had proved more stubborn than expected. Officials said further "
        "rises could follow if prices kept climbing through the summer months. Markets had expected a "
        "smaller move and the currency rose sharply after the announcement, while shares of lenders fell.")


def groups(index, embedder) -> list[tuple[str, dict[str, str]]]:
    stories = read_stories(Searcher.open(index, embedder=embedder).connection)
    return sorted((s.kind, {m.article.path: m.kind for m in s.members}) for s in stories)


def test_exact_and_near_copies_are_grouped_and_unrelated_articles_are_not(tmp_path, fake_embedder):
    archive = tmp_path / "archive"
    write(archive / "wire.txt", "Bank Raises Rates\n\n" + WIRE + "\n")
    write(archive / "paper-a.txt", "RATES UP AGAIN\n\n" + WIRE.upper().replace(",", "") + "\n")  # same words
    near = WIRE.replace("sharply", "strongly")  # one word: about 5 of 60 shingles differ
    write(archive / "paper-b.md", "# Central bank lifts rates\n\n" + near + "\n")
    write(archive / "other.txt", "Harvest Festival\n\nThe village held its harvest festival with music, "
                                 "pies and a parade of tractors through the square on Sunday.\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    found = groups(tmp_path / "index", fake_embedder)
    assert len(found) == 1
    kind, members = found[0]
    assert kind == "near"
    assert members["wire.txt"] == "exact" and members["paper-a.txt"] == "exact"
    assert members["paper-b.md"] == "near"
    assert "other.txt" not in members


def test_groups_follow_the_archive_incrementally(tmp_path, fake_embedder):
    archive = tmp_path / "archive"
    write(archive / "one.txt", "One\n\n" + WIRE + "\n")
    write(archive / "two.txt", "Two\n\n" + WIRE + "\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    assert [kind for kind, _ in groups(tmp_path / "index", fake_embedder)] == ["exact"]
    (archive / "two.txt").unlink()
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    assert groups(tmp_path / "index", fake_embedder) == []


def test_seed_rewrite_is_the_only_story(seed_index):
    result = run("stories", "--json", "--index", str(seed_index))
    assert result.returncode == 0, result.stderr
    stories = json.loads(result.stdout)["stories"]
    assert len(stories) == 1 and stories[0]["kind"] == "rewrite"
    members = stories[0]["members"]
    assert [m["path"] for m in members] == ["000_be5a0d2d8b79ea77.txt", "001_ecfc993b8a397a1a.txt"]  # dated first
    assert {m["kind"] for m in members} == {"rewrite"}


def test_a_running_story_is_not_chained_through_rewrites():
    # monday rewrites the first report, tuesday rewrites monday's but not the first: two stories
    # would be one under a transitive closure; a copy of tuesday's joins tuesday's group.
    relations = {("first", "monday"): "rewrite", ("monday", "tuesday"): "rewrite",
                 ("tuesday", "tuesday-copy"): "exact"}
    found = group(relations, ["first", "monday", "tuesday", "tuesday-copy"])
    assert found == [("rewrite", {"first": "rewrite", "monday": "rewrite"}),
                     ("exact", {"tuesday": "exact", "tuesday-copy": "exact"})]


def test_copies_join_a_group_through_any_member_and_the_group_takes_its_weakest_kind():
    relations = {("a", "b"): "rewrite", ("b", "c"): "near", ("c", "d"): "exact"}
    assert group(relations, ["a", "b", "c", "d"]) == [
        ("rewrite", {"a": "rewrite", "b": "near", "c": "exact", "d": "exact"})]


def test_an_added_copy_joins_the_existing_story_and_search_says_how_each_source_carries_it(
        tmp_path, fake_embedder):
    archive = tmp_path / "archive"
    write(archive / "wire.md", "---\ntitle: Bank Raises Rates\ndate: 2024-03-01\noutlet: Wire\n---\n\n" + WIRE + "\n")
    write(archive / "paper.md", "---\ntitle: Rates up\ndate: 2024-03-02\noutlet: Paper\n---\n\n"
          + WIRE.replace("sharply", "strongly") + "\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    assert groups(tmp_path / "index", fake_embedder) == [("near", {"wire.md": "near", "paper.md": "near"})]
    # Only the new article is related to the others; the stored relation between the two stays.
    write(archive / "copy.md", "---\ntitle: Rates rise\ndate: 2024-02-28\noutlet: Early\n---\n\n" + WIRE + "\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    assert groups(tmp_path / "index", fake_embedder) == [
        ("near", {"copy.md": "exact", "wire.md": "exact", "paper.md": "near"})]

    searcher = Searcher.open(tmp_path / "index", embedder=fake_embedder)
    top = searcher.search("central bank interest rate", k=1).hits[0].to_json()
    carried = {top["article"]["path"]: None} | {s["path"]: s["kind"] for s in top["also_in"]}
    assert set(carried) == {"copy.md", "wire.md", "paper.md"}
    dates = [s["date"] for s in top["also_in"]]
    assert dates == sorted(dates)  # earliest first
    for source in top["also_in"]:
        assert source["passage"] and source["kind"] in ("exact", "near")
        if {top["article"]["path"], source["path"]} == {"copy.md", "wire.md"}:
            assert source["kind"] == "exact"


def test_a_reworded_report_is_a_rewrite_and_a_later_development_is_not(tmp_path, real_embedder):
    # tests/data/stories: a flood report, the same report reworded by a wire service the next day,
    # and a report two months later that repeats the background paragraph under new news.
    index = tmp_path / "index"
    reindex(STORIES, index, embedder=real_embedder)
    assert groups(index, real_embedder) == [("rewrite", {"original.md": "rewrite", "rewrite.md": "rewrite"})]


def test_shared_background_under_a_new_lead_is_not_a_rewrite(tmp_path, fake_embedder):
    lead = ("The council approved the new tram line on Monday after a vote of thirty to twelve, ending "
            "months of debate over the route through the old town and the cost of moving the market. ")
    other_lead = ("Work on the tram line stopped on Friday when engineers found medieval walls under the "
                  "market square, and the council said the opening would be delayed by at least a year. ")
    background = ("The line was first proposed in 2015 and has been redrawn three times since then. Traders "
                  "in the market have opposed every version, saying that years of building work would drive "
                  "customers away, and a petition against it gathered eleven thousand names last winter. ")
    archive = tmp_path / "archive"
    write(archive / "vote.txt", "Tram vote\n\n" + lead * 3 + "\n\n" + background * 3 + "\n")
    write(archive / "walls.txt", "Tram halted\n\n" + other_lead * 3 + "\n\n" + background * 3 + "\n")
    write(archive / "vote-again.txt", "Council backs tram\n\n" + lead * 3 + "\n\n" + other_lead * 3 + "\n")
    reindex(archive, tmp_path / "index", embedder=fake_embedder)
    assert groups(tmp_path / "index", fake_embedder) == [
        ("rewrite", {"vote.txt": "rewrite", "vote-again.txt": "rewrite"})]
    # vote and walls share half their text (the background) but not their news: not related at all.
    connection = Searcher.open(tmp_path / "index", embedder=fake_embedder).connection
    ids = dict(connection.execute("SELECT path, id FROM articles").fetchall())
    assert relation(connection, ids["vote.txt"], ids["walls.txt"]) is None
    assert relation(connection, ids["vote.txt"], ids["vote-again.txt"]) == "rewrite"


def test_a_recurring_wire_item_is_not_a_rewrite_of_its_other_editions(tmp_path, real_embedder):
    # tests/data/recurring: the same reserves-operation template on 2 March, on 2 March afternoon
    # and on 9 March with other figures (they embed at cosine 0.99), and a paper's reworded
    # 2 March report with the same figures: only the paper's report is the Wire's story told again.
    index = tmp_path / "index"
    reindex(RECURRING, index, embedder=real_embedder)
    assert groups(index, real_embedder) == [
        ("rewrite", {"rates-mar02.md": "rewrite", "rates-mar02-rewrite.md": "rewrite"})]
