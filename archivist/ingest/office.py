"""Word documents (.docx): headings and paragraphs in reading order, metadata from the core properties.

A reporter's notes, a press release, a court filing typed up: the document's Title property
(else its first heading or "Title"-styled paragraph) is the headline, its Author the author,
and its creation date the date. Each paragraph is a line of the text, a blank line apart, so
passages end at paragraph breaks as they do for any article; table cells are read row by row
after the paragraphs, since figures in a table are what a fact-checker searches for.
"""

from __future__ import annotations

from pathlib import Path


def read_docx(path: Path) -> tuple[str, dict]:
    """(the text, its metadata: title, author, date, and the first heading as `heading`)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as error:
        from archivist.ingest.articles import UnreadableArticle

        raise UnreadableArticle(f"not a readable Word document ({type(error).__name__}); "
                                "only .docx is read (save a .doc as .docx)") from None
    paragraphs: list[str] = []
    heading = None
    for paragraph in document.paragraphs:
        text = " ".join(paragraph.text.split())
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if heading is None and (style == "Title" or style.startswith("Heading")):
            heading = text
        paragraphs.append(text)
    for table in document.tables:
        for row in table.rows:
            cells = [" ".join(cell.text.split()) for cell in row.cells]
            if any(cells):
                paragraphs.append(" | ".join(cells))
    properties = document.core_properties
    created = properties.created or properties.modified
    meta = {"title": properties.title or None, "author": properties.author or None,
            "date": created.date().isoformat() if created else None, "heading": heading}
    return "\n\n".join(paragraphs), meta
