"""Ingest speed: how fast each kind of file a newsroom keeps is read into articles.

Usage: .venv/bin/python benchmarks/ingest.py [--repeat 3] [--scale 1.0] [--formats pdf ocr mbox ...]
                                             [--out benchmarks/results/ingest-<date>.txt]

Every input is generated here, in a temporary folder (nothing downloaded, ../shared not needed),
and read through the project's own entry point, `archivist.ingest.articles.scan_archive`, so a
number includes everything a reindex does before splitting: the format's reader (ingest/pdf.py,
ocr.py, mail.py, feeds.py, office.py), HTML main-text extraction where a format carries HTML,
title and dateline finding and hashing (language detection happens at indexing, for what is written). The formats:

- pdf:  one text-layer PDF (tests/pdfmaker.text_pdf: Helvetica, 44 lines a page); pages/s.
- ocr:  one image-only PDF (tests/pdfmaker.scanned_pdf pages: A4 at 300 dpi, no text layer), each
        page rendered by PDFium and read by Tesseract; pages/s. Skipped when tesseract is absent.
- ocr-1thread: the same, with OMP_THREAD_LIMIT=1 in the environment Tesseract inherits (its
        OpenMP threads contend on a small machine; the reader itself is unchanged).
- mbox: one mailbox of plain-text messages (a third with a quoted reply); messages/s.
- mbox-html: one mailbox of HTML newsletters (their bodies go through the main-text extraction).
- warc: one .warc.gz of HTML responses, each with its request record, plus image responses and
        redirects the reader must pass over, and some URLs captured twice; HTML records/s (every
        HTML response record counts, the repeated captures included).
- docx: a folder of Word documents (headings, paragraphs, a small table); documents/s.
- rss:  one RSS 2.0 feed whose items carry HTML `content:encoded`; items/s.

Each format but OCR is read once untimed first (imports, lingua's models, trafilatura's set-up), then
--repeat times; the table quotes the median and the spread (min-max). Every run checks that the
expected number of articles came back and nothing was skipped: a benchmark must not time a
failure. Above the table: CPU, core count, Python and library versions, the tesseract version.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import io
import mailbox
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from machine import cpu_model, package_version, publish
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # pdfmaker: the PDFs the tests make

from archivist.ingest.articles import scan_archive  # noqa: E402
from archivist.ingest.ocr import tesseract_path  # noqa: E402

FORMATS = ("pdf", "ocr", "ocr-1thread", "mbox", "mbox-html", "warc", "docx", "rss")
# Units per input at --scale 1 (sized so the default run stays near two minutes on 2 cores).
SIZES = {"pdf": 200, "ocr": 3, "ocr-1thread": 3, "mbox": 1000, "mbox-html": 200, "warc": 200, "docx": 60,
         "rss": 200}
UNITS = {"pdf": "pages", "ocr": "pages", "ocr-1thread": "pages", "mbox": "messages", "mbox-html": "messages",
         "warc": "records", "docx": "documents", "rss": "items"}
LABELS = {"pdf": "PDF, text layer", "ocr": "PDF, scanned (OCR)",
          "ocr-1thread": "PDF, scanned (OCR), OMP_THREAD_LIMIT=1", "mbox": ".mbox, plain text",
          "mbox-html": ".mbox, HTML bodies", "warc": ".warc.gz, HTML responses", "docx": ".docx",
          "rss": "RSS 2.0, HTML content"}

# ------------------------------------------------------------------ made-up but news-shaped text

_SUBJECTS = ["The council", "Harbour officials", "The transport minister", "Union leaders", "The regional court",
             "Hospital managers", "A spokesperson for the mill", "Local traders", "The finance committee",
             "Residents of the east bank", "The police commissioner", "Auditors", "The ferry operator"]
_VERBS = ["said on Tuesday that", "confirmed late on Friday that", "denied reports that", "warned that",
          "told reporters that", "disclosed in a filing that", "announced that", "admitted that"]
_CLAUSES = ["the budget for road repairs would be cut by a fifth", "the night crossing would resume in spring",
            "overtime payments had not been made since March", "two contracts were awarded without a tender",
            "the inquiry would publish its findings before the summer recess",
            "water quality at the northern beaches had improved", "the new terminal would open two months late",
            "fares would rise by three percent from November", "a consultant was paid 40,000 for a short report",
            "the school closures were temporary", "the warehouse fire started in a storage room",
            "local elections would be held on the same day as the referendum",
            "grain exports fell sharply in the third quarter", "the bridge needs repairs costing 12 million"]


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_CLAUSES)}."


def paragraph(rng: random.Random, sentences: int = 4) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def headline(rng: random.Random, number: int) -> str:
    return f"{rng.choice(_SUBJECTS).removeprefix('The ').removeprefix('A ').capitalize()} report {number}"


def wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


def news_html(rng: random.Random, title: str, paragraphs: int = 6) -> str:
    """A saved news page: navigation, the article, a footer, the way trafilatura meets them."""
    body = "".join(f"<p>{paragraph(rng)}</p>" for _ in range(paragraphs))
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head><body>"
            "<nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/sport'>Sport</a></nav>"
            f"<article><h1>{title}</h1><p class='byline'>By Sam Stringer</p>{body}</article>"
            "<footer>Copyright The Example Gazette. All rights reserved.</footer></body></html>")


# ------------------------------------------------------------------ the inputs

def make_pdf(folder: Path, pages: int, rng: random.Random) -> Path:
    from pdfmaker import text_pdf

    page_lines = []
    for number in range(pages):
        lines = [headline(rng, number + 1)] if number == 0 else []
        while len(lines) < 44:
            lines += wrap(paragraph(rng), 88) + [""]
        page_lines.append(lines[:44])
    path = folder / "report.pdf"
    path.write_bytes(text_pdf(page_lines, {"Title": "Annual report of the harbour board",
                                           "Author": "Harbour Board", "CreationDate": "D:20210903120000"}))
    return path


def make_scan(folder: Path, pages: int, rng: random.Random) -> Path:
    from pdfmaker import joined_pdf, scanned_pdf

    scans = [scanned_pdf([f"Page {n + 1} of the filing"] + wrap(" ".join(paragraph(rng) for _ in range(4)), 62)[:24])
             for n in range(pages)]
    path = folder / "scan.pdf"
    path.write_bytes(joined_pdf(*scans))
    return path


def make_mbox(folder: Path, messages: int, rng: random.Random, html: bool) -> Path:
    path = folder / ("newsletters.mbox" if html else "tips.mbox")
    box = mailbox.mbox(str(path))
    start = dt.datetime(2021, 1, 4, 8, 0, tzinfo=dt.timezone.utc)
    for number in range(messages):
        message = EmailMessage()
        message["Subject"] = headline(rng, number + 1)
        message["From"] = f"Desk {number % 17} <desk{number % 17}@paper.example>"
        message["Date"] = email.utils.format_datetime(start + dt.timedelta(hours=7 * number))
        message["Message-ID"] = f"<m{number}@bench.example>"
        if html:
            # HTML only: with a plain-text alternative the reader takes the plain part (see the report)
            message.set_content(news_html(rng, str(message["Subject"]), 5), subtype="html")
        else:
            text = "\n\n".join(paragraph(rng) for _ in range(3))
            if number % 3 == 0:
                text += ("\n\nOn Mon, 6 Sep 2021, Desk <desk@paper.example> wrote:\n"
                         + "\n".join("> " + line for line in wrap(paragraph(rng), 70)))
            message.set_content(text)
        box.add(message)
    box.close()
    return path


def make_warc(folder: Path, pages: int, rng: random.Random) -> tuple[Path, int]:
    """(the file, how many HTML response records it holds): one URL in ten is captured twice."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = folder / "crawl.warc.gz"
    html_records = 0
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)

        def response(url: str, when: str, status: str, content_type: str, body: bytes) -> None:
            headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
            request = writer.create_warc_record(url, "request", payload=io.BytesIO(b""),
                                                http_headers=StatusAndHeaders("GET / HTTP/1.1", [("Host", "x")],
                                                                              is_http_request=True),
                                                warc_headers_dict={"WARC-Date": when})
            writer.write_record(request)
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=headers, warc_headers_dict={"WARC-Date": when}))

        for number in range(pages):
            url = f"https://gazette.example/news/{number}"
            response(url, f"2021-09-{1 + number % 28:02d}T10:00:00Z", "200 OK", "text/html; charset=utf-8",
                     news_html(rng, headline(rng, number + 1)).encode())
            html_records += 1
            if number % 10 == 0:  # a later capture of the same page
                later = news_html(rng, headline(rng, number)).encode()
                response(url, "2021-10-01T10:00:00Z", "200 OK", "text/html", later)
                html_records += 1
            if number % 5 == 0:  # records the reader must pass over
                response(f"https://gazette.example/img/{number}.png", "2021-09-01T10:00:00Z", "200 OK", "image/png",
                         bytes(rng.randrange(256) for _ in range(2048)))
                response(f"https://gazette.example/old/{number}", "2021-09-01T10:00:00Z", "301 Moved Permanently",
                         "text/html", b"<html><body>Moved</body></html>")
    return path, html_records


def make_docx(folder: Path, documents: int, rng: random.Random) -> Path:
    import docx

    target = folder / "word"
    target.mkdir()
    for number in range(documents):
        document = docx.Document()
        document.core_properties.title = headline(rng, number + 1)
        document.core_properties.author = "Sam Stringer"
        document.core_properties.created = dt.datetime(2021, 9, 6, 10, 0)
        document.add_heading(headline(rng, number + 1), level=1)
        for _ in range(6):
            document.add_paragraph(paragraph(rng))
        table = document.add_table(rows=3, cols=2)
        for row in range(3):
            table.cell(row, 0).text, table.cell(row, 1).text = f"Item {row + 1}", str(rng.randrange(1000))
        document.save(str(target / f"notes-{number:03d}.docx"))
    return target


def make_rss(folder: Path, items: int, rng: random.Random) -> Path:
    from xml.sax.saxutils import escape

    start = dt.datetime(2021, 1, 4, 8, 0, tzinfo=dt.timezone.utc)
    entries = []
    for number in range(items):
        title = headline(rng, number + 1)
        content = "".join(f"<p>{paragraph(rng)}</p>" for _ in range(4))
        entries.append(f"<item><title>{escape(title)}</title><link>https://gazette.example/n/{number}</link>"
                       f"<guid>https://gazette.example/n/{number}</guid>"
                       f"<pubDate>{email.utils.format_datetime(start + dt.timedelta(hours=number))}</pubDate>"
                       "<dc:creator>Sam Stringer</dc:creator>"
                       f"<description>{escape(sentence(rng))}</description>"
                       f"<content:encoded><![CDATA[{content}]]></content:encoded></item>")
    path = folder / "gazette.rss"
    path.write_text("<?xml version='1.0' encoding='utf-8'?>\n<rss version='2.0' "
                    "xmlns:content='http://purl.org/rss/1.0/modules/content/' "
                    "xmlns:dc='http://purl.org/dc/elements/1.1/'><channel><title>The Example Gazette</title>"
                    "<link>https://gazette.example/</link><description>News</description>"
                    + "".join(entries) + "</channel></rss>", encoding="utf-8")
    return path


def make_input(kind: str, folder: Path, size: int) -> tuple[Path, int, int]:
    """(what to scan, units in it, articles expected from it)."""
    rng = random.Random(f"ingest-{kind}")
    folder.mkdir(parents=True)
    if kind == "pdf":
        return make_pdf(folder, size, rng), size, 1
    if kind in ("ocr", "ocr-1thread"):
        return make_scan(folder, size, rng), size, 1
    if kind in ("mbox", "mbox-html"):
        return make_mbox(folder, size, rng, html=kind == "mbox-html"), size, size
    if kind == "warc":
        path, records = make_warc(folder, size, rng)
        return path, records, size  # repeated captures are one article
    if kind == "docx":
        return make_docx(folder, size, rng), size, size
    if kind == "rss":
        return make_rss(folder, size, rng), size, size
    raise ValueError(kind)


# ------------------------------------------------------------------ measuring

def timed_scan(path: Path, expected: int, kind: str) -> float:
    started = time.perf_counter()
    result = scan_archive(path)
    seconds = time.perf_counter() - started
    if len(result.articles) != expected or result.skipped:
        raise SystemExit(f"{kind}: expected {expected} articles and nothing skipped, got {len(result.articles)} "
                         f"and skipped {[(s.path, s.reason) for s in result.skipped][:3]}")
    if kind.startswith("ocr") and "OCR" not in (result.articles[0].extraction or ""):
        raise SystemExit(f"ocr: the scan was not read by OCR ({result.articles[0].extraction})")
    return seconds




def tesseract_version(program: str | None) -> str:
    if program is None:
        return "not installed"
    done = subprocess.run([program, "--version"], capture_output=True, text=True, check=False)
    return ((done.stdout or done.stderr).strip().splitlines() or ["?"])[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per format (the median is quoted)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every input's size (0.1 for a smoke run)")
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks" / "results" / f"ingest-{dt.date.today().isoformat()}.txt",
                        help="where the printed report is also written ('-' for nowhere)")
    args = parser.parse_args()
    program = tesseract_path()
    rows = []
    with tempfile.TemporaryDirectory(prefix="archivist-ingest-") as work:
        for kind in args.formats:
            if kind.startswith("ocr") and program is None:
                print("ocr: skipped, tesseract is not installed (apt-get install tesseract-ocr)", file=sys.stderr)
                continue
            size = max(1, round(SIZES[kind] * args.scale))
            made = time.perf_counter()
            path, units, expected = make_input(kind, Path(work) / kind, size)
            made = time.perf_counter() - made
            # warm-up: imports, models, caches (OCR starts a new tesseract process a page anyway)
            if not kind.startswith("ocr"):
                timed_scan(path, expected, kind)
            saved = os.environ.get("OMP_THREAD_LIMIT")
            if kind == "ocr-1thread":  # the same reader; only Tesseract's OpenMP threads limited
                os.environ["OMP_THREAD_LIMIT"] = "1"
            try:
                runs = [timed_scan(path, expected, kind) for _ in range(args.repeat)]
            finally:
                if kind == "ocr-1thread":
                    os.environ.pop("OMP_THREAD_LIMIT", None) if saved is None else os.environ.update(
                        OMP_THREAD_LIMIT=saved)
            median = statistics.median(runs)
            print(f"{kind}: {units} {UNITS[kind]} made in {made:.1f} s; runs "
                  + ", ".join(f"{r:.2f}" for r in runs) + " s", file=sys.stderr)
            rows.append((LABELS[kind], UNITS[kind], units, median, min(runs), max(runs), units / median))
    lines = [f"Archivist ingest speed (benchmarks/ingest.py), {dt.date.today().isoformat()}",
             f"CPU: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}",
             "Libraries: " + ", ".join(f"{name} {package_version(name)}" for name in
                                      ("pypdfium2", "python-docx", "warcio", "feedparser", "trafilatura",
                                       "lingua-language-detector")),
             f"Tesseract: {tesseract_version(program)} (languages: "
             f"{__import__('archivist.config', fromlist=['x']).ocr_languages()})",
             f"Each row: one scan_archive() of the generated input, median of {args.repeat} runs after a warm-up "
             "(none for OCR).",
             "",
             "| format | units | count | median s | min-max s | units/s |",
             "|---|---|---|---|---|---|"]
    for label, unit, count, median, low, high, rate in rows:
        shown = f"{rate:,.2f}" if rate < 10 else f"{rate:,.1f}"
        lines.append(f"| {label} | {unit} | {count} | {median:.3f} | {low:.3f}-{high:.3f} | {shown} |")
    by = {label: rate for label, *_, rate in rows}
    if LABELS["pdf"] in by and LABELS["ocr"] in by:
        lines += ["", f"- a text-layer page reads {by[LABELS['pdf']] / by[LABELS['ocr']]:,.0f}x faster than an "
                      f"OCR'd one ({1 / by[LABELS['ocr']]:.2f} s a scanned page)"]
    if LABELS["ocr"] in by and LABELS["ocr-1thread"] in by:
        lines.append(f"- with OMP_THREAD_LIMIT=1 OCR runs {by[LABELS['ocr-1thread']] / by[LABELS['ocr']]:.1f}x as fast "
                     f"on this {os.cpu_count()}-core machine")
    if LABELS["mbox"] in by and LABELS["mbox-html"] in by:
        lines.append(f"- an HTML message costs {by[LABELS['mbox']] / by[LABELS['mbox-html']]:.1f}x a plain-text one "
                     "(main-text extraction)")
    report = "\n".join(lines)
    publish(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
