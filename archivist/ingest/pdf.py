"""PDF: the text layer page by page, pages without one read by OCR, and the document's metadata.

Why pypdfium2 (PDFium, Apache-2.0 / BSD-3-Clause): one library both extracts the text layer and
renders a page to an image for OCR. pypdf extracts but cannot render, so scans would need a
second library and poppler; PyMuPDF does both but is AGPL-3.0, which would bind every copy of
Archivist served to others; pdfplumber (on pdfminer) scrambles columns and is about 90x slower.
`benchmarks/pdf_libraries.py` measures them side by side on PDFs it makes (word F1, reading
order, phrases kept whole, pages/s); the README has the table.

An article keeps where each page starts in its text (`Article.pages`), so a result can say
"page 3", and says how it was read (`Article.extraction`): which pages came from OCR, and which
had no text at all because OCR is not installed, so a scan is never silently empty.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from archivist import config
from archivist.ingest import ocr
from archivist.records import Skipped

# A page with fewer characters than this in its text layer is treated as a scan.
MIN_PAGE_CHARS = 20
# Pages rendered for OCR at this resolution (Tesseract reads best at about 300 dpi).
OCR_DPI = 300
_PDF_DATE = re.compile(r"^D:(\d{4})(\d{2})?(\d{2})?")


class PdfText:
    """What was read of one PDF: its text, where each page starts, and how it was read."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.page_starts: list[int] = []
        self.ocr_pages: list[int] = []
        self.unread_pages: list[int] = []  # scans left without text (OCR missing or failed)
        self.problems: list[str] = []
        self._length = 0

    def add_page(self, text: str) -> None:
        if self.parts:
            self.parts.append("\n\n")
            self._length += 2
        self.page_starts.append(self._length)
        self.parts.append(text)
        self._length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def extraction(self, pages: int) -> str:
        """One line for the full-article view and the reindex report."""
        said = f"PDF text layer (pypdfium2), {pages} page{'s' if pages != 1 else ''}"
        if self.ocr_pages:
            said += f"; OCR (Tesseract, {config.ocr_languages()}) on page{'s' if len(self.ocr_pages) > 1 else ''} " \
                    + _page_list(self.ocr_pages)
        if self.unread_pages:
            said += f"; no text on page{'s' if len(self.unread_pages) > 1 else ''} " + _page_list(self.unread_pages)
        return said + "".join(f"; {p}" for p in self.problems)


def read_pdf(path: Path) -> tuple[PdfText, dict, int]:
    """(the text read, the document's metadata as title/author/date, the page count)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        from archivist.ingest.articles import UnreadableArticle

        raise UnreadableArticle(f"not a readable PDF ({error}); if it is password-protected, save an "
                                "unprotected copy") from None
    program = ocr.tesseract_path()
    read = PdfText()
    try:
        pages = len(document)
        for number in range(pages):
            page = document[number]
            # U+FFFE is PDFium's mark for a hyphen it joined at a line end ("heari\ufffeng"): dropped,
            # the word is whole again.
            text = (page.get_textpage().get_text_range().replace("\r\n", "\n").replace("\r", "\n")
                    .replace("\ufffe", ""))
            if len(text.strip()) < MIN_PAGE_CHARS and _has_images(page, pdfium_c):
                text = _ocr_page(page, number + 1, program, read) or text
            read.add_page(text.strip())
        metadata = _metadata(document.get_metadata_dict(skip_empty=True))
    finally:
        document.close()
    if read.unread_pages and program is None:
        read.problems.append(f"{len(read.unread_pages)} of {pages} pages have no text and OCR is not installed "
                             f"({ocr.INSTALL_HINT})")
    return read, metadata, pages


def pdf_problem(read: PdfText) -> str | None:
    """What a reindex report says of a PDF read only in part."""
    return "; ".join(read.problems) or (
        f"no text on pages {_page_list(read.unread_pages)}" if read.unread_pages else None)


def report_partial(rel: str, read: PdfText, skipped: list[Skipped]) -> None:
    problem = pdf_problem(read)
    if problem:
        skipped.append(Skipped(rel, problem, partial=True))


def _has_images(page, pdfium_c) -> bool:
    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def _ocr_page(page, number: int, program: str | None, read: PdfText) -> str | None:
    if program is None:
        read.unread_pages.append(number)
        return None
    image = page.render(scale=OCR_DPI / 72, grayscale=True).to_pil()
    try:
        text = ocr.recognise(image, program)
    except ocr.OcrFailed as error:
        read.unread_pages.append(number)
        read.problems.append(f"OCR failed on page {number} ({error})")
        return None
    if not text.strip():
        read.unread_pages.append(number)
        return None
    read.ocr_pages.append(number)
    return _join_ocr_lines(text)


def _join_ocr_lines(text: str) -> str:
    """Tesseract ends every printed line; paragraphs are the blank lines between them."""
    paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def _metadata(info: dict) -> dict:
    date = None
    for key in ("CreationDate", "ModDate"):
        match = _PDF_DATE.match(info.get(key, ""))
        if match and match.group(2) and match.group(3):
            try:
                date = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
                break
            except ValueError:
                continue
    return {"title": info.get("Title"), "author": info.get("Author"), "date": date}


def _page_list(pages: list[int]) -> str:
    """ "2, 3 and 7" """
    names = [str(p) for p in pages]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

