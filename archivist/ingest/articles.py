"""Read the archive folder into `Article` records: one reader per file type, plus a metadata sidecar.

A file that cannot be read is reported as `Skipped` with its reason and never stops the rest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from archivist.ingest.datelines import read_dateline
from archivist.ingest.language import normalise_language
from archivist.ingest.dates import normalise_date
from archivist.errors import first_line
from archivist.records import Article, Skipped
from archivist.ingest.textdecode import UndecodableText, decode_bytes

METADATA_FILE = "metadata.csv"
METADATA_FIELDS = ("title", "outlet", "date", "url", "author", "place", "language")
# A single article file larger than this is refused: it is not an article, and would stall a reindex.
MAX_ARTICLE_BYTES = 20 * 1024 * 1024
# Scanned PDFs are images: a 40-page scan is easily 50 MB.
MAX_PDF_BYTES = 300 * 1024 * 1024
# Collections of records (JSON Lines / JSON) may be bigger: Reuters-21578 is 26 MB in one file.
MAX_COLLECTION_BYTES = 512 * 1024 * 1024
TITLE_MAX_CHARS = 110

# "date 2021-09-03 Headline" or "2021-09-03 Headline" (also "2021-09-03: Headline").
_DATE_PREFIX = re.compile(r"^\s*(?:date\s+)?(\d{4}-\d{2}-\d{2})(?![\w-])\s*[:|-]?\s*", re.IGNORECASE)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


class UnreadableArticle(ValueError):
    """Raised by a reader with a one-line reason; the scanner turns it into a `Skipped` entry."""


@dataclass
class ScanResult:
    articles: list[Article]
    skipped: list[Skipped]


def scan_archive(archive: Path) -> ScanResult:
    """Read every supported file under `archive` (a folder, or one file), applying `metadata.csv`."""
    if not archive.exists():
        from archivist.errors import BadInput

        raise BadInput(f"The archive folder {archive} does not exist; create it or pass --archive DIR.")
    articles: list[Article] = []
    skipped: list[Skipped] = []
    single_file = archive.is_file()
    root = archive.parent if single_file else archive
    overrides, problem = ({}, None) if single_file else _read_metadata_csv(archive)
    if problem:
        skipped.append(problem)
    seen_ids: dict[str, str] = {}
    for path in [archive] if single_file else _walk(archive, skipped):
        rel = path.relative_to(root).as_posix()
        reader = READERS.get(file_type(path))
        if reader is None:
            skipped.append(Skipped(rel, f"unsupported file type {file_type(path) or '(none)'}; "
                                        f"supported: {', '.join(sorted(READERS))}"))
            continue
        try:
            for article in reader(path, rel, skipped):
                article = _apply_overrides(article, overrides.get(rel))
                if article.id in seen_ids:
                    skipped.append(Skipped(article.path, f"duplicate article id, already read from "
                                                         f"{seen_ids[article.id]}"))
                    continue
                seen_ids[article.id] = article.path
                articles.append(article)
        except UnreadableArticle as error:
            skipped.append(Skipped(rel, str(error)))
        except OSError as error:
            skipped.append(Skipped(rel, f"cannot be read: {error.strerror or error}"))
        except Exception as error:  # a parser library failing on odd input must not stop the rest
            skipped.append(Skipped(rel, f"could not be parsed ({type(error).__name__}: "
                                        f"{first_line(error, 200)})"))
    return ScanResult(articles, skipped)


def file_type(path: Path) -> str:
    """The suffix that picks a reader: ".pdf", or both of ".warc.gz"."""
    suffixes = "".join(path.suffixes[-2:]).lower()
    return suffixes if suffixes in READERS else path.suffix.lower()


def _walk(archive: Path, skipped: list[Skipped]) -> Iterator[Path]:
    """Files under the archive in a stable order; links never lead out of it, hidden files ignored."""
    root = archive.resolve()
    for folder, dirs, files in os.walk(archive, followlinks=False):
        linked = [d for d in dirs if (Path(folder) / d).is_symlink()]
        for name in sorted(linked):
            skipped.append(Skipped((Path(folder) / name).relative_to(archive).as_posix(),
                                   "symbolic link to a folder; not followed (copy the folder in instead)"))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
        for name in sorted(files):
            if name.startswith(".") or (Path(folder) == archive and name == METADATA_FILE):
                continue
            path = Path(folder) / name
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    skipped.append(Skipped(path.relative_to(archive).as_posix(), "broken or looping symbolic link"))
                    continue
                if not target.is_relative_to(root):
                    skipped.append(Skipped(path.relative_to(archive).as_posix(),
                                           "symbolic link points outside the archive; not followed"))
                    continue
            if not path.is_file():
                # A FIFO or device would block or never end when read.
                skipped.append(Skipped(path.relative_to(archive).as_posix(), "not a regular file"))
                continue
            yield path


# ---------------------------------------------------------------- file readers

def read_text_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """Plain text: the first non-empty line is the headline when it looks like one."""
    text = _read_text(path, MAX_ARTICLE_BYTES)
    yield _article_from_plain_text(rel, text, meta={})


def read_markdown_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """Markdown: YAML front matter for metadata, else the first heading as the title."""
    raw = _read_text(path, MAX_ARTICLE_BYTES)
    meta: dict = {}
    text = raw
    match = _FRONT_MATTER.match(raw)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as error:
            raise UnreadableArticle(f"front matter is not valid YAML ({first_line(error)})") from None
        if isinstance(loaded, dict):
            meta = loaded
        text = raw[match.end():]
    title = _clean(meta.get("title"))
    body_start = 0
    if not title:
        first, line_end = _first_line_span(text)
        heading = _MD_HEADING.match(first or "")
        if heading:
            title, body_start = heading.group(1).strip(), line_end
    yield _finish(rel, text, title=title, meta=meta, body_start=body_start)


def read_html_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """HTML: main text and metadata via trafilatura (boilerplate removal made for news pages),
    with its fallbacks for pages it first finds empty (ingest/html_text.py)."""
    yield html_article(rel, _read_text(path, MAX_ARTICLE_BYTES))


def html_article(rel: str, html: str, meta: dict | None = None, extraction: str | None = None) -> Article:
    """An article from an HTML document; `meta` (an e-mail's, a capture's) wins over the page's own."""
    from archivist.ingest.html_text import extract_html

    found = extract_html(html)
    if found is None:
        raise UnreadableArticle("no article text found in the HTML (only scripts, menus or boilerplate), "
                                "also with trafilatura's recall and baseline settings")
    merged = {**found.meta, **{k: v for k, v in (meta or {}).items() if v}}
    how = "; ".join(x for x in (extraction, found.how) if x) or None
    return finish_article(rel, found.text, merged, extraction=how)


def read_jsonl_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """JSON Lines: one article per line; a bad line is reported with its number, the rest kept."""
    text = _read_text(path, MAX_COLLECTION_BYTES)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            skipped.append(Skipped(f"{rel}:{number}", f"line {number} is not valid JSON ({error.msg})"))
            continue
        yield from _record_or_report(record, rel, f"line {number}", number, skipped)


def read_json_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """JSON: one article object, or a list of them."""
    text = _read_text(path, MAX_COLLECTION_BYTES)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableArticle(f"not valid JSON ({error.msg} at line {error.lineno})") from None
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, start=1):
        yield from _record_or_report(record, rel, f"record {number}", number, skipped)


def read_pdf_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """PDF (ingest/pdf.py): the title from the document's metadata, else its first line as for
    plain text; a scan read in part is reported beside the article, one with no text at all
    is skipped with the reason."""
    from archivist.ingest.pdf import pdf_problem, read_pdf, report_partial

    _check_size(path)
    read, meta, pages = read_pdf(path)
    text = read.text
    if not text.strip():
        raise UnreadableArticle(pdf_problem(read) or "the PDF has no text on any page")
    report_partial(rel, read, skipped)
    title = _clean(meta.get("title"))
    article = (_finish(rel, text, title=title, meta=meta, body_start=0) if title
               else _article_from_plain_text(rel, text, meta))
    yield with_changes(article, pages=tuple(read.page_starts), extraction=read.extraction(pages))


def read_email_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """E-mail (.eml; ingest/mail.py): the message, then each readable attachment."""
    from archivist.ingest.mail import read_eml

    _check_size(path)
    yield from read_eml(path, rel, skipped, READERS)


def read_mbox_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """A mailbox (.mbox): one article per message (and per readable attachment)."""
    from archivist.ingest.mail import read_mbox

    _check_size(path)
    yield from read_mbox(path, rel, skipped, READERS)


# File types that hold many articles (or, for PDF, page images) and so may be larger than one article.
_LARGE_LIMITS = {".pdf": MAX_PDF_BYTES, **dict.fromkeys(
    (".jsonl", ".json", ".eml", ".mbox", ".rss", ".atom", ".xml", ".warc", ".warc.gz", ".arc", ".arc.gz"),
    MAX_COLLECTION_BYTES)}


def size_limit(kind: str) -> int:
    """The largest file of type `kind` (a `file_type`) that is read, in bytes."""
    return _LARGE_LIMITS.get(kind, MAX_ARTICLE_BYTES)


def _check_size(path: Path) -> None:
    limit = size_limit(file_type(path))
    if path.stat().st_size > limit:
        raise UnreadableArticle(f"file is over {limit // (1024 * 1024)} MB; split it into parts")


def read_feed_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """RSS or Atom (ingest/feeds.py): one article per item."""
    from archivist.ingest.feeds import read_feed

    _check_size(path)
    yield from read_feed(path, rel, skipped)


def read_warc_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """A web archive (ingest/feeds.py): one article per captured HTML page, its latest capture."""
    from archivist.ingest.feeds import read_warc

    _check_size(path)
    yield from read_warc(path, rel, skipped)


def read_docx_file(path: Path, rel: str, skipped: list[Skipped]) -> Iterator[Article]:
    """Word (.docx, ingest/office.py): the Title property, else the first heading, is the headline."""
    from archivist.ingest.office import read_docx

    _check_size(path)
    text, meta = read_docx(path)
    if not text.strip():
        raise UnreadableArticle("the Word document has no text")
    title = _clean(meta.get("title")) or _clean(meta.get("heading"))
    first = text.split("\n\n", 1)[0]
    body_start = len(first) if title == first and text[len(first):].strip() else 0
    yield _finish(rel, text, title=title, meta=meta, body_start=body_start)


READERS = {
    ".pdf": read_pdf_file,
    ".docx": read_docx_file,
    ".eml": read_email_file,
    ".mbox": read_mbox_file,
    ".rss": read_feed_file,
    ".atom": read_feed_file,
    ".xml": read_feed_file,
    ".warc": read_warc_file,
    ".arc": read_warc_file,
    ".warc.gz": read_warc_file,
    ".arc.gz": read_warc_file,
    ".txt": read_text_file,
    ".text": read_text_file,
    ".md": read_markdown_file,
    ".markdown": read_markdown_file,
    ".html": read_html_file,
    ".htm": read_html_file,
    ".jsonl": read_jsonl_file,
    ".json": read_json_file,
}

_TEXT_KEYS = ("text", "body", "content")
_OUTLET_KEYS = ("outlet", "source", "publication")


def _record_or_report(record: object, rel: str, where: str, number: int,
                      skipped: list[Skipped]) -> Iterator[Article]:
    """Turn one JSON record into an Article, or report why not; a bad record never ends the file."""
    try:
        yield from _record(_scrub(record), rel, where, number, skipped)
    except UnreadableArticle as error:
        skipped.append(Skipped(f"{rel}:{number}", f"{where}: {error}"))
    except Exception as error:  # odd values in one record must not drop the records after it
        skipped.append(Skipped(f"{rel}:{number}", f"{where} could not be read ({type(error).__name__}: "
                                                  f"{first_line(error, 200)})"))


def _scrub(value: object) -> object:
    """JSON escapes can produce lone surrogates ("\\ud800"), which no UTF-8 writer accepts."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _record(record: object, rel: str, where: str, number: int, skipped: list[Skipped]) -> Iterator[Article]:
    if not isinstance(record, dict):
        skipped.append(Skipped(f"{rel}:{number}", f"{where} is not a JSON object"))
        return
    text = next((record[k] for k in _TEXT_KEYS if isinstance(record.get(k), str) and record[k].strip()), None)
    if text is None:
        skipped.append(Skipped(f"{rel}:{number}", f"{where} has no text (expected a 'text', 'body' or 'content' field)"))
        return
    record_id = _clean(record.get("id") if record.get("id") is not None else record.get("_id"))
    outlet = next((record[k] for k in _OUTLET_KEYS if isinstance(record.get(k), str) and record[k].strip()), None)
    meta = {"title": record.get("title"), "outlet": outlet, "date": record.get("date"),
            "url": record.get("url"), "author": record.get("author"), "place": record.get("place")}
    if not meta["place"] and isinstance(record.get("dateline"), str):  # as Reuters-21578 records carry it
        dateline = read_dateline(record["dateline"], rel)
        meta["place"] = dateline.place if dateline else None
    path = f"{rel}#{record_id}" if record_id else f"{rel}#{number}"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    yield _finish(path, text, title=_clean(meta["title"]), meta=meta, body_start=0)


# ---------------------------------------------------------------- shared helpers

def _read_text(path: Path, limit: int) -> str:
    size = path.stat().st_size
    if size == 0:
        raise UnreadableArticle("empty file")
    if size > limit:
        raise UnreadableArticle(f"file is {size / 1e6:.0f} MB, over the {limit / 1e6:.0f} MB limit for this type")
    data = path.read_bytes()
    try:
        text = decode_bytes(data)
    except UndecodableText as error:
        raise UnreadableArticle(str(error)) from None
    if not text.strip():
        raise UnreadableArticle("file has no text (only whitespace)")
    return text


def _article_from_plain_text(rel: str, text: str, meta: dict) -> Article:
    """Find the headline line (and a date `YYYY-MM-DD` opening it) in plain text, and a wire
    dateline opening the body ("KABUL (Reuters) - ...") for the place and, failing a date on the
    headline line, the date (see datelines.py for the year)."""
    first, line_end = _first_line_span(text)
    title, date, body_start = None, None, 0
    if first is not None:
        candidate = first.strip()
        prefix = _DATE_PREFIX.match(candidate)
        if prefix:
            date = prefix.group(1)
            candidate = candidate[prefix.end():].strip()
        next_is_blank = text[line_end:].startswith("\n") or not text[line_end:].strip()
        if _looks_like_headline(candidate, next_is_blank) or prefix:
            title, body_start = candidate or None, line_end
        if not text[body_start:].strip():  # a one-line file: its line is both headline and text
            body_start = 0
    dateline = read_dateline(text[body_start:].lstrip(), rel)
    meta = dict(meta)
    meta.setdefault("date", date or (dateline.date if dateline else None))
    meta.setdefault("place", dateline.place if dateline else None)
    return _finish(rel, text, title=title, meta=meta, body_start=body_start)


def _looks_like_headline(line: str, next_is_blank: bool) -> bool:
    """Short, and either unpunctuated like a headline or set apart by a blank line."""
    words = line.split()
    if not words or len(words) > 30:
        return False
    return next_is_blank or not line.rstrip().endswith((".", ":", ";", ","))


def _first_line_span(text: str) -> tuple[str | None, int]:
    """The first non-empty line and the offset just past its newline."""
    offset = 0
    for line in text.split("\n"):
        end = offset + len(line) + 1
        if line.strip():
            return line, min(end, len(text))
        offset = end
    return None, 0


def _finish(path: str, text: str, title: str | None, meta: dict, body_start: int) -> Article:
    """Normalise metadata, derive a title when there is none, and hash the content."""
    if not text[body_start:].strip():
        raise UnreadableArticle("article has a headline but no text")
    title = title or derive_title(text[body_start:])
    return _with_hash(Article(
        id=_article_id(path), path=path, title=title,
        outlet=_clean(meta.get("outlet")), date=normalise_date(meta.get("date")),
        url=_clean(meta.get("url")), author=_clean(meta.get("author")),
        text=text, sha256="", body_start=body_start, place=_clean(meta.get("place")),
        # as a record or front matter states it; else the indexer detects it for what it writes
        # (build/changes.with_language), and metadata.csv corrects either
        language=normalise_language(_clean(meta.get("language"))),
    ))


def derive_title(body: str) -> str:
    """A sensible title for an article with no headline: its first sentence, shortened at a word."""
    first = " ".join(body.split())
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    if len(sentence) <= TITLE_MAX_CHARS:
        return sentence.rstrip(".")
    cut = sentence[:TITLE_MAX_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


def _article_id(path: str) -> str:
    """Stable id from the archive-relative path (and record id), so a changed file keeps its id."""
    return hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]


def _with_hash(article: Article) -> Article:
    digest = hashlib.sha256()
    for part in (article.text, article.title, article.outlet, article.date, article.url, article.author,
                 str(article.body_start), article.place, article.extraction, str(article.quote_start),
                 article.language):
        digest.update((part or "").encode("utf-8") + b"\x1f")
    return replace(article, sha256=digest.hexdigest())


def finish_article(rel: str, text: str, meta: dict, **extra: object) -> Article:
    """An article of `text` with `meta` (title, author, date, ...) and extra fields, hashed."""
    return with_changes(_finish(rel, text, title=_clean(meta.get("title")), meta=meta, body_start=0), **extra)


def with_changes(article: Article, **changes: object) -> Article:
    """`article` with fields changed and its content hash recomputed."""
    return _with_hash(replace(article, **changes))


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


# ---------------------------------------------------------------- metadata sidecar

def _read_metadata_csv(archive: Path) -> tuple[dict[str, dict], Skipped | None]:
    """`metadata.csv` (path plus any of METADATA_FIELDS): fills or overrides metadata per file."""
    path = archive / METADATA_FILE
    if not path.is_file():
        return {}, None
    try:
        text = decode_bytes(path.read_bytes())
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "path" not in reader.fieldnames:
            return {}, Skipped(METADATA_FILE, "has no 'path' column; expected path,title,outlet,date,url,author")
        rows = {}
        for row in reader:
            key = (row.get("path") or "").strip()
            if key:
                rows[key] = {f: row[f].strip() for f in METADATA_FIELDS if (row.get(f) or "").strip()}
        return rows, None
    except (OSError, UndecodableText, csv.Error) as error:
        return {}, Skipped(METADATA_FILE, f"cannot be read ({error}); metadata overrides ignored")


def _apply_overrides(article: Article, override: dict | None) -> Article:
    if not override:
        return article
    changes = {k: v for k, v in override.items()}
    if "date" in changes:
        changes["date"] = normalise_date(changes["date"]) or article.date
    if "language" in changes:  # a name ("Dutch") or a code; one that is neither is left to detection
        changes["language"] = normalise_language(changes["language"]) or article.language
    return _with_hash(replace(article, **changes))
