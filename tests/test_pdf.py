"""PDFs as a newsroom keeps them: a text layer with its pages and metadata, scans read by OCR,
and a scan never silently empty when OCR is missing (issue 16)."""

from __future__ import annotations

import os

import pytest
from conftest import write
from pdfmaker import joined_pdf, scanned_pdf, text_pdf

from archivist.build.indexer import reindex
from archivist.ingest import ocr
from archivist.ingest.articles import scan_archive
from archivist.query.search import Searcher

# Pages long enough that each is a passage of its own (a page break is a paragraph break).
FIRST_PAGE = ["Harbour Budget Passes", "The council approved the harbour budget on Monday."] + [
    f"Councillor number {i} spoke about the quay, the cranes and the cost of dredging." for i in range(12)]
SECOND_PAGE = [f"Residents asked question number {i} about parking near the new ferry terminal." for i in range(12)] + [
    "On the second page the ferry operator warns of a timetable cut in spring."]
FILING = text_pdf([FIRST_PAGE, SECOND_PAGE],
                  {"Title": "Harbour News", "Author": "Jo Reporter", "CreationDate": "D:20210903120000"})
SCAN_LINES = ["The lighthouse keeper counted", "forty seven gulls on Tuesday."]


def need_tesseract() -> None:
    if ocr.tesseract_path() is None:
        if os.environ.get("CI"):
            pytest.fail(f"OCR test cannot run in CI: tesseract is not installed ({ocr.INSTALL_HINT})")
        pytest.skip(f"tesseract is not installed ({ocr.INSTALL_HINT})")


def test_a_text_pdf_keeps_its_metadata_and_pages_and_a_result_says_its_page(tmp_path, real_embedder):
    write(tmp_path / "archive" / "filing.pdf", FILING)
    (article,) = scan_archive(tmp_path / "archive").articles
    assert (article.title, article.author, article.date) == ("Harbour News", "Jo Reporter", "2021-09-03")
    assert len(article.pages) == 2 and article.extraction == "PDF text layer (pypdfium2), 2 pages"
    reindex(tmp_path / "archive", tmp_path / "index", embedder=real_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=real_embedder)
    hit = searcher.search("ferry operator timetable cut", k=1, mode="keyword").hits[0]
    # Passages overlap by a sentence, so the one holding page 2's last line may start on page 1.
    assert hit.pages[1] == 2 and hit.to_json()["page"] == hit.pages[0] and hit.page_label.startswith("page")
    first = searcher.search("council approved the harbour budget", k=1, mode="keyword").hits[0]
    assert first.pages == (1, 1) and first.page_label == "page 1" and "last_page" not in first.to_json()
    assert "PDF text layer" in searcher.article(hit.article.id)["extraction"]


def test_a_scanned_pdf_is_read_by_ocr_and_found_by_its_words(tmp_path, real_embedder):
    need_tesseract()
    write(tmp_path / "archive" / "scan.pdf", scanned_pdf(SCAN_LINES))
    write(tmp_path / "archive" / "mixed.pdf", joined_pdf(FILING, scanned_pdf(["Gulls returned to the pier at dawn."])))
    result = scan_archive(tmp_path / "archive")
    articles = {a.path: a for a in result.articles}
    assert "lighthouse keeper counted" in articles["scan.pdf"].text
    assert articles["scan.pdf"].extraction.endswith("OCR (Tesseract, eng) on page 1")
    assert "OCR (Tesseract, eng) on page 3" in articles["mixed.pdf"].extraction and result.skipped == []
    reindex(tmp_path / "archive", tmp_path / "index", embedder=real_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=real_embedder)
    assert searcher.search("lighthouse keeper gulls", k=1).hits[0].article.path == "scan.pdf"
    hit = searcher.search("gulls returned to the pier", k=1, mode="keyword").hits[0]
    assert hit.article.path == "mixed.pdf" and hit.pages[1] == 3


def test_without_tesseract_a_scan_is_reported_not_lost(tmp_path, monkeypatch, fake_embedder):
    monkeypatch.setattr(ocr, "tesseract_path", lambda: None)
    write(tmp_path / "archive" / "scan.pdf", scanned_pdf(SCAN_LINES))
    write(tmp_path / "archive" / "mixed.pdf", joined_pdf(FILING, scanned_pdf(SCAN_LINES)))
    write(tmp_path / "archive" / "broken.pdf", b"%PDF-1.4\nthis is not really a PDF")
    write(tmp_path / "archive" / "note.txt", "Still here\n\nA text file beside broken PDFs is read.\n")
    result = scan_archive(tmp_path / "archive")
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["scan.pdf"] == ("1 of 1 pages have no text and OCR is not installed "
                                   f"({ocr.INSTALL_HINT})")
    assert reasons["mixed.pdf"].startswith("1 of 3 pages have no text and OCR is not installed")
    partial = {s.path for s in result.skipped if s.partial}
    assert partial == {"mixed.pdf"}
    assert next(s for s in result.skipped if s.partial).line().startswith("read in part mixed.pdf: 1 of 3 pages")
    assert reasons["broken.pdf"].startswith("not a readable PDF")
    articles = {a.path: a for a in result.articles}
    assert set(articles) == {"mixed.pdf", "note.txt"}
    assert "no text on page 3" in articles["mixed.pdf"].extraction
    assert {"path": "mixed.pdf", "partial": True} .items() <= next(
        s.to_json() for s in result.skipped if s.partial).items()  # the report's JSON form
    summary = reindex(tmp_path / "archive", tmp_path / "index", embedder=fake_embedder).summary()
    assert "; 2 skipped, 1 read in part." in summary
