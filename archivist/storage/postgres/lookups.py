"""What a search reads of one PostgreSQL generation besides its two ranked lists.

Grouping asks for passages with their article, the articles of candidate passages, each
passage's copies and how two articles of one story relate (the `grouping.Lookups` verbs the
embedded `browse.IndexLookups` answers from SQLite); the best-sentence mark asks for the stored
sentence vectors of a hit. Every statement reads the live generation's partitions only, and each
ends its transaction at once, so a reader never holds a snapshot across searches.
"""

from __future__ import annotations

import numpy as np

from archivist.build import stories
from archivist.records import ArticleRef, Passage
from archivist.storage.postgres.generations import partition
from archivist.storage.postgres.schema import DIMENSION
from archivist.storage.text_tables import pages_of

_ARTICLE_COLUMNS = ("id", "path", "title", "outlet", "date", "url", "place", "language", "author")


# Passages (with their copy lists) kept from earlier reads of this generation, which never
# changes once published; past this many the memo starts again, so memory stays bounded.
MEMO_LIMIT = 20_000


class PgLookups:
    """The reads grouping and highlighting make, over one generation.

    Grouping asks for the articles of the next 64 candidates at once (`articles_of`), then for
    each candidate it keeps, its passage and copies, and for each copy its passage. Over a
    network each of those is a round trip, so `articles_of` reads the chunk's passages, their
    copy lists and the copies' passages in three statements and keeps them; the single reads
    are then answered from memory."""

    def __init__(self, connection, generation: int) -> None:
        self.connection = connection
        self.tables = {name: partition(name, generation) for name in
                       ("articles", "passages", "sentences", "copies", "story_members", "relations")}
        self._passages: dict[int, Passage | None] = {}
        self._copies: dict[int, dict[int, float]] = {}

    def _rows(self, statement: str, params: tuple | dict = ()) -> list[tuple]:
        rows = self.connection.execute(statement.format(**self.tables), params).fetchall()
        self.connection.commit()
        return rows

    def passage(self, passage_id: int) -> Passage | None:
        pid = int(passage_id)
        return self._passages[pid] if pid in self._passages else self._read_passages([pid])[pid]

    def _read_passages(self, passage_ids: list[int]) -> dict[int, Passage | None]:
        """{id: passage, None where the generation has none}, remembered."""
        found: dict[int, Passage | None] = dict.fromkeys(passage_ids)
        found.update(self.passages(passage_ids))
        self._passages.update(found)
        return found

    def passages(self, passage_ids) -> dict[int, Passage]:
        """The passages of `passage_ids` the generation holds, by id, read now and not remembered
        (an export streams through every match of a search)."""
        columns = ", ".join(f"a.{c}" for c in _ARTICLE_COLUMNS)
        rows = self._rows(
            "SELECT p.id, p.start, p.\"end\", p.kind, substr(a.text, p.start + 1, p.\"end\" - p.start), "
            f"a.pages, {columns} FROM {{passages}} p JOIN {{articles}} a ON a.id = p.article_id WHERE p.id = ANY(%s)",
            ([int(i) for i in passage_ids],))
        return {int(pid): Passage(id=int(pid), article=ArticleRef(*article), start=start, end=end, text=text,
                                  kind=kind, pages=pages_of(pages, start, end))
                for pid, start, end, kind, text, pages, *article in rows}

    def article_ids(self, passage_ids) -> dict[int, str]:
        """{passage id: article id}, read now without the passages' text and not remembered."""
        rows = self._rows("SELECT id, article_id FROM {passages} WHERE id = ANY(%s)", ([int(i) for i in passage_ids],))
        return {int(pid): article for pid, article in rows}

    def article_refs(self, article_ids) -> dict[str, ArticleRef]:
        """The articles of `article_ids` the generation holds (their metadata, no text), by id."""
        columns = ", ".join(_ARTICLE_COLUMNS)
        rows = self._rows(f"SELECT {columns} FROM {{articles}} WHERE id = ANY(%s)", (list(article_ids),))
        return {row[0]: ArticleRef(*row) for row in rows}

    def articles_of(self, passage_ids) -> dict[int, str]:
        wanted = [int(i) for i in passage_ids]
        self._remember(wanted)
        read = [self.passage(pid) for pid in wanted]  # from memory now
        return {passage.id: passage.article.id for passage in read if passage is not None}

    def _remember(self, passage_ids: list[int]) -> dict[int, dict[int, float]]:
        """Read the passages, copy lists and copies' passages of `passage_ids` not yet in memory;
        their copy lists."""
        if len(self._passages) > MEMO_LIMIT:
            self._passages.clear()
            self._copies.clear()
        missing = [pid for pid in passage_ids if pid not in self._passages or pid not in self._copies]
        if not missing:
            return {pid: self._copies[pid] for pid in passage_ids}
        copies: dict[int, dict[int, float]] = {pid: {} for pid in missing}
        for pid, other, similarity in self._rows(
                "SELECT passage_id, other_id, similarity FROM {copies} WHERE passage_id = ANY(%s) "
                "ORDER BY passage_id, similarity DESC", (missing,)):
            copies[int(pid)][int(other)] = float(similarity)
        self._copies.update(copies)
        unread = sorted({pid for pid in missing if pid not in self._passages}
                        | {other for found in copies.values() for other in found if other not in self._passages})
        if unread:
            self._read_passages(unread)
        return {pid: copies.get(pid) or self._copies.get(pid, {}) for pid in passage_ids}

    def copies_of(self, passage_id: int) -> dict[int, float]:
        pid = int(passage_id)
        return dict(self._copies[pid] if pid in self._copies else self._remember([pid])[pid])

    def relation(self, own_article: str, other_article: str, own_text: str, other_text: str) -> str:
        """As `IndexLookups.relation`: their story relation when they are one story, else how
        closely this one passage is worded in both."""
        return (self._relation_in_story(own_article, other_article)
                or stories.passage_kind(own_text, other_text))

    def _relation_in_story(self, a: str, b: str) -> str | None:
        kinds = self._rows("SELECT x.kind, y.kind FROM {story_members} x JOIN {story_members} y "
                           "ON y.story_id = x.story_id WHERE x.article_id = %s AND y.article_id = %s LIMIT 1", (a, b))
        if not kinds:
            return None
        direct = self._rows("SELECT kind FROM {relations} WHERE (a = %s AND b = %s) OR (a = %s AND b = %s) LIMIT 1",
                            (a, b, b, a))
        return direct[0][0] if direct else max(kinds[0], key=stories.KINDS.index)

    def sentence_vectors(self, passage_ids: list[int], start: int, end: int
                         ) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Spans and stored vectors of the sentences of `passage_ids` inside start..end (as
        `EmbeddingCache.sentence_vectors`); sentences published without a vector are left out."""
        rows = self._rows(
            "SELECT start, \"end\", embedding FROM {sentences} WHERE passage_id = ANY(%s) AND start >= %s "
            "AND \"end\" <= %s AND embedding IS NOT NULL ORDER BY start", ([int(i) for i in passage_ids], start, end))
        if not rows:
            return [], np.zeros((0, DIMENSION), dtype=np.float32)
        return ([(s, e) for s, e, _ in rows],
                np.stack([np.asarray(vector.to_numpy(), dtype=np.float32) for _, _, vector in rows]))
