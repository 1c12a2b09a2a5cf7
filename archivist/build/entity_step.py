"""The reindex stage that reads people, organisations and places out of new and changed articles.

Unchanged articles keep their mentions (the rows are copied with the previous build's database
and go with their article), so a reindex pays for entity extraction only on what it embeds.
A missing model is reported and the build goes on without entities: search does not need them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

from archivist import config
from archivist.build.entity_processes import extract_in_processes, process_count
from archivist.ingest.entities import EntityModelMissing
from archivist.progress import Progress
from archivist.storage import entity_tables, text_tables

log = logging.getLogger("archivist")
ARTICLES_PER_STEP = 64  # articles sent to the model at once (progress moves on between them)


def extract_new_entities(connection: sqlite3.Connection, article_ids: list[str], progress: Progress) -> str | None:
    """Store the mentions of `article_ids`; a one-line note instead when the model is missing."""
    if not article_ids:
        return None
    if not config.entities_enabled():
        return "entity extraction is off (ARCHIVIST_ENTITIES=0); new articles have no names to browse."
    progress("entities", 0, len(article_ids))
    steps = [article_ids[begin:begin + ARTICLES_PER_STEP]
             for begin in range(0, len(article_ids), ARTICLES_PER_STEP)]

    def texts_of_each_step() -> Iterator[list[str]]:
        for ids in steps:
            texts = text_tables.texts(connection, ids)
            yield [texts[i] for i in ids]

    done = 0
    try:
        found_per_step = extract_in_processes(texts_of_each_step(), process_count(len(article_ids)))
        for ids, found in zip(steps, found_per_step):
            for article_id, mentions in zip(ids, found):
                entity_tables.insert_mentions(connection, article_id, mentions)
            done += len(ids)
            progress("entities", done, len(article_ids))
    except EntityModelMissing as error:
        log.warning("no entities extracted: %s", error)
        return str(error)
    return None
