"""Feeds (RSS, Atom) and web archives (WARC): one article per item or page, with link, date and
author, and duplicate captures of a URL read once (issue 16)."""

from __future__ import annotations

import io

from conftest import DATA, write

from archivist.build.indexer import reindex
from archivist.ingest.articles import scan_archive
from archivist.query.search import Searcher

RSS = """<?xml version="1.0"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Harbour Herald</title><link>https://herald.example/</link>
<item><title>Crane collapses at the quay</title><link>https://herald.example/crane</link>
<pubDate>Wed, 08 Sep 2021 09:30:00 GMT</pubDate><author>desk@herald.example (Pat Writer)</author>
<description>Short summary only.</description>
<content:encoded><![CDATA[<p>A crane toppled onto the quay on Wednesday morning, crushing two parked vans.</p>
<p>No one was hurt, the harbour master said.</p>]]></content:encoded></item>
<item><title>Fish market moves</title><link>https://herald.example/fish</link>
<pubDate>Thu, 09 Sep 2021 07:00:00 GMT</pubDate>
<description>The fish market moves to the old tram depot next spring.</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Valley Wire</title><id>urn:valley</id>
<updated>2021-09-10T12:00:00Z</updated>
<entry><title>Bridge toll scrapped</title><id>urn:valley:1</id>
<link href="https://valley.example/toll"/><updated>2021-09-10T12:00:00Z</updated>
<author><name>Lee Correspondent</name></author>
<content type="html">&lt;p&gt;The county scrapped the bridge toll after a petition gathered nine thousand names.&lt;/p&gt;</content>
</entry></feed>"""


def page(text: str) -> bytes:
    return (f"<html><head><title>Mill news</title></head><body><article><h1>Mill news</h1><p>{text}</p>"
            "<p>The council will vote on the grant next week, officials added.</p></article></body></html>").encode()


def warc_gz(captures: list[tuple[str, str, bytes]]) -> bytes:
    """A gzipped WARC of HTML responses (url, WARC-Date, body), written with warcio."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for url, when, body in captures:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers,
                                           warc_headers_dict={"WARC-Date": when})
        writer.write_record(record)
    return out.getvalue()


def test_feed_items_and_web_archive_pages_are_articles_with_their_metadata(tmp_path):
    archive = tmp_path / "archive"
    write(archive / "herald.rss", RSS)
    write(archive / "valley.atom", ATOM)
    write(archive / "crawl.warc.gz", warc_gz([
        ("https://mill.example/news", "2021-09-01T10:00:00Z", page("The mill stayed shut after the flood.")),
        ("https://mill.example/news", "2021-09-05T10:00:00Z", page("The mill reopened after the flood.")),
        ("https://mill.example/jobs", "2021-09-05T11:00:00Z", page("Two hundred jobs return to the mill."))]))
    write(archive / "notes.txt.gz", b"not a web archive at all")
    result = scan_archive(archive)
    articles = {a.path: a for a in result.articles}
    crane = articles["herald.rss#https://herald.example/crane"]
    assert (crane.title, crane.outlet, crane.date, crane.url) == (
        "Crane collapses at the quay", "Harbour Herald", "2021-09-08", "https://herald.example/crane")
    assert "crushing two parked vans" in crane.text and "Short summary" not in crane.text  # full content wins
    assert "tram depot" in articles["herald.rss#https://herald.example/fish"].text
    toll = articles["valley.atom#urn:valley:1"]
    assert (toll.author, toll.date, toll.outlet) == ("Lee Correspondent", "2021-09-10", "Valley Wire")
    news = articles["crawl.warc.gz#https://mill.example/news"]
    assert "reopened" in news.text and "stayed shut" not in news.text  # the latest capture
    assert news.url == "https://mill.example/news" and "latest of 2 captures" in news.extraction
    assert news.date == "2021-09-05"
    assert "crawl.warc.gz#https://mill.example/jobs" in articles
    assert [s.path for s in result.skipped] == ["notes.txt.gz"]
    assert "unsupported file type .gz" in result.skipped[0].reason


def test_a_feed_item_and_an_archived_page_are_found_by_their_sentence(tmp_path, real_embedder):
    archive = tmp_path / "archive"
    write(archive / "valley.atom", ATOM)
    write(archive / "crawl.warc.gz", warc_gz([
        ("https://mill.example/jobs", "2021-09-05T11:00:00Z", page("Two hundred jobs return to the mill."))]))
    write(archive / "mill.html", (DATA / "old_table_layout.html").read_text())
    reindex(archive, tmp_path / "index", embedder=real_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=real_embedder)
    assert searcher.search("petition to scrap the bridge toll", k=1).hits[0].article.path == "valley.atom#urn:valley:1"
    assert searcher.search("jobs return to the mill", k=1).hits[0].article.path == \
        "crawl.warc.gz#https://mill.example/jobs"


def arc_file(captures: list[tuple[str, str, bytes]]) -> bytes:
    """An ARC (version 1) file, the Internet Archive's format before WARC: a file header record,
    then per capture one line `URL IP DATE MIME LENGTH` and the HTTP response of that length."""
    header_body = b"1 0 Archivist test\nURL IP-address Archive-date Content-type Archive-length\n"
    out = [b"filedesc://test.arc 0.0.0.0 20210906000000 text/plain %d\n" % len(header_body) + header_body + b"\n"]
    for url, when, body in captures:
        response = (b"HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n"
                    % len(body)) + body
        out.append(f"{url} 192.0.2.1 {when} text/html {len(response)}\n".encode() + response + b"\n")
    return b"".join(out)


def test_an_arc_web_archive_is_read_like_a_warc(tmp_path):
    page = (b"<html><head><title>Mill reopens</title></head><body><article><h1>Mill reopens</h1><p>"
            + b"The old paper mill by the river reopened on Monday with two hundred jobs, the owners said. " * 3
            + b"</p></article></body></html>")
    write(tmp_path / "archive" / "crawl.arc", arc_file([("https://mill.example/news", "20210906101500", page)]))
    result = scan_archive(tmp_path / "archive")
    assert not result.skipped, result.skipped
    [article] = result.articles
    assert article.url == "https://mill.example/news" and article.date == "2021-09-06"
    assert "two hundred jobs" in article.text
