"""The reindex stage that reads people, organisations and places out of new and changed articles.

Unchanged articles keep their mentions (the rows are copied with the previous build's database
and go with their article), so a reindex pays for entity extraction only on what it embeds.
A missing model is reported and the build goes on without entities: search does not need them.
"""

from __future__ import annotations

import logging
import sqlite3

from archivist import config
from archivist.ingest.entities import EntityModelMissing, extract_entities
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
    for begin in range(0, len(article_ids), ARTICLES_PER_STEP):
        ids = article_ids[begin:begin + ARTICLES_PER_STEP]
        texts = text_tables.texts(connection, ids)
        try:
            found = extract_entities([texts[i] for i in ids])
        except EntityModelMissing as error:
            log.warning("no entities extracted: %s", error)
            return str(error)
        for article_id, mentions in zip(ids, found):
            entity_tables.insert_mentions(connection, article_id, mentions)
        progress("entities", begin + len(ids), len(article_ids))
    return None
