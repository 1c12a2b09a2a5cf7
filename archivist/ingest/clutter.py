"""Recognise page clutter in scraped articles (captions, "Font Size:", "RELATED:" links, comment forms).

Clutter stays in the article text (the reader sees the article as saved) and never enters a
passage of the article's own text. Three kinds of it are still something a reader remembers and
searches for, so they become passages of their own, marked as what they are and ranked below
text that answers as well (`ASIDE_KINDS`; see chunking.py and query/retrieval.py): a photo's
caption (with its keyword line), a photo keyword line alone, and a teaser linking to another
story ("(RELATED: ...)"). Page furniture ("Font Size:", bylines, comment forms) is never indexed.
"""

from __future__ import annotations

import re

# Whole lines that are page furniture, not reporting.
_LINE_PATTERNS = [
    r"font size:?",
    r"(photo|image|picture|credit|credits|source|getty images|file photo)\s*:.*",
    r"source link",
    r"about (the )?author",
    r"leave a (reply|comment)",
    r"your email address will not be published.*",
    r"required fields are marked.*",
    r"(more at|read more|see also|related|advertisement|share this|click here)\b.*",
    r"(sign up|subscribe)\b.*newsletter.*",
    r"(comments?|\d+ comments?)",
    r"[\w .'-]{2,40}\s+(contributor|staff writer|reporter|correspondent)",
    r"by [\w .'-]{2,40}",
    r"posted (on|in) .*",
    r"tags?:.*",
]
_LINE_RE = re.compile(r"^\s*(?:" + "|".join(_LINE_PATTERNS) + r")\s*$", re.IGNORECASE)
# Inline link teasers such as "(RELATED: We Left Hundreds Of Americans Behind ...)".
_INLINE_RE = re.compile(r"\((?:RELATED|READ MORE|SEE ALSO|WATCH)\s*:[^()]*\)", re.IGNORECASE)
# Lines after which a scraped page has only footer: share links, author box, comment form.
_FOOTER_RE = re.compile(r"^\s*(?:source link|more at:?|leave a (?:reply|comment)|about (?:the )?author|"
                        r"related (?:articles|posts|stories):?|comments)\s*$", re.IGNORECASE)
# Photo keyword lines: "Anti, Taliban, resistance, fighter, Afghanistan, Panjshir".
# What an aside passage is, as cards and the JSON name it ("text" is the article's own text).
TEXT, CAPTION, KEYWORDS, LINK, QUOTED = "text", "caption", "keywords", "link", "quoted"
ASIDE_KINDS = (CAPTION, KEYWORDS, LINK, QUOTED)  # QUOTED: an e-mail's quoted reply (ingest/mail.py)
# How a card names an aside, so a reader never takes it for the article's reporting.
ASIDE_LABELS = {CAPTION: "Photo caption in this article", KEYWORDS: "Photo keywords in this article",
                LINK: "Link to another story, printed in this article",
                QUOTED: "Quoted from an earlier message"}
# A whole line that links to another story: "RELATED: Afghan Vice President Says ...".
_LINK_LINE_RE = re.compile(r"^\s*(?:related|read more|see also)\s*:\s*\S+(?:\s+\S+){2,}", re.IGNORECASE)
# The label opening a teaser, inline or on its own line: "(RELATED: ", "READ MORE: ".
_LINK_LABEL = re.compile(r"^\(?\s*(?:related|read more|see also|watch)\s*:\s*", re.IGNORECASE)
_KEYWORD_LINE_RE = re.compile(r"^\s*[\w'’.-]+(?:\s[\w'’.-]+)?(?:,\s*[\w'’.-]+(?:\s[\w'’.-]+)?){3,}\s*$")


def is_clutter_line(line: str) -> bool:
    """True for a whole line of page furniture (matches a known pattern or is a photo keyword list)."""
    stripped = line.strip()
    if not stripped:
        return False
    return bool(_LINE_RE.match(stripped) or _KEYWORD_LINE_RE.match(stripped))


def is_keyword_line(line: str) -> bool:
    """A photo keyword list; the line after it is the photo's caption."""
    return bool(_KEYWORD_LINE_RE.match(line.strip()))


def is_link_line(line: str) -> bool:
    """A whole line teasing another story, with at least three words of its headline."""
    return bool(_LINK_LINE_RE.match(line))


def link_headline(teaser: str) -> str:
    """The other story's headline in a link teaser: "(RELATED: Mayor Resigns)" -> "Mayor Resigns"."""
    return _LINK_LABEL.sub("", teaser).removesuffix(")").strip()


def is_footer_line(line: str) -> bool:
    """True for a line that starts a page footer: nothing after it is reporting."""
    return bool(_FOOTER_RE.match(line))


def inline_clutter_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of inline teasers, e.g. "(RELATED: ...)" links, inside text[start:end]."""
    return [m.span() for m in _INLINE_RE.finditer(text, start, end)]
