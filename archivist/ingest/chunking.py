"""Split an article into passages of whole sentences that fit the model, with offsets into the text.

Passages are about 100-200 words, end at paragraph breaks when they can, overlap by one
sentence so an answer straddling a boundary is whole in one of them, and never exceed the
model's token limit together with the headline (which is embedded with every passage).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from archivist.ingest.acronyms import addition, defined_acronyms, spell_out, spell_out_with_insertions
from archivist.config import MODEL_MAX_TOKENS
from archivist.ingest.clutter import (CAPTION, KEYWORDS, LINK, QUOTED, TEXT, inline_clutter_spans, is_clutter_line,
                                     is_footer_line, is_keyword_line, is_link_line, link_headline)
from archivist.records import Article, Chunk
from archivist.ingest.sentences import sentence_spans

TokenCounter = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class ChunkingSettings:
    """Recorded in the manifest: changing any of them means passages must be rebuilt."""

    min_words: int = 100
    max_words: int = 200
    max_tokens: int = 256
    overlap_sentences: int = 1
    # A headline longer than this is shortened where it is embedded, so it never crowds out the passage.
    max_title_tokens: int = 48
    # Raised when the splitting rules change with no setting changed, so older indexes re-split
    # (2: the overlap counts real sentences, not clutter; 3: acronyms spelled out for the model;
    # 4: sentence vectors pooled from the passage's token states, so every passage is embedded again;
    # 5: captions, keyword lines and links to other stories become aside passages).
    rules: int = 5

    def as_dict(self) -> dict:
        return {"min_words": self.min_words, "max_words": self.max_words,
                "max_tokens": self.max_tokens, "overlap_sentences": self.overlap_sentences,
                "max_title_tokens": self.max_title_tokens, "rules": self.rules}


# The settings every reindex splits with (part of the build's settings record).
CHUNKING = ChunkingSettings(max_tokens=MODEL_MAX_TOKENS)


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of an over-long one) with its place in the article."""

    start: int
    end: int
    paragraph: int
    segment: int  # runs of text between clutter lines; passages never cross a segment
    words: int
    tokens: int
    clutter: bool


def embed_text(title: str, clean_text: str) -> str:
    """What the model sees for a passage: the headline gives every passage its story's context."""
    return f"{title}\n{clean_text}" if title else clean_text


def chunk_article(article: Article, count_tokens: TokenCounter,
                  settings: ChunkingSettings = ChunkingSettings()) -> list[Chunk]:
    """Passages of `article`, in order, then its asides (a caption, a keyword line, a link to
    another story: each a passage of its own, marked by `kind`); clutter never appears in a
    passage of the article's text."""
    title, title_tokens = _shortened_title(article.title, count_tokens, settings.max_title_tokens)
    # [CLS] + title + [SEP] + passage + [SEP]: leave room for the special tokens.
    budget = max(32, settings.max_tokens - title_tokens - 3)
    # An e-mail's quoted reply (after `quote_start`) is split like text but marked as quoted.
    own_end = article.quote_start or len(article.text)
    units, asides = _units(article.text[:own_end], article.body_start, count_tokens, budget)
    # Definitions come from the text that is embedded: never from captions, footers or comments.
    acronyms = _Acronyms.of(" ".join(article.text[u.start:u.end] for u in units if not u.clutter), count_tokens)
    chunks: list[Chunk] = []
    for segment in _group(units, lambda u: u.segment):
        for piece in _assemble(segment, budget, settings):
            chunk = _make_chunk(article, title, piece, len(chunks), acronyms, budget)
            if chunk is not None:
                chunks.append(chunk)
    if article.quote_start:
        quoted, _ = _units(article.text, article.quote_start, count_tokens, budget)
        for segment in _group(quoted, lambda u: u.segment):
            for piece in _assemble(segment, budget, settings):
                chunk = _make_chunk(article, title, piece, len(chunks), acronyms, budget, QUOTED)
                if chunk is not None:
                    chunks.append(chunk)
    for start, end, kind in asides:
        chunk = _aside_chunk(article, title, start, end, kind, len(chunks), acronyms)
        if chunk is not None:
            chunks.append(chunk)
    return chunks


def _aside_chunk(article: Article, title: str, start: int, end: int, kind: str, ordinal: int,
                 acronyms: "_Acronyms") -> Chunk | None:
    """An aside as a passage of its own: its words indexed without their label. A caption is
    embedded under the headline like the text (it shows the story's photo); a link is another
    story's headline, embedded alone."""
    raw = article.text[start:end]
    start, end = start + len(raw) - len(raw.lstrip()), end - (len(raw) - len(raw.rstrip()))
    clean = " ".join(article.text[start:end].split())
    if kind == LINK:
        clean = link_headline(clean)  # the label is not indexed
    if len(clean.split()) < 2:
        return None
    model_text = clean if kind == LINK else embed_text(title, clean)
    return Chunk(article_id=article.id, ordinal=ordinal, start=start, end=end, text=article.text[start:end],
                 embed_text=model_text, clean_text=clean, keyword_text=acronyms.spelled_out(clean),
                 sentences=((start, end),), sentence_embed_spans=((len(model_text) - len(clean), len(model_text)),),
                 kind=kind)


def _units(text: str, body_start: int, count_tokens: TokenCounter, budget: int
           ) -> tuple[list[_Unit], list[tuple[int, int, str]]]:
    """Sentences of the body with paragraph and segment numbers (clutter lines end a segment),
    and the asides among the clutter as (start, end, kind)."""
    spans: list[tuple[int, int, int, int, bool]] = []
    asides: list[tuple[int, int, str]] = []
    paragraph, segment = 0, 0
    previous_keywords = False
    for line_start, line_end in _logical_lines(text, body_start):
        line = text[line_start:line_end]
        if not line.strip():
            continue
        if is_footer_line(line):
            break
        if previous_keywords or is_clutter_line(line):
            # A photo keyword line is followed by the photo's caption: both are clutter, and
            # together one caption aside.
            if previous_keywords:
                asides[-1] = (asides[-1][0], line_end, CAPTION)
            elif is_keyword_line(line):
                asides.append((line_start, line_end, KEYWORDS))
            elif is_link_line(line):
                asides.append((line_start, line_end, LINK))
            previous_keywords = is_keyword_line(line) and not previous_keywords
            segment += 1
            continue
        previous_keywords = False
        # A line is its own paragraph: scraped text often uses single newlines between paragraphs.
        paragraph += 1
        spans.extend((start, end, paragraph, segment, clutter)
                     for start, end, clutter in _line_units(text, line_start, line_end))
    asides.extend((start, end, LINK) for start, end, _, _, clutter in spans if clutter)  # inline teasers
    asides.sort()
    tokens = count_tokens([text[s:e] for s, e, *_ in spans]) if spans else []
    units: list[_Unit] = []
    for (start, end, par, seg, clutter), n_tokens in zip(spans, tokens):
        if n_tokens > budget:
            units.extend(_split_long(text, start, end, par, seg, clutter, count_tokens, budget))
        else:
            units.append(_Unit(start, end, par, seg, len(text[start:end].split()), n_tokens, clutter))
    return units, asides


def _logical_lines(text: str, body_start: int) -> list[tuple[int, int]]:
    """Lines of the body, with the lines of a hard-wrapped paragraph joined into one.

    Newswire text is wrapped at ~70 columns, with paragraphs marked by indentation or a blank
    line; there a newline followed by more text of the same paragraph is just a space.
    """
    lines: list[tuple[int, int]] = []
    offset = body_start
    for line in text[body_start:].split("\n"):
        lines.append((offset, offset + len(line)))
        offset += len(line) + 1
    if not _is_hard_wrapped([text[s:e] for s, e in lines]):
        return lines
    joined: list[tuple[int, int]] = []
    for start, end in lines:
        line = text[start:end]
        continues = (joined and line.strip() and not line[0].isspace()
                     and text[joined[-1][0]:joined[-1][1]].strip())
        if continues:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _is_hard_wrapped(lines: list[str]) -> bool:
    """Most non-empty lines short and not ending a sentence: the text was wrapped at a fixed width."""
    content = [line.rstrip() for line in lines if line.strip()]
    if len(content) < 2 or max(len(line) for line in content) > 100:
        return False
    open_ended = sum(1 for line in content if not line.endswith((".", "!", "?", '"', "”", "’", ":", ")")))
    return open_ended >= 0.5 * len(content)


def _line_units(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """Sentences of one (logical) line, with inline teasers kept whole as clutter units."""
    units: list[tuple[int, int, bool]] = []
    split_lines = "\n" not in text[start:end]
    cursor = start
    for clutter_start, clutter_end in inline_clutter_spans(text, start, end):
        units.extend((s, e, False) for s, e in sentence_spans(text, cursor, clutter_start, split_lines))
        units.append((clutter_start, clutter_end, True))
        cursor = clutter_end
    units.extend((s, e, False) for s, e in sentence_spans(text, cursor, end, split_lines))
    return units


def _split_long(text: str, start: int, end: int, paragraph: int, segment: int, clutter: bool,
                count_tokens: TokenCounter, budget: int) -> list[_Unit]:
    """A sentence longer than the model's window is cut at word boundaries into pieces that fit."""
    words: list[tuple[int, int]] = []
    cursor = start
    for word in text[start:end].split():
        at = text.index(word, cursor)
        words.append((at, at + len(word)))
        cursor = at + len(word)
    counts = count_tokens([text[s:e] for s, e in words])
    pieces: list[_Unit] = []
    piece_start, piece_tokens, piece_words = 0, 0, 0
    for i, n in enumerate(counts):
        if piece_words and piece_tokens + n > budget:
            pieces.append(_Unit(words[piece_start][0], words[i - 1][1], paragraph, segment,
                                piece_words, piece_tokens, clutter))
            piece_start, piece_tokens, piece_words = i, 0, 0
        piece_tokens += n
        piece_words += 1
    pieces.append(_Unit(words[piece_start][0], words[-1][1], paragraph, segment,
                        piece_words, piece_tokens, clutter))
    return pieces


def _assemble(units: list[_Unit], budget: int, settings: ChunkingSettings) -> list[list[_Unit]]:
    """Greedy packing: stop at max words or tokens, or at a paragraph end once min words is reached."""
    pieces: list[list[_Unit]] = []
    i, n = 0, len(units)
    while i < n:
        j, words, tokens = i, 0, 0
        while j < n:
            unit = units[j]
            if j > i and not unit.clutter and (tokens + unit.tokens > budget
                                               or words + unit.words > settings.max_words):
                break
            j += 1
            if not unit.clutter:
                words += unit.words
                tokens += unit.tokens
            if words >= settings.max_words:
                break
            if words >= settings.min_words and (j == n or units[j].paragraph != unit.paragraph):
                break
        pieces.append(units[i:j])
        if j >= n:
            break
        i = max(_overlap_start(units, i, j, settings.overlap_sentences), i + 1)
    return pieces


def _overlap_start(units: list[_Unit], first: int, end: int, overlap: int) -> int:
    """Where the next passage starts: `overlap` real sentences before `end`.

    Clutter units (an inline "(RELATED: ...)" teaser) are never shown, so counting them would
    carry nothing over: a passage ending "...Waltz spoke to the importance of supporting our
    allies. (RELATED: ...)" must hand that sentence on to the passage holding his quote."""
    start, kept = end, 0
    while start > first and kept < overlap:
        start -= 1
        kept += not units[start].clutter
    return start


def _shortened_title(title: str, count_tokens: TokenCounter, max_tokens: int) -> tuple[str, int]:
    """The headline cut at a word so it fits `max_tokens` word pieces (at least its first word),
    and its word-piece count."""
    if not title:
        return title, 0
    tokens = count_tokens([title])[0]
    if tokens <= max_tokens:
        return title, tokens
    words = title.split()
    # Pieces never decrease as words are added, so the longest prefix that fits is found by
    # halving: a 3,000-word "headline" took 6.5 s when every prefix was counted.
    fits, too_long = 1, len(words)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if count_tokens([" ".join(words[:middle])])[0] <= max_tokens:
            fits = middle
        else:
            too_long = middle
    shortened = " ".join(words[:fits])
    return shortened, count_tokens([shortened])[0]


@dataclass(frozen=True)
class _Acronyms:
    """An article's acronyms and the tokens each spelling-out costs."""

    defined: dict[str, str]
    costs: dict[str, int]

    @classmethod
    def of(cls, text: str, count_tokens: TokenCounter) -> "_Acronyms":
        defined = defined_acronyms(text)
        return cls(defined, dict(zip(defined, count_tokens([addition(long) for long in defined.values()]))))

    def spelled_out(self, text: str) -> str:
        """`text` with the acronyms it uses bare spelled out, however long it gets (keyword index)."""
        return spell_out(text, self.defined)

    def spelled_out_within(self, text: str, room: int) -> tuple[str, list[tuple[int, int]]]:
        """The same within `room` tokens (what the model sees must fit it), with the insertions."""
        return spell_out_with_insertions(text, self.defined, self.costs, room)


def _make_chunk(article: Article, title: str, piece: list[_Unit], ordinal: int,
                acronyms: _Acronyms, budget: int, kind: str = TEXT) -> Chunk | None:
    """A passage never starts or ends on clutter; all-clutter pieces are dropped. Acronyms are
    spelled out for the model only in the tokens a passage leaves free, so they never change
    where passages split nor push words past the model's limit."""
    content = [u for u in piece if not u.clutter]
    if not content:
        return None
    start, end = content[0].start, content[-1].end
    clean = " ".join(article.text[u.start:u.end] for u in content)
    spelled, insertions = acronyms.spelled_out_within(clean, budget - sum(u.tokens for u in content))
    model_text = embed_text(title, spelled)
    return Chunk(article_id=article.id, ordinal=ordinal, start=start, end=end,
                 text=article.text[start:end], embed_text=model_text,
                 clean_text=clean, keyword_text=acronyms.spelled_out(clean),
                 sentences=tuple((u.start, u.end) for u in content),
                 sentence_embed_spans=_spans_in_embed_text(content, insertions, len(model_text) - len(spelled)),
                 kind=kind)


def _spans_in_embed_text(content: list[_Unit], insertions: list[tuple[int, int]],
                         offset: int) -> tuple[tuple[int, int], ...]:
    """Where each sentence lies in the embedded text: the clean text joins them with one space,
    each addition after an acronym belongs to the sentence it follows, and the headline comes first."""
    spans: list[tuple[int, int]] = []
    position = 0
    for unit in content:
        start, end = position, position + unit.end - unit.start
        position = end + 1
        spans.append((start, end))
    def shifted(at: int, inclusive: bool) -> int:
        return offset + at + sum(length for where, length in insertions
                                 if where < at or (inclusive and where == at))
    return tuple((shifted(start, False), shifted(end, True)) for start, end in spans)


def _group(units: list[_Unit], key: Callable[[_Unit], int]) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    for unit in units:
        if groups and key(groups[-1][-1]) == key(unit):
            groups[-1].append(unit)
        else:
            groups.append([unit])
    return groups
