"""One build's changes to the text tables: diff the archive against them, split what is new,
embed only what the cache lacks, and write articles, passages, sentences and keywords.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

from archivist.ingest import chunking

from archivist.storage import copy_table, text_tables
from archivist.storage.cache import EmbeddingCache, sentence_key, text_key
from archivist.model.embedding import Embedder
from archivist.ingest.language import ENGLISH, detect_language
from archivist.storage.keyword_index import LanguageSplitKeywordIndex
from archivist.progress import Progress
from archivist.records import Article, Chunk
from archivist.model.tokens import token_counter


@dataclass
class ChangeCounts:
    """How many articles a build added, updated, removed and kept, and passages it embedded."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    passages_embedded: int = 0

    def count_from(self, other: "ChangeCounts") -> None:
        for count in fields(ChangeCounts):
            setattr(self, count.name, getattr(other, count.name))


@dataclass
class Changes(ChangeCounts):
    """What a build changed in the text tables, with the new rows' ids."""

    new_passage_ids: list[int] = field(default_factory=list)
    new_article_ids: list[str] = field(default_factory=list)


def apply_changes(connection: sqlite3.Connection, articles: list[Article], resplit: bool,
                  progress: Progress, embedder: Embedder, cache: EmbeddingCache,
                  pause: Callable[[], None] | None = None) -> Changes:
    """Delete gone and changed articles, insert new ones with their passages and embeddings.

    With `resplit` (other settings than the live build's) every article is split and written again."""
    existing = text_tables.article_hashes(connection)
    existing_for_diff = {} if resplit else existing
    current = {a.id for a in articles}
    # Only what is written has its language told: detection (about 2 ms an article) is not paid
    # again for every unchanged article of every reindex.
    to_write = [with_language(a) for a in articles if existing_for_diff.get(a.id) != a.sha256]
    changes = Changes(added=sum(1 for a in to_write if a.id not in existing))
    changes.updated = len(to_write) - changes.added
    changes.unchanged = len(articles) - len(to_write)
    gone = [i for i in existing if i not in current]
    changes.removed = len(gone)
    changes.new_article_ids = [a.id for a in to_write]
    delete_articles(connection, gone + [a.id for a in to_write if a.id in existing])

    chunks = _split(to_write, token_counter(embedder.model_path), progress)
    keys = [text_key(c.embed_text) for _, c in chunks]
    sentence_keys = [[sentence_key(k, span) for span in c.sentence_embed_spans] for k, (_, c) in zip(keys, chunks)]
    changes.passages_embedded = _embed_missing(chunks, keys, sentence_keys, progress, embedder, cache, pause)
    progress("writing", 0, len(to_write))
    text_tables.insert_articles(connection, to_write)
    keyword_rows = []
    other_languages: set[int] = set()  # keyword-indexed without English stemming
    for (article, chunk), key, chunk_sentence_keys in zip(chunks, keys, sentence_keys):
        passage_id = text_tables.insert_passage(connection, chunk, key, chunk_sentence_keys)
        changes.new_passage_ids.append(passage_id)
        if article.language not in (None, ENGLISH):
            other_languages.add(passage_id)
        # An aside is found by its own words, not by the headline of the article that printed it.
        keyword_rows.append((passage_id, article.title if chunk.kind == "text" else "", chunk.keyword_text))
    LanguageSplitKeywordIndex(connection).add(keyword_rows, other_languages)
    progress("writing", len(to_write), len(to_write))
    return changes


def with_language(article: Article) -> Article:
    """The article with its language: as its record or metadata.csv states it, else detected.
    Not part of its content hash: the text it is detected from is."""
    if article.language is not None:
        return article
    return replace(article, language=detect_language(article.text[article.body_start:]))


def delete_articles(connection: sqlite3.Connection, article_ids: list[str]) -> None:
    """Articles with everything stored of them, keyword rows and copy pairs included."""
    passage_ids = text_tables.passage_ids_of_articles(connection, article_ids)
    LanguageSplitKeywordIndex(connection).remove(passage_ids)
    copy_table.remove(connection, passage_ids)
    text_tables.delete_articles(connection, article_ids)


def _split(articles: list[Article], count_tokens, progress: Progress) -> list[tuple[Article, Chunk]]:
    chunks: list[tuple[Article, Chunk]] = []
    progress("splitting", 0, len(articles))
    for done, article in enumerate(articles, start=1):
        chunks.extend((article, c) for c in chunking.chunk_article(article, count_tokens, chunking.CHUNKING))
        if done % 500 == 0 or done == len(articles):
            progress("splitting", done, len(articles))
    return chunks


def _embed_missing(chunks: list[tuple[Article, Chunk]], keys: list[str], sentence_keys: list[list[str]],
                   progress: Progress, embedder: Embedder, cache: EmbeddingCache,
                   pause: Callable[[], None] | None = None) -> int:
    """Embed the passages whose vector or any of whose sentences' vectors the cache lacks (they
    come from the same model pass); returns how many passages went through the model."""
    missing = cache.missing({*keys, *(k for group in sentence_keys for k in group)})
    # One text can be split into sentences differently in two articles (a line break in one, a
    # space in the other): its pass pools every span either needs. {passage key: (text, {span: key})}
    pending: dict[str, tuple[str, dict[tuple[int, int], str]]] = {}
    for key, (_, chunk), group in zip(keys, chunks, sentence_keys):
        if key in missing or missing.intersection(group):
            pending.setdefault(key, (chunk.embed_text, {}))[1].update(zip(chunk.sentence_embed_spans, group))
    if not pending:
        return 0
    order = list(pending)
    progress("embedding", 0, len(order))
    matrix, sentence_vectors = embedder.encode_passages(
        [pending[k][0] for k in order], [list(pending[k][1]) for k in order],
        progress=lambda done, total: progress("embedding", done, total), pause=pause)
    rows = list(zip(order, matrix))
    rows.extend(pair for k, group_vectors in zip(order, sentence_vectors)
                for pair in zip(pending[k][1].values(), group_vectors))
    cache.put(rows)
    return len(pending)
