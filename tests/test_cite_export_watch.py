"""Citations, exports with no cap, and watchlists across reindexes (issue 17): in the core, the
CLI and the HTTP API, on archives made here."""

from __future__ import annotations

import csv
import io
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import write
from pdfmaker import text_pdf
from test_api import call, query, serving
from test_cli import run

from archivist.build.indexer import reindex
from archivist.errors import BadInput, NotFound
from archivist.query.batch import read_lines, summarise
from archivist.query.citation import citation_json, plain_citation
from archivist.query.export import COLUMNS, export_rows
from archivist.query.search import MAX_K, Searcher
from archivist.watchlist import watchlist_at

HARBOUR_ARTICLES = 1234  # more rows than one page of search results (MAX_K) holds


def test_a_citation_names_the_article_and_where_in_it_the_words_are(tmp_path, real_embedder):
    archive, index = tmp_path / "archive", tmp_path / "index"
    write(archive / "strike.md", "---\ntitle: Dockers walk out\noutlet: Harbour Herald\nauthor: Sam Stringer\n"
          "date: 2021-09-03\nurl: https://herald.example/strike\n---\n\nDockers at the northern terminal "
          "stopped work at noon over unpaid overtime.\n")
    write(archive / "filing.pdf", text_pdf([["Court filing"], ["The plaintiff seeks damages of four million "
                                                               "dollars from the port authority."]]))
    reindex(archive, index, embedder=real_embedder)
    searcher = Searcher.open(index, real_embedder)

    hit = searcher.search("dockers stopped work over unpaid overtime", k=1).hits[0]
    line = plain_citation(hit)
    assert line.startswith("Sam Stringer, \u201cDockers walk out\u201d, Harbour Herald, 3 September 2021, "
                           "https://herald.example/strike, archive file strike.md, characters ")
    assert f"{hit.start:,}\u2013{hit.end:,}" in line and "\u201cDockers at the northern terminal" in line
    facts = citation_json(hit)
    assert facts["author"] == "Sam Stringer" and facts["start"] == hit.start and "page" not in facts

    pdf_hit = searcher.search("plaintiff seeks damages from the port authority", k=1).hits[0]
    assert pdf_hit.article.path == "filing.pdf"
    assert ", page 2: \u201cThe plaintiff seeks" in plain_citation(pdf_hit)
    assert citation_json(pdf_hit)["page"] == 2 and "archive file filing.pdf" in plain_citation(pdf_hit)


@pytest.fixture(scope="module")
def harbour_index(tmp_path_factory, real_embedder):
    """HARBOUR_ARTICLES short articles all holding "harbour", two outlets, and one without it."""
    root = tmp_path_factory.mktemp("harbour")
    archive, index = root / "archive", root / "index"
    rng = random.Random(7)
    words = ("crane ship cargo tide pier ferry storm union wage dock grain oil fuel rope net fish salt "
             "coal steel timber sugar coffee tea cotton wool copper tin zinc lead iron gold silver").split()
    # Varied enough that no two are copies (copies fold into one result in the ranked modes).
    records = [{"id": f"h{n}", "title": f"Harbour notice {n}", "outlet": "Herald" if n % 2 else "Courier",
                "date": f"2021-09-{1 + n % 28:02d}",
                "text": f"The harbour master wrote about berth {n}: " + " ".join(rng.sample(words, 12)) + "."}
               for n in range(HARBOUR_ARTICLES)]
    records.append({"id": "other", "title": "Weather", "text": "Rain is expected over the hills tomorrow."})
    write(archive / "notices.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    reindex(archive, index, embedder=real_embedder)
    return archive, index


def test_keyword_export_has_every_passage_holding_the_words_with_no_cap(harbour_index, real_embedder):
    _, index = harbour_index
    searcher = Searcher.open(index, real_embedder)
    rows = list(export_rows(searcher, "harbour", "keyword"))
    assert len(rows) == HARBOUR_ARTICLES > MAX_K
    assert [r["rank"] for r in rows] == list(range(1, HARBOUR_ARTICLES + 1))
    assert all("harbour" in r["passage"].lower() for r in rows) and set(rows[0]) == set(COLUMNS)
    herald = list(export_rows(searcher, "harbour", "keyword", outlets=["Herald"]))
    assert len(herald) == HARBOUR_ARTICLES // 2 and {r["outlet"] for r in herald} == {"Herald"}
    assert len(list(export_rows(searcher, "harbour -berth", "keyword"))) == 0  # every one says "berth"
    # Hybrid: the ranked results as search gives them (look-alike notices folded as copies).
    hybrid = [r["passage_id"] for r in export_rows(searcher, "harbour notices", "hybrid")]
    assert hybrid == [h.passage_id for h in searcher.search("harbour notices", k=MAX_K).hits]
    assert len(list(export_rows(searcher, "harbour notices", "hybrid", limit=3))) == 3


def test_cli_export_writes_csv_and_json_lines(harbour_index, tmp_path):
    _, index = harbour_index
    out = tmp_path / "all.csv"
    done = run("export", "harbour", "--index", str(index), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert f"Exported {HARBOUR_ARTICLES:,} rows to {out}." in done.stderr
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(table) == HARBOUR_ARTICLES and table[0]["title"].startswith("Harbour notice")
    lines = run("export", "harbour", "--format", "jsonl", "--since", "2021-09-28", "--index", str(index)).stdout
    rows = [json.loads(line) for line in lines.splitlines()]
    assert rows and all(r["date"] >= "2021-09-28" for r in rows)
    bad = run("export", "harbour", "--format", "jsonl", "--outlet", "Nowhere", "--index", str(index))
    assert bad.returncode == 2 and "Unknown outlet 'Nowhere'" in bad.stderr and not bad.stdout


def test_a_watch_counts_what_is_new_after_each_reindex_and_check_marks_it_seen(tmp_path, real_embedder):
    archive, index = tmp_path / "archive", tmp_path / "index"
    write(archive / "a.txt", "Minister visits port\n\nThe minister Ana Reyes visited the port on Monday.\n")
    write(archive / "b.txt", "Rain\n\nRain is expected over the hills tomorrow.\n")
    reindex(archive, index, embedder=real_embedder)
    searcher = Searcher.open(index, real_embedder)
    watchlist = watchlist_at(index)
    watch = watchlist.add(searcher, '"Ana Reyes"')
    assert watch.seen and len(watch.seen) == 1  # what matched when it was added counts as seen
    with pytest.raises(BadInput, match="Already watching"):
        watchlist.add(searcher, '"ana reyes"')

    write(archive / "c.txt", "Reyes resigns\n\nAna Reyes resigned as minister on Friday, her office said.\n")
    reindex(archive, index, embedder=real_embedder)  # a new build: the watch lives beside it
    peeked = watchlist.check(searcher, peek=True)
    assert [a.path for a in peeked[0].new] == ["c.txt"]
    assert [a.path for a in watchlist.check(searcher)[0].new] == ["c.txt"]  # now marked seen
    assert watchlist.check(searcher)[0].new == []

    write(archive / "d.txt", "Reyes returns\n\nAna Reyes returned to politics in a by-election.\n")
    reindex(archive, index, embedder=real_embedder)
    listed = run("watch", "list", "--index", str(index))
    assert listed.returncode == 0 and '1. "Ana Reyes": 1 new of 3 matching' in listed.stdout
    checked = run("watch", "check", "--json", "--index", str(index))
    assert [a["path"] for a in json.loads(checked.stdout)["watches"][0]["new"]] == ["d.txt"]
    assert run("watch", "check", "--index", str(index)).stdout == ""  # nothing new: cron mails nothing
    assert run("watch", "remove", "1", "--index", str(index)).returncode == 0
    assert watchlist.watches() == []
    with pytest.raises(NotFound, match="No watch 7"):
        watchlist.remove(7)


def test_api_exports_and_keeps_watches(harbour_index, real_embedder):
    archive, index = harbour_index
    with serving(index, archive, real_embedder) as base:
        with urllib.request.urlopen(f"{base}/export?{query(q='harbour', format='jsonl', outlet='Courier')}") as got:
            lines = got.read().decode("utf-8").splitlines()
            assert got.headers["Content-Type"].startswith("application/x-ndjson")
        assert len(lines) == (HARBOUR_ARTICLES + 1) // 2
        assert call(f"{base}/export?{query(q='harbour', format='xml')}")[0] == 400
        status, added, _ = call(f"{base}/watches?{query(q='berth')}", method="POST")
        assert status == 201 and added["seen"] == HARBOUR_ARTICLES
        status, listed, _ = call(f"{base}/watches")
        assert status == 200 and listed["watches"][0]["query"] == "berth" and listed["watches"][0]["new"] == []
        assert call(f"{base}/watches/check?peek=true", method="POST")[0] == 200
        assert call(f"{base}/watches/{added['id']}", method="DELETE")[1] == {"removed": added["id"]}
        assert call(f"{base}/watches/{added['id']}", method="DELETE")[0] == 404


def test_a_list_of_names_gets_counts_best_hits_and_date_ranges(harbour_index, real_embedder, tmp_path):
    _, index = harbour_index
    searcher = Searcher.open(index, real_embedder)
    lines = read_lines("name,desk\nharbour,ports\nRain,weather\nZanzibar,none\nharbour,again\n", column="name")
    assert lines == ["harbour", "Rain", "Zanzibar"]  # a column's values, header and repeats dropped
    rows = {row["query"]: row for row in summarise(searcher, lines)}
    assert rows["harbour"]["matching_articles"] == HARBOUR_ARTICLES and rows["harbour"]["exact"] is True
    assert (rows["harbour"]["first_date"], rows["harbour"]["last_date"]) == ("2021-09-01", "2021-09-28")
    assert rows["Rain"]["matching_articles"] == 1 and rows["Rain"]["best_title"] == "Weather"
    assert rows["Zanzibar"]["matching_articles"] == 0 and rows["Zanzibar"]["error"] is None
    with pytest.raises(BadInput, match="The CSV has no column 'names'; its columns are: name, desk"):
        read_lines("name,desk\nx,y\n", column="names")
    listing = tmp_path / "names.txt"
    listing.write_text("harbour\n\nRain\n", encoding="utf-8")
    done = run("search", "--batch", str(listing), "--summary", "--mode", "keyword", "--index", str(index))
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert done.returncode == 0 and [r["query"] for r in table] == ["harbour", "Rain"]
    assert table[0]["matching_articles"] == str(HARBOUR_ARTICLES)


def test_api_adds_a_file_to_the_archive_and_indexes_it(tmp_path, real_embedder):
    archive, index = tmp_path / "archive", tmp_path / "index"
    write(archive / "a.txt", "Rain\n\nRain is expected over the hills tomorrow.\n")
    reindex(archive, index, embedder=real_embedder)

    def put(name: str, body: bytes, **params) -> tuple[int, dict]:
        request = urllib.request.Request(f"{base}/files/{urllib.parse.quote(name, safe='')}?{query(**params)}",
                                         data=body, method="PUT")
        try:
            with urllib.request.urlopen(request, timeout=60) as got:
                return got.status, json.loads(got.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    with serving(index, archive, real_embedder) as base:
        status, body = put("../../etc/ferry.txt", b"Ferry fares\n\nThe island ferry doubles its winter fares.\n",
                           outlet="Island News", date="2021-11-02")
        assert status == 201 and body["saved"] == ["ferry.txt"] and body["reindex"]["state"] == "running"
        assert (archive / "ferry.txt").is_file() and not (tmp_path / "etc").exists()
        deadline = time.monotonic() + 120
        while call(f"{base}/reindex")[1]["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        found = call(f"{base}/search?{query(q='island ferry winter fares', k=1)}")[1]["results"][0]["article"]
        assert (found["path"], found["outlet"], found["date"]) == ("ferry.txt", "Island News", "2021-11-02")
        status, body = put("ferry.txt", b"Another note under the same name.\n")
        assert status == 409 and "replace=true" in body["error"]
        assert put("tool.exe", b"MZ")[0] == 400
