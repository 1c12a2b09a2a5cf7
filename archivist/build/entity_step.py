"""The reindex stage that reads people, organisations and places out of new and changed articles.

Unchanged articles keep their mentions (the rows are copied with the previous build's database
and go with their article), so a reindex pays for entity extraction only on what it embeds.
A missing model is reported and the build goes on without entities: search does not need them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Protocol

from archivist import config
from archivist.build.entity_processes import extract_in_processes, process_count
from archivist.ingest import entities
from archivist.ingest.entities import EntityModelMissing, Mention
from archivist.progress import Progress
from archivist.storage import entity_tables, text_tables
from archivist.storage.cache import text_key

log = logging.getLogger("archivist")
ARTICLES_PER_STEP = 64  # articles sent to the model at once (progress moves on between them)
SHARED_CHUNK = 2_000  # articles whose texts are hashed and asked of a shared cache at once


class EntityCache(Protocol):
    """Mentions already found elsewhere, by text (a PostgreSQL index shares them so)."""

    def draw(self, model: str, keys: Iterable[str]) -> dict[str, list[Mention]]: ...

    def put(self, model: str, pairs: Iterable[tuple[str, list[Mention]]]) -> None: ...


def extract_new_entities(connection: sqlite3.Connection, article_ids: list[str], progress: Progress,
                         shared: EntityCache | None = None) -> str | None:
    """Store the mentions of `article_ids`; a one-line note instead when the model is missing.
    With `shared`, articles whose exact text it holds mentions for take those, and what the
    model finds for the others is written to it."""
    if not article_ids:
        return None
    if not config.entities_enabled():
        return "entity extraction is off (ARCHIVIST_ENTITIES=0); new articles have no names to browse."
    keys: dict[str, str] = {}  # with `shared`: each article left to read, its text's key
    try:
        if shared is not None:
            model = entities.model_id()
            keys = _from_shared(connection, article_ids, shared, model)
            article_ids = [article_id for article_id in article_ids if article_id in keys]
            if not article_ids:
                return None
        progress("entities", 0, len(article_ids))
        steps = [article_ids[begin:begin + ARTICLES_PER_STEP]
                 for begin in range(0, len(article_ids), ARTICLES_PER_STEP)]

        def texts_of_each_step() -> Iterator[list[str]]:
            for ids in steps:
                texts = text_tables.texts(connection, ids)
                yield [texts[i] for i in ids]

        done = 0
        found_per_step = extract_in_processes(texts_of_each_step(), process_count(len(article_ids)))
        for ids, found in zip(steps, found_per_step):
            for article_id, mentions in zip(ids, found):
                entity_tables.insert_mentions(connection, article_id, mentions)
            if shared is not None:
                shared.put(model, ((keys[i], m) for i, m in zip(ids, found)))
            done += len(ids)
            progress("entities", done, len(article_ids))
    except EntityModelMissing as error:
        log.warning("no entities extracted: %s", error)
        return str(error)
    return None


def _from_shared(connection: sqlite3.Connection, article_ids: list[str], shared: EntityCache,
                 model: str) -> dict[str, str]:
    """Store the mentions `shared` holds for these articles' texts; the others, each with its
    text's key (what the model's findings are shared under)."""
    lacking: dict[str, str] = {}
    for begin in range(0, len(article_ids), SHARED_CHUNK):
        chunk = article_ids[begin:begin + SHARED_CHUNK]
        keys = {article_id: text_key(text) for article_id, text in text_tables.texts(connection, chunk).items()}
        found = shared.draw(model, keys.values())
        for article_id, key in keys.items():
            if key in found:
                entity_tables.insert_mentions(connection, article_id, found[key])
            else:
                lacking[article_id] = key
    return lacking
