"""Reading every supported file type into Article records, and reporting what cannot be read."""

from __future__ import annotations

import json
import os

from conftest import SEED_ARCHIVE, write

from archivist.ingest.articles import derive_title, scan_archive


def by_path(result):
    return {a.path: a for a in result.articles}


def test_seed_metadata_is_what_the_texts_establish():
    articles = by_path(scan_archive(SEED_ARCHIVE))
    assert len(articles) == 5
    first = articles["000_be5a0d2d8b79ea77.txt"]
    assert first.date == "2021-09-03"
    assert first.title.startswith("Anti-Taliban Forces: If We Lose in Afghanistan")
    assert "date 2021" not in first.title
    newsweek = articles["001_ecfc993b8a397a1a.txt"]
    assert newsweek.outlet == "Newsweek"
    assert newsweek.title == "Anti-Taliban Forces: U.S. 'Won't Have an Ally' in Afghanistan to Fight Terrorism if We Lose"
    assert newsweek.date is None
    assert articles["002_2fc6b309c5e81676.txt"].author == "Heather Hunter"
    no_headline = articles["004_c670ed44df024703.txt"]
    assert no_headline.title.startswith("One of Afghanistan’s most well-known resistance groups")
    assert no_headline.body_start == 0
    assert all(a.outlet is None for p, a in articles.items() if not p.startswith("001"))


def test_text_headline_and_date_prefix(tmp_path):
    write(tmp_path / "a.txt", "date 2020-01-31 Big News Today\n\nThe body says things. More body.\n")
    write(tmp_path / "b.txt", "This is a long first line that is really a paragraph of text, with a full stop "
                              "and many words in it so that it cannot be a headline at all.\nSecond line.\n")
    articles = by_path(scan_archive(tmp_path))
    assert articles["a.txt"].title == "Big News Today"
    assert articles["a.txt"].date == "2020-01-31"
    assert articles["a.txt"].text[articles["a.txt"].body_start:].startswith("\nThe body")
    assert articles["b.txt"].title.startswith("This is a long first line")
    assert articles["b.txt"].body_start == 0


def test_an_iso_date_opening_the_headline_line_dates_the_article(tmp_path):
    write(tmp_path / "cocoa.txt", "2021-09-10 Cocoa prices climb in Brazil\n\nCocoa rose on Friday.\n")
    write(tmp_path / "colon.txt", "2021-09-11: Rains return\n\nIt rained.\n")
    write(tmp_path / "only-date.txt", "2021-09-12\n\nA body with no headline of its own.\n")
    articles = by_path(scan_archive(tmp_path))
    assert (articles["cocoa.txt"].date, articles["cocoa.txt"].title) == ("2021-09-10", "Cocoa prices climb in Brazil")
    assert (articles["colon.txt"].date, articles["colon.txt"].title) == ("2021-09-11", "Rains return")
    assert articles["only-date.txt"].date == "2021-09-12"
    assert articles["only-date.txt"].title.startswith("A body with no headline")


def test_a_wire_dateline_sets_place_and_date_and_its_year_comes_from_the_path(tmp_path):
    write(tmp_path / "wire" / "1987" / "cocoa.txt", "COCOA REVIEW\n\nSAO PAULO, Sept 10 - Cocoa prices rose.\n")
    write(tmp_path / "undated.txt", "COCOA REVIEW\n\nSAO PAULO, Sept 10 - Cocoa prices rose again.\n")
    write(tmp_path / "kabul.txt", "Taliban talks\n\nKABUL (Reuters) - The Taliban said on Monday.\n")
    write(tmp_path / "full.txt", "NEW YORK, March 3, 1987 (Reuters) - Stocks fell.\n")
    write(tmp_path / "headline-wins.txt", "2021-09-01 Talks\n\nKABUL, Sept 10 (Reuters) - Talks began.\n")
    write(tmp_path / "not-a-dateline.txt", "NATO meets\n\nNATO said on Monday - without a day - that it met.\n")
    articles = by_path(scan_archive(tmp_path))
    wire = articles["wire/1987/cocoa.txt"]
    assert (wire.place, wire.date) == ("Sao Paulo", "1987-09-10")
    assert (articles["undated.txt"].place, articles["undated.txt"].date) == ("Sao Paulo", None)  # no year known
    assert (articles["kabul.txt"].place, articles["kabul.txt"].date) == ("Kabul", None)
    assert (articles["full.txt"].place, articles["full.txt"].date) == ("New York", "1987-03-03")
    assert (articles["headline-wins.txt"].place, articles["headline-wins.txt"].date) == ("Kabul", "2021-09-01")
    assert articles["not-a-dateline.txt"].place is None


def test_metadata_csv_and_records_can_state_the_place(tmp_path):
    write(tmp_path / "a.txt", "KABUL (Reuters) - Something happened there.\n")
    write(tmp_path / "metadata.csv", "path,place\na.txt,Panjshir\n")
    write(tmp_path / "wire.jsonl", json.dumps({"id": 1, "title": "BAHIA COCOA REVIEW", "body": "Showers continued.",
                                               "dateline": "SALVADOR, Feb 26 -", "date": "1987-02-26"}) + "\n")
    articles = by_path(scan_archive(tmp_path))
    assert articles["a.txt"].place == "Panjshir"
    assert (articles["wire.jsonl#1"].place, articles["wire.jsonl#1"].date) == ("Salvador", "1987-02-26")


def test_markdown_front_matter_and_heading(tmp_path):
    write(tmp_path / "fm.md", "---\ntitle: From Front Matter\noutlet: The Daily\ndate: 3 March 2019\n"
                              "url: https://example.org/x\nauthor: A. Writer\n---\nBody text here.\n")
    write(tmp_path / "h.md", "# Heading Title\n\nBody of the heading article.\n")
    articles = by_path(scan_archive(tmp_path))
    fm = articles["fm.md"]
    assert (fm.title, fm.outlet, fm.date, fm.url, fm.author) == (
        "From Front Matter", "The Daily", "2019-03-03", "https://example.org/x", "A. Writer")
    assert fm.text.startswith("Body text here.")
    assert articles["h.md"].title == "Heading Title"


def test_html_main_text_and_metadata(tmp_path):
    html = """<html><head><title>Ignored | Site</title>
    <meta property="og:title" content="Valley Holds Out">
    <meta property="og:site_name" content="Example Times">
    <meta name="author" content="Jane Roe">
    <meta property="article:published_time" content="2021-09-02T10:00:00Z">
    <link rel="canonical" href="https://example.com/valley"></head>
    <body><nav>Home | World | Sport</nav><article><h1>Valley Holds Out</h1>
    <p>The resistance in the valley said on Thursday that it would keep fighting despite the siege.</p>
    <p>Supplies are running low, according to residents who spoke by satellite phone to reporters.</p>
    <p>Fighters have dug in along the mountain passes leading to the valley floor, commanders said.</p>
    </article><footer>Copyright 2021</footer><script>var x = 1;</script></body></html>"""
    write(tmp_path / "page.html", html)
    result = scan_archive(tmp_path)
    assert not result.skipped
    article = result.articles[0]
    assert article.title == "Valley Holds Out"
    assert article.outlet == "Example Times"
    assert article.date == "2021-09-02"
    assert article.url == "https://example.com/valley"
    assert article.author == "Jane Roe"
    assert "keep fighting despite the siege" in article.text
    assert "var x" not in article.text and "Home | World" not in article.text


def test_json_lines_keep_good_lines_and_report_bad_ones(tmp_path):
    lines = [json.dumps({"id": "r1", "title": "One", "body": "First text.", "source": "Wire", "date": "1987-02-26"}),
             "{not json",
             json.dumps({"id": "r2", "title": "No text here"}),
             json.dumps({"id": "r3", "content": "Third text.", "publication": "Paper"})]
    write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")
    result = scan_archive(tmp_path)
    articles = by_path(result)
    assert set(articles) == {"feed.jsonl#r1", "feed.jsonl#r3"}
    assert articles["feed.jsonl#r1"].outlet == "Wire"
    assert articles["feed.jsonl#r1"].date == "1987-02-26"
    assert articles["feed.jsonl#r3"].outlet == "Paper"
    assert articles["feed.jsonl#r3"].title == "Third text"
    reasons = {s.path: s.reason for s in result.skipped}
    assert "line 2" in reasons["feed.jsonl:2"] and "not valid JSON" in reasons["feed.jsonl:2"]
    assert "no text" in reasons["feed.jsonl:3"]


def test_json_object_and_list(tmp_path):
    write(tmp_path / "one.json", json.dumps({"title": "Single", "text": "Only one."}))
    write(tmp_path / "many.json", json.dumps([{"id": 7, "title": "A", "text": "a text"},
                                              {"id": 8, "title": "B", "text": "b text"}]))
    assert set(by_path(scan_archive(tmp_path))) == {"one.json#1", "many.json#7", "many.json#8"}


def test_metadata_csv_fills_and_overrides(tmp_path):
    write(tmp_path / "a.txt", "Original Title\n\nBody.\n")
    write(tmp_path / "metadata.csv", "path,title,outlet,date,url,author\n"
                                     "a.txt,Better Title,Gazette,\"Sept. 5, 2021\",,\n")
    article = scan_archive(tmp_path).articles[0]
    assert (article.title, article.outlet, article.date) == ("Better Title", "Gazette", "2021-09-05")


def test_encodings_are_detected(tmp_path):
    text = "Café Überraschung\n\nLes élèves ont déjà rencontré le ministre à Genève, où il a parlé longuement.\n"
    write(tmp_path / "latin1.txt", text.encode("latin-1"))
    write(tmp_path / "utf16.txt", text.encode("utf-16"))
    write(tmp_path / "cp1252.txt", "Quote “smart” – dash\n\nBody with “quotes” and café.\n".encode("cp1252"))
    articles = by_path(scan_archive(tmp_path))
    assert articles["latin1.txt"].title == "Café Überraschung"
    assert "élèves" in articles["latin1.txt"].text
    assert articles["utf16.txt"].title == "Café Überraschung"
    assert "“smart”" in articles["cp1252.txt"].title


def test_bad_files_are_skipped_with_reasons_and_never_stop_the_rest(tmp_path):
    write(tmp_path / "good.txt", "Good Headline\n\nGood body.\n")
    write(tmp_path / "empty.txt", "")
    write(tmp_path / "binary.txt", bytes(range(256)) * 4)
    write(tmp_path / "photo.png", b"\x89PNG\r\n\x1a\n....")
    write(tmp_path / "broken.json", "{oops")
    outside = write(tmp_path.parent / f"{tmp_path.name}-outside.txt", "Outside\n\nSecret.\n")
    os.symlink(outside, tmp_path / "link.txt")
    result = scan_archive(tmp_path)
    assert [a.path for a in result.articles] == ["good.txt"]
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert "binary" in reasons["binary.txt"]
    assert "unsupported file type .png" in reasons["photo.png"]
    assert "not valid JSON" in reasons["broken.json"]
    assert "outside the archive" in reasons["link.txt"]


def test_derived_title_is_short_and_cut_at_a_word():
    title = derive_title("Word " * 60 + ". Next sentence.")
    assert len(title) <= 112 and title.endswith("…") and "Wor …" not in title


def test_a_one_line_text_file_is_an_article_whose_line_is_title_and_text(tmp_path):
    write(tmp_path / "tip.txt", "Mayor Smith resigned on Tuesday, two aides say\n")
    (article,) = scan_archive(tmp_path).articles
    assert article.title == "Mayor Smith resigned on Tuesday, two aides say"
    assert article.body_start == 0 and article.text.strip() == article.title
