"""E-mail (.eml, one message; .mbox, one article per message): tips, newsletters, press releases.

The subject is the headline, the sender the author, the Date header the date. The body is the
plain-text part, else the HTML part read like any web page (ingest/html_text.py). Quoted
replies (lines opening with ">", and the "On ... wrote:" line above them) are kept apart from
the message's new text: they come after it in the article, marked (`Article.quote_start`), and
become passages of their own labelled as quoted and ranked below new text, so a tip's own words
are what a search finds first. Attachments in a format Archivist reads become articles of
their own, named after the message ("tips.eml#attachment-1/filing.pdf") and saying whose
attachment they are.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import mailbox
import re
import tempfile
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

from archivist.records import Article, Skipped

_QUOTE = re.compile(r"^\s*>")
# "On Mon, 6 Sep 2021 at 10:00, Jo Reporter <jo@example.org> wrote:" (also split over two lines).
_ATTRIBUTION = re.compile(r"^\s*On\b.{4,200}\bwrote:\s*$", re.IGNORECASE | re.DOTALL)
# The separator mail programs put above a forwarded or quoted original.
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}\s*$", re.IGNORECASE)

Reader = Callable[[Path, str, list[Skipped]], Iterator[Article]]


def read_eml(path: Path, rel: str, skipped: list[Skipped], readers: dict[str, Reader]) -> Iterator[Article]:
    with open(path, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    yield from message_articles(message, rel, skipped, readers)


def read_mbox(path: Path, rel: str, skipped: list[Skipped], readers: dict[str, Reader]) -> Iterator[Article]:
    """Every message of an mbox, each named by its Message-ID (stable when messages are added)."""
    box = mailbox.mbox(str(path), factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default),
                       create=False)
    try:
        for number, message in enumerate(box, start=1):
            if message is None:
                continue
            message_id = (message.get("Message-ID") or "").strip().strip("<>")
            where = f"{rel}#{message_id or number}"
            try:
                yield from message_articles(message, where, skipped, readers)
            except ValueError as error:  # UnreadableArticle: that message is reported, the rest read
                skipped.append(Skipped(where, str(error)))
    finally:
        box.close()


def message_articles(message: EmailMessage, rel: str, skipped: list[Skipped],
                     readers: dict[str, Reader]) -> Iterator[Article]:
    """The message as an article, then each readable attachment as its own."""
    from archivist.ingest.articles import UnreadableArticle, finish_article, html_article

    subject = " ".join(str(message.get("Subject") or "").split()) or None
    name, address = email.utils.parseaddr(str(message.get("From") or ""))
    meta = {"title": subject, "author": name or address or None, "date": _date(message.get("Date"))}
    body = message.get_body(preferencelist=("plain", "html"))
    html_body = message.get_body(preferencelist=("html",))
    if body is not None and html_body is not None and body is not html_body \
            and _plain_is_stub(body.get_content(), html_body.get_content()):
        body = html_body  # a newsletter's "view this in your browser" plain part: the article is the HTML
    if body is None:
        if not any(True for _ in message.iter_attachments()):
            raise UnreadableArticle("the message has no text body")
    elif body.get_content_type() == "text/html":
        yield html_article(rel, body.get_content(), meta, extraction="e-mail, HTML body")
    else:
        text, quote_start = apart_from_quotes(body.get_content())
        if text.strip():
            yield finish_article(rel, text, meta, quote_start=quote_start, extraction="e-mail, plain-text body"
                                 + ("; quoted reply kept apart" if quote_start else ""))
    yield from _attachments(message, rel, subject, skipped, readers)


# A plain-text part this short, beside an HTML part with many times more text, is a stub.
STUB_CHARS = 300
STUB_RATIO = 4


def _plain_is_stub(plain: str, html: str) -> bool:
    """Whether the plain alternative only points at the HTML one ("View this newsletter in your
    browser: ..."), measured by visible characters (tags and entities dropped, roughly)."""
    plain_chars = len(" ".join(plain.split()))
    html_chars = len(" ".join(re.sub(r"<[^>]+>|&[#\w]+;", " ", re.sub(r"(?is)<(script|style).*?</\1>", " ", html)).split()))
    return plain_chars < STUB_CHARS and html_chars > STUB_RATIO * max(plain_chars, 1)


def apart_from_quotes(text: str) -> tuple[str, int | None]:
    """The body with its quoted lines (and their attribution) moved after the new text, and
    where they start (None when nothing is quoted)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    quoted_at = [i for i, line in enumerate(lines) if _QUOTE.match(line)]
    original = next((i for i, line in enumerate(lines) if _ORIGINAL.match(line)), None)
    if not quoted_at and original is None:
        return text.strip("\n"), None
    new: list[str] = []
    quoted: list[str] = []
    in_original = False
    for i, line in enumerate(lines):
        if original is not None and i >= original:
            in_original = True
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if in_original or _QUOTE.match(line) or (_ATTRIBUTION.match(line) and _QUOTE.match(following)):
            quoted.append(_QUOTE.sub("", line, count=1).strip() if _QUOTE.match(line) else line.strip())
        else:
            new.append(line)
    head = "\n".join(new).strip("\n")
    tail = "\n".join(quoted).strip("\n")
    if not head.strip():  # all quoted (a forward with no note): the quote is the text
        return tail, None
    return f"{head}\n\n{tail}", len(head) + 2


def _attachments(message: EmailMessage, rel: str, subject: str | None, skipped: list[Skipped],
                 readers: dict[str, Reader]) -> Iterator[Article]:
    from archivist.ingest.articles import with_changes

    for number, part in enumerate(message.iter_attachments(), start=1):
        filename = Path(part.get_filename() or "").name  # never a path of the sender's choosing
        from archivist.ingest.articles import file_type

        reader = readers.get(file_type(Path(filename)))
        if not filename or reader is None:
            continue
        where = f"{rel}#attachment-{number}/{filename}"
        payload = part.get_payload(decode=True) or b""
        with tempfile.TemporaryDirectory() as folder:
            saved = Path(folder) / f"attachment{file_type(Path(filename))}"
            saved.write_bytes(payload)
            try:
                for article in reader(saved, where, skipped):
                    note = f"attachment of {rel}" + (f" ({subject})" if subject else "")
                    yield with_changes(article, extraction="; ".join(x for x in (note, article.extraction) if x))
            except ValueError as error:  # UnreadableArticle
                skipped.append(Skipped(where, str(error)))
            except Exception as error:  # a parser failing on one attachment must not lose the message
                skipped.append(Skipped(where, f"could not be parsed ({type(error).__name__})"))


def _date(value: object) -> str | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(str(value)).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None
