"""The formats a newsroom keeps beside PDFs (issue 16): Word, e-mail and mailboxes with their
attachments and quoted replies, and an old table-layout HTML page; each read with its metadata
and found by its own sentence."""

from __future__ import annotations

import datetime as dt
import mailbox
from email.message import EmailMessage

from conftest import DATA, write
from pdfmaker import text_pdf

from archivist.build.indexer import reindex
from archivist.ingest.articles import scan_archive
from archivist.query.search import Searcher


def word_document(path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Port Strike Notes"
    document.core_properties.author = "Sam Stringer"
    document.core_properties.created = dt.datetime(2021, 9, 6, 10, 0)
    document.add_heading("Dockers walk out", level=1)
    document.add_paragraph("Dockers at the northern terminal stopped work at noon over unpaid overtime.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Ships waiting offshore", "14"
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))


def tip_message() -> EmailMessage:
    message = EmailMessage()
    message["Subject"], message["From"] = "Tip: the mayor's car", "Jo Source <jo@example.org>"
    message["Date"], message["Message-ID"] = "Mon, 06 Sep 2021 10:00:00 +0000", "<tip-1@example.org>"
    message.set_content("The mayor's official car was seen outside the casino every Friday night.\n\n"
                        "On Sun, 5 Sep 2021, Desk <desk@paper.example> wrote:\n"
                        "> Do you have anything on the harbour contract?\n> We are asking everyone.\n")
    message.add_attachment(text_pdf([["Harbour contract annex",
                                      "The annex lists a payment of 40,000 to a dredging consultancy."]]),
                           maintype="application", subtype="pdf", filename="../../annex.pdf")
    return message


def newsletter_box(path) -> None:
    box = mailbox.mbox(str(path))
    for number in range(2):
        message = EmailMessage()
        message["Subject"], message["From"] = f"Ferry newsletter {number + 1}", "Ferry Desk <news@ferry.example>"
        message["Date"], message["Message-ID"] = f"Tue, 0{7 + number} Sep 2021 08:00:00 +0000", f"<n{number}@ferry>"
        message.set_content(["Winter ferry fares rise by three percent from November.",
                             "The night crossing to the island is cancelled for repairs."][number])
        box.add(message)
    box.close()


def test_word_email_mailbox_and_a_hard_html_page_are_read_with_their_metadata(tmp_path):
    archive = tmp_path / "archive"
    word_document(archive / "notes.docx")
    write(archive / "tip.eml", bytes(tip_message()))
    newsletter_box(archive / "ferry.mbox")
    write(archive / "mill.html", (DATA / "old_table_layout.html").read_text())
    write(archive / "broken.docx", b"PK but not a Word document")
    result = scan_archive(archive)
    articles = {a.path: a for a in result.articles}
    notes = articles["notes.docx"]
    assert (notes.title, notes.author, notes.date) == ("Port Strike Notes", "Sam Stringer", "2021-09-06")
    assert "Ships waiting offshore | 14" in notes.text
    tip = articles["tip.eml"]
    assert (tip.title, tip.author, tip.date) == ("Tip: the mayor's car", "Jo Source", "2021-09-06")
    assert tip.text.index("casino") < tip.quote_start <= tip.text.index("harbour contract")  # the reply kept apart
    annex = articles["tip.eml#attachment-1/annex.pdf"]  # a safe name, whatever the sender wrote
    assert annex.title == "Harbour contract annex" and annex.extraction.startswith("attachment of tip.eml")
    assert {articles[p].title for p in ("ferry.mbox#n0@ferry", "ferry.mbox#n1@ferry")} == {
        "Ferry newsletter 1", "Ferry newsletter 2"}
    assert articles["ferry.mbox#n1@ferry"].date == "2021-09-08"
    mill = articles["mill.html"]
    assert "paper mill on the river reopened" in mill.text and "recall setting" in mill.extraction
    assert [s.path for s in result.skipped] == ["broken.docx"]
    assert "not a readable Word document" in result.skipped[0].reason


def test_each_format_s_unique_sentence_is_found_and_quoted_text_ranks_below_new_text(tmp_path, real_embedder):
    archive = tmp_path / "archive"
    word_document(archive / "notes.docx")
    write(archive / "tip.eml", bytes(tip_message()))
    newsletter_box(archive / "ferry.mbox")
    write(archive / "mill.html", (DATA / "old_table_layout.html").read_text())
    reindex(archive, tmp_path / "index", embedder=real_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=real_embedder)
    expected = {"dockers stopped work over unpaid overtime": "notes.docx",
                "mayor's official car outside the casino": "tip.eml",
                "payment to a dredging consultancy": "tip.eml#attachment-1/annex.pdf",
                "night crossing cancelled for repairs": "ferry.mbox#n1@ferry",
                "paper mill reopened after the flood": "mill.html"}
    for query, path in expected.items():
        assert searcher.search(query, k=1).hits[0].article.path == path, query
    quoted = searcher.search("anything on the harbour contract", k=5).hits
    reply = next(h for h in quoted if h.article.path == "tip.eml")
    assert reply.kind == "quoted" and "harbour contract" in reply.passage


def test_a_newsletter_whose_plain_part_only_points_at_the_html_is_read_from_the_html(tmp_path):
    message = EmailMessage()
    message["Subject"], message["From"] = "Weekly brief", "Desk <desk@paper.example>"
    message["Date"] = "Mon, 06 Sep 2021 10:00:00 +0000"
    message.set_content("View this newsletter in your browser: https://paper.example/brief\n")
    story = ("The harbour board voted on Friday to sell the old grain silos to a property developer, "
             "ending a decade of arguments about their future. ") * 4
    message.add_alternative(f"<html><body><h1>Weekly brief</h1><p>{story}</p></body></html>", subtype="html")
    write(tmp_path / "archive" / "brief.eml", message.as_bytes())
    articles = scan_archive(tmp_path / "archive").articles
    assert len(articles) == 1 and "sell the old grain silos" in articles[0].text
    assert "HTML body" in (articles[0].extraction or "")
