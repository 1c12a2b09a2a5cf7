"""The read side of a build that is not a search: one article with its passages, the outlets,
the stories, the stats, and the four reads grouping needs (`IndexLookups`).

A mixin of the Searcher (which holds the connection, manifest and indexes it reads), kept apart so
the search facade stays the stages it composes. The PostgreSQL searcher inherits these views too:
`tables` and `mark` say where the rows are and how a statement takes a parameter, so the same
statements read a generation's partitions there.
"""

from __future__ import annotations

import sqlite3

from archivist.build import stories
from archivist.query.entity_names import EDITS_FILE, EntityNames
from archivist.records import ArticleRef, Passage
from archivist.storage import copy_table, entity_tables, sidecar, story_tables, text_tables
from archivist.storage.placeholders import question_mark

# Where the views below read a build's rows in the embedded index: its tables, with each story
# member's story kind joined on (PostgreSQL's story_members keeps it on the row).
EMBEDDED_TABLES = {"articles": "articles", "passages": "passages", "mentions": "mentions", "copies": "copies",
                   "story_members": story_tables.MEMBERS_WITH_KIND}


class ArchiveBrowser:
    """Read-only views of the open build; expects `connection`, `manifest`, `build_id`, `index`,
    `embedder`, `vector_index` and `lookups` on the object."""

    tables: dict[str, str] = EMBEDDED_TABLES
    mark = staticmethod(question_mark)

    def article(self, article_id: str) -> dict | None:
        return text_tables.article(self.connection, article_id, self.tables["articles"], self.mark)

    def article_with_passages(self, article_id: str) -> dict | None:
        """The whole article (metadata, author, text) and its passages with their offsets."""
        article = text_tables.article(self.connection, article_id, self.tables["articles"], self.mark)
        if article is None:
            return None
        passages = [{"id": p.id, "start": p.start, "end": p.end, "text": p.text, "kind": p.kind}
                    for p in text_tables.passages_of_article(self.connection, article_id, self.tables["passages"],
                                                             self.tables["articles"], self.mark)]
        return {"article": article, "passages": passages,
                "entities": entity_tables.mentions_of(self.connection, article_id, self.tables["mentions"], self.mark)}

    def passage_text(self, passage_id: int) -> str | None:
        """The text of one stored passage (what "More like this" compares with)."""
        row = self.lookups.passage(passage_id)
        return row.text if row else None

    def stories(self) -> list:
        """Every story group of the build, earliest article first (the `stories --json` records)."""
        return story_tables.read_stories(self.connection, self.tables["story_members"], self.tables["articles"])

    def outlets(self) -> list[dict]:
        return text_tables.outlets(self.connection, self.tables["articles"])

    def articles_from_files(self, rels: list[str]) -> list:
        """The articles the given archive files gave (what an upload added)."""
        return text_tables.articles_from_files(self.connection, rels, self.tables["articles"], self.mark)

    def languages(self) -> list[dict]:
        return text_tables.languages(self.connection, self.tables["articles"])

    def entity_names(self) -> EntityNames:
        """The people, organisations and places of this build, with the user's clean-ups."""
        return EntityNames(sidecar.FileDocument(self.index / EDITS_FILE), self.connection)

    def stats(self) -> dict:
        return {
            **text_tables.counts(self.connection, self.tables["articles"], self.tables["passages"]),
            "outlets": self.outlets(),
            "languages": self.languages(),
            "built_at": self.manifest.get("built_at"),
            "model": self.manifest["model"]["name"],
            "backend": self.manifest["model"].get("backend"),
            "query_backend": self.embedder.backend,
            "vectors": {"passages": self.vector_index.kind},
            "build_id": self.build_id,
            "index": self.location(),
        }

    def location(self) -> str:
        """Where the index is, as `stats` names it."""
        return str(self.index)


class IndexLookups:
    """What grouping reads of a build (see grouping.Lookups), from its database."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def passage(self, passage_id: int) -> Passage | None:
        return text_tables.passage(self.connection, passage_id)

    def articles_of(self, passage_ids) -> dict[int, str]:
        return text_tables.articles_of(self.connection, passage_ids)

    # What an export and a list of searches read, as PgLookups reads them from a generation.
    def passages(self, passage_ids) -> dict[int, Passage]:
        return text_tables.passages_by_id(self.connection, passage_ids)

    article_ids = articles_of  # nothing is remembered here either way

    def article_refs(self, article_ids) -> dict[str, ArticleRef]:
        return text_tables.article_refs(self.connection, list(article_ids))

    def copies_of(self, passage_id: int) -> dict[int, float]:
        return copy_table.copies_of(self.connection, passage_id)

    def relation(self, own_article: str, other_article: str, own_text: str, other_text: str) -> str:
        """Their story relation when the two articles are one story, else how closely this one
        passage is worded in both."""
        return (stories.relation_in_story(self.connection, own_article, other_article)
                or stories.passage_kind(own_text, other_text))
