"""People, organisations and places as a reader sees them: the extracted mentions with the user's
clean-ups applied (two spellings merged into one name, a wrong name hidden).

The clean-ups are the user's judgement, so they live in `entity_edits.json` beside the index's
builds, never inside one: a reindex extracts the mentions again and the same choices apply to
them. They are applied when names are read (facets, `entities`, the `--entity` filter), keyed by
the normalised name, so they also reach articles added after the choice was made. A merge or a
hide covers every type the name was given (a model that calls "Delphi" a person in one article
and an organisation in another is corrected once).
"""

from __future__ import annotations

from pathlib import Path

from archivist.errors import BadInput
from archivist.ingest.entities import TYPES, normalise
from archivist.storage import entity_tables, sidecar
from archivist.storage.placeholders import Mark, question_mark

EDITS_FILE = "entity_edits.json"


class EntityNames:
    """The names of one index folder's live build, with its clean-ups.

    Over a PostgreSQL generation (`published`): its mentions partition, and the clean-ups that
    `publish` copied from the embedded index beside which they were made; read-only there."""

    def __init__(self, index: Path | None, connection, mentions: str = "mentions", mark: Mark = question_mark,
                 published: dict | None = None) -> None:
        self.path = index / EDITS_FILE if index is not None else None
        self.connection = connection
        self.mentions, self.mark = mentions, mark
        self.published = published

    def edits(self) -> dict:
        stored = self.published if self.published is not None else sidecar.read_json(self.path, {})
        return {"merged": dict(stored.get("merged") or {}), "hidden": list(stored.get("hidden") or [])}

    def _editable(self) -> Path:
        if self.path is None:
            raise BadInput("Names are cleaned up on the embedded index (`entities --merge/--hide/--restore` "
                           "without --index-url); `publish` then carries the clean-ups to PostgreSQL.")
        return self.path

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
        with sidecar.editing(self._editable(), {"version": 1}) as stored:
            merged = dict(stored.get("merged") or {})
            target = _canonical(target, merged)
            if target == source:
                raise BadInput(f"{name!r} and {into!r} are already one name.")
            merged = {k: (target if v == source else v) for k, v in merged.items()}
            merged[source] = target
            stored["merged"] = merged
        return {"merged": source, "into": target}

    def hide(self, name: str) -> dict:
        key = _canonical(self._held(name), self.edits()["merged"])
        with sidecar.editing(self._editable(), {"version": 1}) as stored:
            stored["hidden"] = sorted(set(stored.get("hidden") or []) | {key})
        return {"hidden": key}

    def restore(self, name: str) -> dict:
        """Undo a merge of `name` and show it again if hidden."""
        key = normalise(name)
        with sidecar.editing(self._editable(), {"version": 1}) as stored:
            merged = dict(stored.get("merged") or {})
            hidden = set(stored.get("hidden") or [])
            if key not in merged and key not in hidden:
                raise BadInput(f"{name!r} is neither merged nor hidden; nothing to restore.")
            merged.pop(key, None)
            hidden.discard(key)
            stored["merged"], stored["hidden"] = merged, sorted(hidden)
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
