"""People, organisations and places as a reader sees them: the extracted mentions with the user's
clean-ups applied (two spellings merged into one name, a wrong name hidden).

The clean-ups are the user's judgement, so they live in `entity_edits.json` beside the index's
builds, never inside one: a reindex extracts the mentions again and the same choices apply to
them. They are applied when names are read (facets, `entities`, the `--entity` filter), keyed by
the normalised name, so they also reach articles added after the choice was made. A merge or a
hide covers every type the name was given (a model that calls "Delphi" a person in one article
and an organisation in another is corrected once).

Over a PostgreSQL index the clean-ups come in two layers: those `publish` copied from the
embedded index (the generation's), and those made on the database itself (a document kept in
it, storage/postgres/documents.py, which no publish replaces). The database's layer applies on
top: its merges and hides add to the published ones, and restoring a published merge or hide is
kept there as "unmerged" / "unhidden", so it stays undone after the next publish. On an embedded
index the published layer is empty and the file is the only layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from archivist.errors import BadInput
from archivist.ingest.entities import TYPES, normalise
from archivist.storage import entity_tables
from archivist.storage.placeholders import Mark, question_mark

EDITS_FILE = "entity_edits.json"


class EntityNames:
    """The names of one live build (or PostgreSQL generation) with the clean-ups applied.

    `document`: where clean-ups made here are kept (storage.sidecar.FileDocument beside an index
    folder, or a PgDocument); `published`: a PostgreSQL generation's clean-ups copied by publish."""

    def __init__(self, document, connection, mentions: str = "mentions", mark: Mark = question_mark,
                 published: dict | None = None) -> None:
        self.document = document
        self.connection = connection
        self.mentions, self.mark = mentions, mark
        self.published = _layer(published or {})

    def stamp(self) -> int:
        """Changes whenever this index's own clean-ups do (with the build id, a cache key for
        what a search filtered by a name found: a merge changes which articles name it)."""
        return self.document.stamp()

    def edits(self) -> dict:
        """The clean-ups in effect: the published ones, then this index's own on top."""
        return _effective(self.published, _layer(self.document.read({})))

    @contextmanager
    def _editing(self) -> Iterator[dict]:
        """This index's own layer, locked for writing and written back when the block ends."""
        with self.document.editing({"version": 1}) as stored:
            own = _layer(stored)
            yield own
            stored.update({"merged": own["merged"], "hidden": sorted(own["hidden"])})
            for undo in ("unmerged", "unhidden"):
                if own[undo]:
                    stored[undo] = sorted(own[undo])
                else:
                    stored.pop(undo, None)

    def _has(self, key: str) -> bool:
        return entity_tables.has_key(self.connection, key, self.mentions, self.mark)

    def listing(self, kind: str | None = None, article_ids: list[str] | None = None,
                hidden: bool = False) -> list[dict]:
        """Each name with its type and article count (most first), merges applied; hidden names
        left out unless `hidden`. `article_ids` limits the counts to those articles (facets)."""
        if kind is not None and kind not in TYPES:
            raise BadInput(f"Unknown entity type {kind!r}; use one of: {', '.join(TYPES)}.")
        edits = self.edits()
        merged, hidden_keys = edits["merged"], set(edits["hidden"])
        groups: dict[str, list[dict]] = {}
        for row in entity_tables.entity_counts(self.connection, None, article_ids, self.mentions, self.mark):
            groups.setdefault(_canonical(row["key"], merged), []).append(row)
        out = []
        for key, rows in groups.items():
            # The name merged into keeps its own spelling and type; else the commonest one does.
            best = max([r for r in rows if r["key"] == key] or rows, key=lambda r: r["articles"])
            if (key in hidden_keys) != hidden or (kind and best["type"] != kind):
                continue
            articles = set().union(*(r["article_ids"] for r in rows))
            out.append({"name": best["name"], "type": best["type"], "articles": len(articles), "key": key,
                        "spellings": sorted({r["name"] for r in rows})})
        return sorted(out, key=lambda row: (-row["articles"], row["name"]))

    def keys_for(self, name: str) -> tuple[str, ...]:
        """Every stored key that reads as `name` once merges apply (the `--entity` filter)."""
        key = normalise(name)
        merged = self.edits()["merged"]
        target = _canonical(key, merged)
        keys = {target} | {k for k in merged if _canonical(k, merged) == target}
        found = tuple(sorted(k for k in keys if self._has(k)))
        if not found:
            raise BadInput(f"No article in this index names {name!r}; `python -m archivist entities` "
                           "lists the people, organisations and places it holds.")
        return found

    def merge(self, name: str, into: str) -> dict:
        """Read `name` as `into` from now on (both must be names the index holds)."""
        source, target = self._held(name), self._held(into)
        with self._editing() as own:
            merged = _effective(self.published, own)["merged"]
            target = _canonical(target, merged)
            if target == source:
                raise BadInput(f"{name!r} and {into!r} are already one name.")
            # what read as `source` reads as `target` now (published merges overridden here)
            own["merged"].update({k: target for k, v in merged.items() if v == source})
            own["merged"][source] = target
            own["unmerged"].discard(source)
        return {"merged": source, "into": target}

    def hide(self, name: str) -> dict:
        key = _canonical(self._held(name), self.edits()["merged"])
        with self._editing() as own:
            own["hidden"].add(key)
            own["unhidden"].discard(key)
        return {"hidden": key}

    def restore(self, name: str) -> dict:
        """Undo a merge of `name` and show it again if hidden."""
        key = normalise(name)
        with self._editing() as own:
            now = _effective(self.published, own)
            if key not in now["merged"] and key not in now["hidden"]:
                raise BadInput(f"{name!r} is neither merged nor hidden; nothing to restore.")
            own["merged"].pop(key, None)
            own["hidden"].discard(key)
            if key in self.published["merged"]:
                own["unmerged"].add(key)
            if key in self.published["hidden"]:
                own["unhidden"].add(key)
        return {"restored": key}

    def _held(self, name: str) -> str:
        key = normalise(name)
        if not key or not self._has(key):
            raise BadInput(f"No article in this index names {name!r}; `python -m archivist entities` "
                           "lists the names it holds.")
        return key


def _canonical(key: str, merged: dict[str, str]) -> str:
    """Where a chain of merges leads (a loop, which merge() never writes, stops where it closes)."""
    seen = {key}
    while key in merged and merged[key] not in seen:
        key = merged[key]
        seen.add(key)
    return key


def _layer(stored: dict) -> dict:
    """One layer of clean-ups as sets and a dict (what the stored JSON holds as lists)."""
    return {"merged": dict(stored.get("merged") or {}), "hidden": set(stored.get("hidden") or []),
            "unmerged": set(stored.get("unmerged") or []), "unhidden": set(stored.get("unhidden") or [])}


def _effective(published: dict, own: dict) -> dict:
    """The published layer with this index's own applied on top: {"merged": {...}, "hidden": [...]}."""
    merged = dict(own["merged"])
    for key, into in published["merged"].items():
        # A published merge this index's own layer overrides, undid, or would close a loop with
        # (B into A made here, A into B published later) is left out: the own choice stands.
        if key not in merged and key not in own["unmerged"] and _canonical(into, merged) != key:
            merged[key] = into
    hidden = (published["hidden"] - own["unhidden"]) | own["hidden"]
    return {"merged": merged, "hidden": sorted(hidden)}
