"""Feeds (RSS and Atom files, one article per item) and web archives (WARC, one article per page).

A saved feed is a newsroom's record of what an outlet published: each item's title, link,
date, author, and its full content when the feed carries it (`content:encoded`, Atom
`content`), else its summary; the feed's own title is the outlet. A web archive (`.warc`,
`.warc.gz`; `.arc` too, which warcio reads the same way) holds crawled pages: every HTML
response becomes an article with its target URL and crawl date, read like any saved page, and
a URL captured more than once is one article, its latest capture, saying how many there were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from archivist.ingest.textdecode import decode_bytes
from archivist.records import Article, Skipped

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def read_feed(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    import feedparser

    from archivist.ingest.articles import UnreadableArticle, finish_article, html_article

    parsed = feedparser.parse(path.read_bytes())
    if not parsed.entries:
        problem = f" ({parsed.bozo_exception})" if parsed.get("bozo") and parsed.get("bozo_exception") else ""
        raise UnreadableArticle(f"no items in the feed{problem}; an RSS or Atom file was expected")
    outlet = " ".join(str(parsed.feed.get("title") or "").split()) or None
    for number, entry in enumerate(parsed.entries, start=1):
        where = f"{rel}#{entry.get('id') or entry.get('link') or number}"
        meta = {"title": entry.get("title"), "url": entry.get("link"), "author": entry.get("author"),
                "outlet": outlet, "date": _struct_date(entry.get("published_parsed") or entry.get("updated_parsed"))}
        contents = entry.get("content") or []
        body = contents[0].get("value", "") if contents else entry.get("summary", "")
        kind = "full content" if contents else "summary"
        try:
            if "<" in body and ">" in body:
                yield html_article(where, f"<html><body><article>{body}</article></body></html>", meta,
                                   extraction=f"feed item, {kind}")
            elif body.strip():
                yield finish_article(where, body.strip(), meta, extraction=f"feed item, {kind}")
            else:
                skipped.append(Skipped(where, "feed item has no text (no content or summary)"))
        except UnreadableArticle as error:
            skipped.append(Skipped(where, str(error)))


def read_warc(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    from archivist.ingest.articles import UnreadableArticle, html_article, with_changes

    latest: dict[str, tuple[str, bytes, int]] = {}  # url -> (crawl date, html, capture count)
    try:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, arc2warc=True):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                content_type = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
                status = record.http_headers.get_statuscode() or ""
                if content_type not in _HTML_TYPES or not status.startswith("2"):
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                when = record.rec_headers.get_header("WARC-Date") or ""
                body = record.content_stream().read()
                seen = latest.get(url)
                count = (seen[2] if seen else 0) + 1
                if seen is None or when >= seen[0]:
                    latest[url] = (when, body, count)
                else:
                    latest[url] = (seen[0], seen[1], count)
    except ArchiveLoadFailed as error:
        raise UnreadableArticle(f"not a readable web archive ({error})") from None
    if not latest:
        raise UnreadableArticle("no HTML pages in the web archive (only other records or media)")
    for url, (when, body, count) in latest.items():
        where = f"{rel}#{url}"
        note = f"web archive capture of {when[:10] or 'an unknown date'}" + (
            f" (the latest of {count} captures of this URL)" if count > 1 else "")
        try:
            article = html_article(where, decode_bytes(body), {"url": url}, extraction=note)
        except UnreadableArticle as error:
            skipped.append(Skipped(where, str(error)))
            continue
        yield article if article.date else with_changes(article, date=when[:10] or None)


def _struct_date(value) -> str | None:
    if not value:
        return None
    try:
        return dt.date(value.tm_year, value.tm_mon, value.tm_mday).isoformat()
    except (ValueError, AttributeError):
        return None
