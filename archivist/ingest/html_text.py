"""The main text of an HTML page (a saved article, an e-mail's HTML body, a web archive capture).

trafilatura's precision setting drops menus, share bars and comment threads from a news page,
and on an old table layout it can also drop the article itself. Such a page is tried again
with its recall setting and then with its baseline extractor (the largest text blocks of the
page) before it is refused, and the article says which read it (`how`), so a reader knows the
text may hold some page furniture.
"""

from __future__ import annotations

from dataclasses import dataclass

# Fewer characters than this is no article: a cookie notice, a title alone.
MIN_TEXT_CHARS = 40


@dataclass(frozen=True)
class HtmlText:
    text: str
    meta: dict  # title, outlet (site name), date, url, author
    how: str | None  # None for the precise read; else the fallback that found the text


def extract_html(html: str) -> HtmlText | None:
    """The page's main text and metadata, or None when no setting finds an article in it."""
    import trafilatura

    meta: dict = {}
    for how, options in ((None, {"favor_precision": True}),
                         ("HTML read with trafilatura's recall setting (the precise one found no text)",
                          {"favor_recall": True})):
        document = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False,
                                               include_tables=False, **options)
        if document is None:
            continue
        data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
        meta = meta or {"title": data.get("title"), "outlet": data.get("sitename"), "date": data.get("date"),
                        "url": data.get("url"), "author": data.get("author")}
        text = (data.get("text") or "").strip()
        if len(text) >= MIN_TEXT_CHARS:
            return HtmlText(text, meta, how)
    try:
        _, text, _ = trafilatura.baseline(html)
    except Exception:  # the baseline parser failing on odd markup is one more "no text"
        return None
    text = (text or "").strip()
    if len(text) < MIN_TEXT_CHARS:
        return None
    return HtmlText(text, meta, "HTML read with trafilatura's baseline extractor (the largest text blocks; "
                                "menus may remain)")
