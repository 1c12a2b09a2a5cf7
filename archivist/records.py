"""Typed records passed between modules; each carries its source so results can cite it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from archivist.ingest.words import query_terms


@dataclass(frozen=True)
class Article:
    """One article as read from the archive. `id` is stable across reindexes of the same file/record."""

    id: str
    path: str  # relative to the archive folder; for JSON Lines, "file.jsonl#<record id or line>"
    title: str
    outlet: str | None
    date: str | None  # ISO YYYY-MM-DD
    url: str | None
    author: str | None
    text: str
    sha256: str
    # Offset in `text` where the body starts (after a headline line that is also the title).
    body_start: int = 0
    place: str | None = None  # where it was filed from, e.g. a wire dateline's city
    # Where each page starts in `text` (PDFs), so a passage can say its page; empty for other formats.
    pages: tuple[int, ...] = ()
    # How it was read when that is more than a plain read: reader, OCR'd pages, pages without text.
    extraction: str | None = None
    # Where quoted text (an e-mail's quoted reply) starts in `text`: passages after it are marked quoted.
    quote_start: int | None = None
    # ISO 639-1 code of the language it is written in (ingest.language), None when it cannot be told.
    language: str | None = None


@dataclass(frozen=True)
class ArticleRef:
    """An article as results and stories name it: what a reader needs to cite and find it.

    The one shape of article metadata outside the index (hits, their `also_in` sources, story
    members); `to_json` is the `article` object of the CLI's JSON contract."""

    id: str
    path: str
    title: str
    outlet: str | None
    date: str | None  # ISO YYYY-MM-DD
    url: str | None
    place: str | None = None  # shown on cards; not in FIELDS, which the JSON contract fixes
    language: str | None = None  # ISO 639-1; cards say when it is not English (the model reads English)
    author: str | None = None  # for citing it (not in FIELDS either)

    FIELDS = ("id", "path", "title", "outlet", "date", "url")

    def to_json(self) -> dict:
        return {name: getattr(self, name) for name in self.FIELDS}

    def undated_last_key(self) -> tuple[str, str]:
        """Earliest date first, undated after every dated article, then by headline."""
        return (self.date or UNDATED, self.title)


# Sorts after every ISO date, so undated articles come last in "earliest first" orders.
UNDATED = "9999"


@dataclass(frozen=True)
class Chunk:
    """A passage: `text == article.text[start:end]`; `embed_text` is what the model sees."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str
    embed_text: str
    # The passage without clutter, as written (embed_text is the headline plus this with acronyms spelled out).
    clean_text: str = ""
    # What is keyword-indexed: the clean text with the acronyms it uses bare spelled out.
    keyword_text: str = ""
    # (start, end) in the article text of each sentence of the passage, clutter left out.
    sentences: tuple[tuple[int, int], ...] = ()
    # (start, end) of each of those sentences in embed_text: their vectors are pooled from the
    # passage's own token states there (see embedding.Embedder.encode_passages).
    sentence_embed_spans: tuple[tuple[int, int], ...] = ()
    # "text" for the article's own text, else the aside it is (ingest.clutter.ASIDE_KINDS).
    kind: str = "text"


@dataclass(frozen=True)
class Source:
    """An article that carries a passage, with where the passage sits in it."""

    article: ArticleRef
    passage: str
    start: int
    end: int
    similarity: float = 1.0
    # How this article relates to the result's article: "exact" copy, "near" copy or "rewrite".
    kind: str = "rewrite"

    def to_json(self) -> dict:
        out = self.article.to_json()
        out.update(kind=self.kind, passage=self.passage, start=self.start, end=self.end,
                   similarity=round(self.similarity, 4))
        return out


@dataclass
class Hit:
    """One search result: a passage, its article, and the other articles carrying the same passage."""

    rank: int
    score: float
    passage: str
    start: int
    end: int
    article: ArticleRef
    passage_id: int
    also_in: list[Source] = field(default_factory=list)
    # Per-retriever ranks (1-based) that produced this hit, for explaining the score.
    ranks: dict[str, int] = field(default_factory=dict)
    # Offsets in the article text of the sentence that best answers the query (page highlight).
    highlight: tuple[int, int] | None = None
    # The query's content words, lowercase, for marking them in the passage.
    terms: list[str] = field(default_factory=list)
    # A neighbouring passage of the same article shown as part of this one (see grouping.group_hits).
    joined_passage_ids: list[int] = field(default_factory=list)
    # One card per article: how many more of its passages matched (None outside that view).
    more_in_article: int | None = None
    # ... and those passages, best first, as (start, end, text) in the article (not in the JSON).
    more_passages: list[tuple[int, int, str]] = field(default_factory=list)
    # How strongly the passage answers the query, 0 to 1 on a calibrated scale (query.relevance),
    # and the evidence it was computed from (cosine, word coverage).
    relevance: float | None = None
    evidence: dict[str, float] = field(default_factory=dict)
    # "text", or the aside the passage is ("caption", "keywords", "link"): the card says which.
    kind: str = "text"
    pages: tuple[int, int] | None = None  # the passage's first and last page (PDFs), for citing it

    @property
    def page_label(self) -> str | None:
        """ "page 3" or "pages 3-4" for a passage of a paged document, else None."""
        if self.pages is None:
            return None
        first, last = self.pages
        return f"page {first}" if first == last else f"pages {first}\u2013{last}"

    def to_json(self) -> dict:
        out = {
            "rank": self.rank,
            "score": round(self.score, 6),
            "passage": self.passage,
            "start": self.start,
            "end": self.end,
            "article": self.article.to_json(),
            "also_in": [s.to_json() for s in self.also_in],
        }
        if self.relevance is not None:
            out["relevance"] = round(self.relevance, 3)
        if self.more_in_article is not None:
            out["more_in_article"] = self.more_in_article
        if self.kind != "text":  # an aside: a caption, a photo keyword line or a link to another story
            out["kind"] = self.kind
        if self.article.language and self.article.language != "en":  # the meaning side reads English only
            out["language"] = self.article.language
        if self.pages is not None:  # where to find it in the document: its first (and last) page
            out["page"] = self.pages[0]
            if self.pages[1] != self.pages[0]:
                out["last_page"] = self.pages[1]
        return out


@dataclass(frozen=True)
class Passage:
    """A stored passage as search reads it: its article, its place there and its text."""

    id: int
    article: ArticleRef
    start: int
    end: int
    text: str  # article.text[start:end]
    kind: str = "text"  # or an aside: "caption", "keywords", "link" (ingest.clutter)
    pages: tuple[int, int] | None = None  # its first and last page, for articles read from pages (PDF)


@dataclass(frozen=True)
class Filters:
    """Which articles a search may return; checked (see filters.check_filters) before any
    index compiles them into its own query language."""

    outlets: tuple[str, ...] = ()
    since: str | None = None  # ISO dates, inclusive
    until: str | None = None
    include_undated: bool = True
    unknown_outlet: bool = False  # with `outlets`, also articles whose outlet is not known; alone, only those
    author: str | None = None  # the author's name contains this (any case)
    languages: tuple[str, ...] = ()  # ISO 639-1 codes; UNKNOWN_LANGUAGE for articles whose language is not known
    # Only articles naming this person, organisation or place: its keys, once merges apply (query.entity_names).
    entity_keys: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.outlets or self.unknown_outlet or self.author or self.since or self.until
                    or not self.include_undated or self.languages or self.entity_keys)


# How filters, the page and the API name the articles that have no outlet.
UNKNOWN_OUTLET = "(unknown outlet)"
# ... and the articles whose language could not be told (too short, or a table of figures).
UNKNOWN_LANGUAGE = "unknown"


NO_FILTERS = Filters()


@dataclass(frozen=True)
class Skipped:
    """A file (or record) that could not be read, and why; reported, never fatal. With `partial`,
    the article was indexed but read only in part (a scan's pages without OCR, say)."""

    path: str
    reason: str
    partial: bool = False

    def line(self) -> str:
        """ "skipped a.pdf: why" or "read in part b.pdf: why", as reports list it."""
        return f"{'read in part' if self.partial else 'skipped'} {self.path}: {self.reason}"

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StoryMember:
    """An article of a story and its strongest relation to the rest of the group."""

    article: ArticleRef
    kind: str  # "exact", "near" or "rewrite"

    def to_json(self) -> dict:
        return {**self.article.to_json(), "kind": self.kind}


@dataclass(frozen=True)
class Story:
    """A group of articles telling the same story, earliest first."""

    id: int
    kind: str
    members: list[StoryMember]

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "members": [m.to_json() for m in self.members]}


@dataclass(frozen=True)
class Unit:
    """One required thing in Keyword mode: a word, a prefix, or alternatives (any one will do)."""

    words: tuple[str, ...]  # one word, or the alternatives of an OR group
    prefix: bool = False


@dataclass
class ParsedQuery:
    """A query split into what ranks, what is required and what is excluded."""

    raw: str
    text: str  # what the model embeds: the words and phrases, operators and excluded words left out
    units: list[Unit] = field(default_factory=list)  # plain words, prefixes and OR groups, in order
    phrases: list[tuple[str, ...]] = field(default_factory=list)  # required, each at least two words
    excluded: list[tuple[str, ...]] = field(default_factory=list)  # words or phrases no result may hold

    @property
    def constrained(self) -> bool:
        """Whether a result must hold a phrase or must not hold a word, whatever the mode."""
        return bool(self.phrases or self.excluded)

    @property
    def terms(self) -> list[str]:
        """Content words to rank and mark by: the plain words and the phrases' words."""
        return query_terms(self.text)
