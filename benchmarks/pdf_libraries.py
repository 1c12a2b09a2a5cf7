"""Which PDF library reads the text layer best: quality and speed on PDFs made here, truth known.

Usage: .venv/bin/python -m pip install -r benchmarks/requirements-compare.txt   (once; only for this)
       .venv/bin/python benchmarks/pdf_libraries.py [--repeat 5] [--keep DIR]
                                                    [--out benchmarks/results/ingest-pdf-libraries-<date>.txt]

The documents (written with fpdf2 in DejaVu fonts, embedded with a ToUnicode map, as typesetting
software does; each page's true text in reading order is kept beside it):
- newspaper: an e-paper page, masthead and headline over three columns of two stories, with a
  caption; content stream in story order (column after column), as layout programs write it.
- newspaper-rows: the same page with the lines written row by row across the columns, as some
  converters and PDF "optimisers" leave them: only layout analysis recovers the columns.
- court: a three-page filing on pleading paper: line numbers 1-28 down the margin, a case-number
  header and a "Page n of 3" footer on every page. The truth is header, body, footer; the line
  numbers are noise every library sees alike.
- typeset: ligature glyphs (fi, fl, ff, ffi mapped to U+FB01..U+FB03 as many fonts do), words
  hyphenated at line ends, and accented names (Zürich, Łódź, São Paulo, Dvořák, Ærøskøbing).
- report: a 32-page single-column report with running header and page-number footer (speed).
- helvetica: tests/pdfmaker.text_pdf pages (Type 1 Helvetica, not embedded), what the tests use.

Scores, page by page against the truth, weighted by the page's words (words: lower-cased \\w+ runs,
no Unicode normalisation, since the archive indexes the text as extracted):
- F1: word-level F1 of the bags of words (is the text there at all).
- order: difflib's ratio of the two word sequences (1.0 = same words in the same order).
- phrases: share of the truth's 5-word phrases (one every 7 words) found verbatim in the
  extracted words: what an exact-phrase search would find.
Speed: pages per second over all the documents (open, every page's text, close), the median of
--repeat runs (each run at least 0.5 s, the files read as many times as that takes), one library
at a time in this process. A library that is not installed is
skipped with a line saying so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import math
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from machine import cpu_model, package_version, publish
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # pdfmaker

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts")
LICENCES = {"pypdfium2": "Apache-2.0 / BSD-3", "pypdf": "BSD-3", "pdfplumber": "MIT", "pdfminer.six": "MIT",
            "pymupdf": "AGPL-3.0 (or commercial)"}
WORD = re.compile(r"\w+")
LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})


@dataclass
class Document:
    name: str
    path: Path
    truth: list[str]  # each page's text in reading order
    notes: str = ""


# ------------------------------------------------------------------ text with known words

_PEOPLE = ["Mara Okafor", "Tomas Lindqvist", "Aiko Brandt", "Rafael Moreno", "Greta Halloran", "Idris Kamara",
           "Nadia Petrescu", "Owen Castellano", "Selma Rasmussen", "Victor Albescu"]
_BODIES = ["the harbour board", "the county council", "the water authority", "the ferry company", "the district court",
           "the teachers' union", "the port police", "the housing trust", "the audit office", "the rail operator"]
_DEEDS = ["approved a budget of {n} million for dredging the eastern channel",
          "postponed the vote on the bridge tolls until {m}",
          "published {n} pages of correspondence about the warehouse lease",
          "received {n} complaints about the night crossing in {m}",
          "paid a consultancy {n} thousand for a report nobody has seen",
          "closed {n} schools after the storm damaged their roofs in {m}",
          "cut the number of inspectors from {n} to eleven",
          "signed a contract worth {n} million without a public tender in {m}",
          "recorded {n} cases of contaminated water at the northern beaches",
          "delayed the terminal opening by {n} weeks citing supply problems"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_SAYING = ["said", "told reporters", "wrote in a letter", "confirmed on Tuesday", "insisted", "admitted"]


def sentence(rng: random.Random) -> str:
    deed = rng.choice(_DEEDS).format(n=rng.randrange(2, 990), m=rng.choice(_MONTHS))
    return f"{rng.choice(_PEOPLE)} {rng.choice(_SAYING)} that {rng.choice(_BODIES)} {deed}."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


# ------------------------------------------------------------------ laying text out

def font_dir() -> Path:
    for folder in FONT_DIRS:
        if (Path(folder) / "DejaVuSerif.ttf").is_file():
            return Path(folder)
    raise SystemExit("pdf_libraries.py: DejaVu fonts not found (apt-get install fonts-dejavu-core)")


def new_pdf(fonts: Path):
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creator("Archivist benchmark")
    pdf.set_creation_date(dt.datetime(2021, 9, 3, tzinfo=dt.timezone.utc))
    for family, file in (("serif", "DejaVuSerif.ttf"), ("serif-bold", "DejaVuSerif-Bold.ttf"),
                         ("sans", "DejaVuSans.ttf"), ("sans-bold", "DejaVuSans-Bold.ttf")):
        pdf.add_font(family, fname=str(fonts / file))
    return pdf


def wrap(pdf, text: str, width: float, hyphenate: bool = False) -> list[str]:
    """Lines of `text` no wider than `width` in the current font; with `hyphenate`, a long word
    that does not fit is broken with a hyphen where its first part fits."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}" if line else word
        if pdf.get_string_width(trial) <= width:
            line = trial
            continue
        letters = len(word.rstrip(".,;:"))
        if hyphenate and letters >= 8:
            for cut in range(letters - 3, 3, -1):  # three letters at least on each side
                head = f"{line} {word[:cut]}-" if line else f"{word[:cut]}-"
                if word[:cut].isalpha() and pdf.get_string_width(head) <= width:
                    lines.append(head)
                    line = word[cut:]
                    break
            else:
                lines.append(line)
                line = word
            continue
        lines.append(line)
        line = word
    return lines + ([line] if line else [])


def unhyphenated(lines: list[str]) -> str:
    """The text a reader reads from lines that may end in a line-break hyphen."""
    text = ""
    for line in lines:
        text = text[:-1] + line if text.endswith("-") else f"{text} {line}".strip()
    return text


def column_lines(pdf, paragraphs: list[str], width: float) -> list[str]:
    out = []
    for text in paragraphs:
        out += wrap(pdf, text, width) + [""]
    return out[:-1]


# ------------------------------------------------------------------ the documents

def newspaper(folder: Path, fonts: Path, rows_first: bool) -> Document:
    """Masthead, a headline across the page, two stories in three columns, a caption."""
    rng = random.Random("newspaper")
    pdf = new_pdf(fonts)
    pdf.add_page()
    left, top, gutter, columns = 36.0, 150.0, 14.0, 3
    width = (595.28 - 2 * left - gutter * (columns - 1)) / columns
    masthead, dateline = "THE EXAMPLE GAZETTE", "Friday 3 September 2021 - No. 41,207 - Price 2.50"
    story1 = ("Harbour board accused over dredging deal", [paragraph(rng, 3) for _ in range(6)])
    story2 = ("Ferry fares to rise again", [paragraph(rng, 2) for _ in range(3)])
    caption = "Photo: the eastern channel at low tide, where the dredger has worked since May."
    pdf.set_font("serif-bold", size=30)
    pdf.text(left, 60, masthead)
    pdf.set_font("serif", size=9)
    pdf.text(left, 78, dateline)
    pdf.line(left, 86, 595.28 - left, 86)
    pdf.set_font("serif-bold", size=18)
    if pdf.get_string_width(story1[0]) > 595.28 - 2 * left:
        raise RuntimeError("newspaper headline is wider than the page")
    pdf.text(left, 118, story1[0])
    pdf.set_font("serif", size=9.5)
    body1 = column_lines(pdf, story1[1], width)
    # story 1 fills columns 1-2 and part of 3; story 2 (its own headline) below it in column 3
    per_column, leading = 58, 11.4
    placed: list[tuple[int, int, str, str]] = []  # (column, row, font, text)
    chunks = [body1[i:i + per_column] for i in range(0, len(body1), per_column)]
    for col, chunk in enumerate(chunks):
        placed += [(col, row, "serif", line) for row, line in enumerate(chunk)]
    col, row = len(chunks) - 1, len(chunks[-1]) + 2
    placed.append((col, row, "serif-bold", story2[0]))
    row += 2
    for line in column_lines(pdf, story2[1], width):
        placed.append((col, row, "serif", line))
        row += 1
    row += 1
    for line in wrap(pdf, caption, width):
        placed.append((col, row, "serif-caption", line))
        row += 1
    if row > per_column + 6:
        raise RuntimeError("newspaper page overflows")
    order = sorted(placed, key=lambda p: (p[1], p[0])) if rows_first else placed
    for col, row, font, text in order:
        pdf.set_font("serif-bold" if font == "serif-bold" else "serif", size=9.5 if font != "serif-bold" else 12)
        pdf.text(left + col * (width + gutter), top + row * leading, text)
    name = "newspaper-rows" if rows_first else "newspaper"
    path = folder / f"{name}.pdf"
    pdf.output(str(path))
    truth = " ".join([masthead, dateline, story1[0], *story1[1], story2[0], *story2[1], caption])
    return Document(name, path, [truth], "3 columns, " + ("rows written across columns" if rows_first else
                                                         "story order"))


def court(folder: Path, fonts: Path) -> Document:
    rng = random.Random("court")
    pdf = new_pdf(fonts)
    pages, truth = 3, []
    header = "Case No. 3:21-cv-01234-JD"
    lines: list[str] = []
    pdf.set_font("serif", size=12)
    paragraphs = ["PLAINTIFF'S MOTION TO COMPEL PRODUCTION OF DOCUMENTS"] + [paragraph(rng, 4) for _ in range(12)]
    for text in paragraphs:
        lines += wrap(pdf, text, 440) + [""]
    for page in range(pages):
        pdf.add_page()
        footer = f"PLAINTIFF'S MOTION TO COMPEL - Page {page + 1} of {pages}"
        pdf.set_font("serif", size=10)
        pdf.text(400, 40, header)
        for number in range(1, 29):  # the pleading paper's numbers, drawn first like a template
            pdf.text(50, 90 + (number - 1) * 25, str(number))
        pdf.line(80, 70, 80, 780)
        pdf.line(525, 70, 525, 780)
        pdf.set_font("serif", size=12)
        body = lines[page * 28:(page + 1) * 28]
        for row, line in enumerate(body):
            pdf.text(92, 90 + row * 25, line)
        pdf.set_font("serif", size=9)
        pdf.text(200, 810, footer)
        truth.append(" ".join([header, *body, footer]))
    path = folder / "court.pdf"
    pdf.output(str(path))
    return Document("court", path, truth, f"{pages} pages, pleading line numbers, header/footer")


TYPESET = [
    "The ﬁnancial oﬃcer of the Zürich ﬁrm ﬂew to Łódź on the eve of the ﬁnal hearing, and the "
    "oﬃce in São Paulo conﬁrmed that the ﬁles had been ﬂagged by Anaïs Dvořák, the auditor who "
    "ﬁrst noticed the diﬀerence between the two sets of accounts.",
    "According to the investigators, the reconstruction contract for the Ærøskøbing waterfront was "
    "signed in Kraków by François Lefèvre and Jürgen Müller, whose communications were subsequently "
    "requisitioned by the parliamentary committee in København.",
    "Independently, the environmental ombudsman in Göteborg characterised the authorisation as "
    "extraordinarily irregular: the shareholders' representatives had acknowledged the conflicting "
    "responsibilities, yet the municipality's oﬃcials approved the ﬁnancing unanimously.",
    "Señora Núñez, the café owner on the Piazza Navona, told the ﬁeld reporter that the naïve "
    "reassurances of the ministry had not persuaded the neighbourhood associations in Brașov or Île-de-France.",
]


def typeset(folder: Path, fonts: Path) -> Document:
    """Ligature glyphs, words hyphenated at line ends, accents: a typesetter's page."""
    pdf = new_pdf(fonts)
    pdf.add_page()
    pdf.set_font("serif", size=11)
    y, truth = 80.0, []
    for text in TYPESET * 2:
        lines = wrap(pdf, text, 230, hyphenate=True)
        for line in lines:
            pdf.text(72, y, line)
            y += 14
        y += 10
        truth.append(unhyphenated(lines).translate(LIGATURES))  # a reader reads "fi", not one glyph
    path = folder / "typeset.pdf"
    pdf.output(str(path))
    expected = " ".join(truth)
    return Document("typeset", path, [expected], "ligatures, line-end hyphens, accents")


def report(folder: Path, fonts: Path, pages: int = 32) -> Document:
    rng = random.Random("report")
    pdf = new_pdf(fonts)
    truth = []
    running = "Harbour Board - Annual Report 2021"
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("sans", size=8)
        pdf.text(72, 40, running)
        parts = [running]
        y = 80.0
        if page % 4 == 0:
            heading = f"{page // 4 + 1}. {rng.choice(_BODIES).capitalize()} and the year in review"
            pdf.set_font("sans-bold", size=14)
            pdf.text(72, y, heading)
            parts.append(heading)
            y += 28
        pdf.set_font("sans", size=10.5)
        while y < 740:
            text = paragraph(rng, 3)
            lines = wrap(pdf, text, 451)
            if y + 14 * len(lines) > 760:
                break
            for line in lines:
                pdf.text(72, y, line)
                y += 14
            y += 8
            parts.append(text)
        footer = f"{page + 1}"
        pdf.set_font("sans", size=8)
        pdf.text(290, 810, footer)
        truth.append(" ".join(parts + [footer]))
    path = folder / "report.pdf"
    pdf.output(str(path))
    return Document("report", path, truth, f"{pages} pages, one column, running header")


def helvetica(folder: Path) -> Document:
    from pdfmaker import text_pdf

    rng = random.Random("helvetica")
    pages = []
    for _ in range(8):
        lines: list[str] = []
        while len(lines) < 40:
            text = paragraph(rng, 2)
            words, line = text.split(), ""
            for word in words:
                if len(line) + len(word) > 85:
                    lines.append(line)
                    line = word
                else:
                    line = f"{line} {word}".strip()
            lines.append(line)
        pages.append(lines[:40])
    path = folder / "helvetica.pdf"
    path.write_bytes(text_pdf(pages))
    return Document("helvetica", path, [" ".join(p) for p in pages], "8 pages, Type 1 Helvetica (the tests' PDFs)")


def make_documents(folder: Path) -> list[Document]:
    fonts = font_dir()
    return [newspaper(folder, fonts, rows_first=False), newspaper(folder, fonts, rows_first=True),
            court(folder, fonts), typeset(folder, fonts), report(folder, fonts), helvetica(folder)]


# ------------------------------------------------------------------ the libraries (page texts of a file)

def with_pypdfium2(path: Path) -> list[str]:
    """What archivist/ingest/pdf.py calls."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def with_pypdfium2_clean(path: Path) -> list[str]:
    """The same, with PDFium's mark for a line-end hyphen it joined (U+FFFE) removed (pdf.py keeps it)."""
    return [text.replace("\ufffe", "") for text in with_pypdfium2(path)]


def with_pypdf(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(str(path)).pages]


def with_pdfplumber(path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(str(path)) as document:
        return [page.extract_text() for page in document.pages]


def with_pdfminer(path: Path) -> list[str]:
    """pdfminer.six's own layout analysis (LAParams defaults): what pdfplumber is built on."""
    from pdfminer.high_level import extract_text

    return extract_text(str(path)).split("\f")[:-1] or [""]


def with_pymupdf(path: Path) -> list[str]:
    import pymupdf

    with pymupdf.open(str(path)) as document:
        return [page.get_text() for page in document]


def with_pymupdf_sorted(path: Path) -> list[str]:
    import pymupdf

    with pymupdf.open(str(path)) as document:
        return [page.get_text(sort=True) for page in document]


def with_pymupdf_tuned(path: Path) -> list[str]:
    """PyMuPDF's flags for a reader: words hyphenated at line ends joined, ligatures expanded."""
    import pymupdf

    flags = (pymupdf.TEXTFLAGS_TEXT | pymupdf.TEXT_DEHYPHENATE) & ~pymupdf.TEXT_PRESERVE_LIGATURES
    with pymupdf.open(str(path)) as document:
        return [page.get_text(flags=flags) for page in document]


LIBRARIES: list[tuple[str, str, str, Callable[[Path], list[str]]]] = [
    # (row name, distribution, module, pages' texts)
    ("pypdfium2 get_text_range", "pypdfium2", "pypdfium2", with_pypdfium2),
    ("pypdfium2, U+FFFE removed", "pypdfium2", "pypdfium2", with_pypdfium2_clean),
    ("pypdf extract_text", "pypdf", "pypdf", with_pypdf),
    ("pdfplumber extract_text", "pdfplumber", "pdfplumber", with_pdfplumber),
    ("pdfminer.six extract_text", "pdfminer.six", "pdfminer", with_pdfminer),
    ("PyMuPDF get_text", "pymupdf", "pymupdf", with_pymupdf),
    ("PyMuPDF get_text(sort)", "pymupdf", "pymupdf", with_pymupdf_sorted),
    ("PyMuPDF dehyphenate, no ligatures", "pymupdf", "pymupdf", with_pymupdf_tuned),
]


# ------------------------------------------------------------------ scoring

def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def f1(truth: list[str], got: list[str]) -> float:
    if not truth or not got:
        return 0.0
    common = sum((Counter(truth) & Counter(got)).values())
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(truth)
    return 2 * precision * recall / (precision + recall)


def order(truth: list[str], got: list[str]) -> float:
    return difflib.SequenceMatcher(None, truth, got, autojunk=False).ratio()


def phrases(truth: list[str], got: list[str], size: int = 5, step: int = 7) -> float:
    wanted = [" ".join(truth[i:i + size]) for i in range(0, max(1, len(truth) - size + 1), step)]
    joined = f" {' '.join(got)} "
    return sum(f" {p} " in joined for p in wanted) / len(wanted) if wanted else 0.0


@dataclass
class Scores:
    weight: int = 0
    sums: dict[str, float] = field(default_factory=lambda: {"f1": 0.0, "order": 0.0, "phrases": 0.0})

    def add(self, truth_text: str, got_text: str) -> None:
        truth, got = words(truth_text), words(got_text)
        self.weight += len(truth)
        for name, measure in (("f1", f1), ("order", order), ("phrases", phrases)):
            self.sums[name] += len(truth) * measure(truth, got)

    def get(self, name: str) -> float:
        return self.sums[name] / self.weight if self.weight else 0.0


def score(document: Document, pages: list[str]) -> Scores:
    scores = Scores()
    if len(pages) != len(document.truth):  # a library that lost or merged pages scores on the whole
        scores.add(" ".join(document.truth), " ".join(pages))
    else:
        for truth, got in zip(document.truth, pages):
            scores.add(truth, got)
    return scores


# ------------------------------------------------------------------ the run

def installed(module: str) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        return False




def pages_per_second(extract: Callable[[Path], list[str]], paths: list[Path], pages: int, repeat: int,
                     least_s: float = 0.5) -> float:
    """Median over `repeat` runs; a run reads the files as many times as makes it last `least_s`
    (a fast library reads these 46 pages in 40 ms, too short to time on a busy machine)."""
    def once() -> float:
        started = time.perf_counter()
        for path in paths:
            try:
                extract(path)
            except Exception:  # already reported by the quality pass
                pass
        return time.perf_counter() - started

    passes = max(1, math.ceil(least_s / max(once(), 1e-6)))
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(passes):
            once()
        runs.append((time.perf_counter() - started) / passes)
    return pages / statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs over all documents (median quoted)")
    parser.add_argument("--keep", type=Path, help="write the PDFs here (to look at them) instead of a temp dir")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results"
                        / f"ingest-pdf-libraries-{dt.date.today().isoformat()}.txt",
                        help="where the printed report is also written ('-' for nowhere)")
    args = parser.parse_args()
    if not installed("fpdf"):
        print("pdf_libraries.py: fpdf2 is needed to make the PDFs: "
              ".venv/bin/python -m pip install -r benchmarks/requirements-compare.txt", file=sys.stderr)
        return 2
    lines_out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="archivist-pdflibs-") as temp:
        folder = args.keep or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        documents = make_documents(folder)
        total_pages = sum(len(d.truth) for d in documents)
        results = []
        for row, dist, module, extract in LIBRARIES:
            if not installed(module):
                line = f"{row}: skipped, {dist} is not installed (pip install -r benchmarks/requirements-compare.txt)"
                print(line, file=sys.stderr)
                lines_out.append(f"- {line}")
                continue
            per_doc = {}
            for document in documents:
                try:
                    per_doc[document.name] = score(document, extract(document.path))
                except Exception as error:  # a library failing on a file scores nothing there, and says so
                    print(f"{row} failed on {document.name}: {type(error).__name__}: {error}", file=sys.stderr)
                    per_doc[document.name] = Scores()
            report_doc = next(d for d in documents if d.name == "report")
            rate = pages_per_second(extract, [d.path for d in documents], total_pages, args.repeat)
            report_rate = pages_per_second(extract, [report_doc.path], len(report_doc.truth), args.repeat)
            results.append((row, dist, per_doc, rate, report_rate))
            print(f"{row}: done", file=sys.stderr)
    names = [d.name for d in documents]
    head = [f"PDF text extraction compared (benchmarks/pdf_libraries.py), {dt.date.today().isoformat()}",
            f"CPU: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}; PDFs made with "
            f"fpdf2 {package_version('fpdf2', '?')} (DejaVu, embedded) and tests/pdfmaker.py (Helvetica)",
            "Versions: " + ", ".join(f"{d} {package_version(d, '?')} ({LICENCES[d]})" for d in
                                     ("pypdfium2", "pypdf", "pdfplumber", "pdfminer.six", "pymupdf")
                                     if installed({"pdfminer.six": "pdfminer"}.get(d, d))),
            "Documents: " + "; ".join(f"{d.name} ({d.notes})" for d in documents),
            f"Speed: all {total_pages} pages, and the 32-page report alone, median of {args.repeat} runs.",
            "", "Quality, F1 / order / phrases (1.000 is perfect; see the docstring):", "",
            "| library | " + " | ".join(names) + " | mean phrases |",
            "|---|" + "---|" * (len(names) + 1)]
    for row, _, per_doc, *_ in results:
        cells = [f"{per_doc[n].get('f1'):.3f} / {per_doc[n].get('order'):.3f} / {per_doc[n].get('phrases'):.3f}"
                 for n in names]
        mean = statistics.mean(per_doc[n].get("phrases") for n in names)
        head.append(f"| {row} | " + " | ".join(cells) + f" | {mean:.3f} |")
    head += ["", "| library | licence | pages/s (all) | pages/s (report) | vs pypdfium2 |", "|---|---|---|---|---|"]
    base = next((r[3] for r in results if r[1] == "pypdfium2"), None)
    for row, dist, _, rate, report_rate in results:
        ratio = f"{rate / base:.2f}x" if base else "-"
        head.append(f"| {row} | {LICENCES[dist]} | {rate:,.1f} | {report_rate:,.1f} | {ratio} |")
    text = "\n".join(head + ([""] + lines_out if lines_out else []))
    publish(text, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
