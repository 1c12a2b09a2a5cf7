"""Tiny PDFs made in the tests: a text layer written by hand, and scans drawn with Pillow."""

from __future__ import annotations

import io


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(pages: list[list[str]], info: dict[str, str] | None = None) -> bytes:
    """A PDF whose pages hold `pages` (lines each) in Helvetica, with an optional Info dictionary
    (Title, Author, CreationDate as "D:20210903...")."""
    objects: dict[int, str] = {1: "<< /Type /Catalog /Pages 2 0 R >>",
                               3: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(f'{i} 0 R' for i in page_ids)}] /Count {len(pages)} >>"
    for page_id, lines in zip(page_ids, pages):
        stream = "BT /F1 12 Tf 72 740 Td 16 TL " + " ".join(f"({_escape(line)}) '" for line in lines) + " ET"
        objects[page_id] = ("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>")
        objects[page_id + 1] = f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream"
    info_id = None
    if info:
        info_id = 4 + 2 * len(pages)
        objects[info_id] = "<< " + " ".join(f"/{key} ({_escape(value)})" for key, value in info.items()) + " >>"
    out = b"%PDF-1.4\n"
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n{objects[number]}\nendobj\n".encode("latin-1")
    xref, size = len(out), max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offsets[n]:010d} 00000 n \n".encode() for n in range(1, size))
    trailer = f"<< /Size {size} /Root 1 0 R" + (f" /Info {info_id} 0 R" if info_id else "") + " >>"
    return out + f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()


def scanned_pdf(lines: list[str]) -> bytes:
    """A one-page PDF that is only an image of `lines` (a scan: no text layer), A4 at 300 dpi."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=56)
    for number, line in enumerate(lines):
        draw.text((200, 300 + number * 110), line, fill=0, font=font)
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=300)
    return out.getvalue()


def joined_pdf(*documents: bytes) -> bytes:
    """One PDF with the pages of each document in turn (a text page and a scan, say)."""
    import pypdfium2 as pdfium

    joined = pdfium.PdfDocument.new()
    for data in documents:
        joined.import_pages(pdfium.PdfDocument(data))
    out = io.BytesIO()
    joined.save(out)
    return out.getvalue()
