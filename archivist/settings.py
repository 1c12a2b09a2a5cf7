"""The settings record of a build: every rule and threshold that shapes what an index stores.

Stored whole in the manifest (`settings`) and compared whole at the next reindex, so a change to
any of them (a chunking rule, the keyword tokenizer, the copy or story thresholds) makes that
reindex redo what depends on it, and say so, instead of leaving old indexes with old passages or
old story groups. Query-time settings (fusion weights, join share) are not here: they shape no
stored data and apply to every index at once.
"""

from __future__ import annotations

from dataclasses import dataclass

# What each section decides, and so what a change to it makes the next reindex redo.
RESPLIT_SECTIONS = ("model", "chunking", "keyword")  # every article split and written again
REGROUP_SECTIONS = ("copies", "stories")  # copies and story relations found again for every article
SECTIONS = (*RESPLIT_SECTIONS, *REGROUP_SECTIONS, "vectors")  # vectors: the index is rebuilt each build


@dataclass(frozen=True)
class BuildSettings:
    """One section per stage that stores data; each a flat dict of JSON values."""

    model: dict
    chunking: dict
    keyword: dict
    copies: dict
    stories: dict
    vectors: dict

    @classmethod
    def current(cls) -> "BuildSettings":
        """The settings this version of Archivist builds with."""
        from archivist.build import copies, stories
        from archivist.storage import keyword_index, vector_index
        from archivist.ingest.chunking import CHUNKING
        from archivist.config import MODEL_DIMENSION, MODEL_MAX_TOKENS, MODEL_NAME

        return cls(
            model={"name": MODEL_NAME, "dimension": MODEL_DIMENSION, "max_tokens": MODEL_MAX_TOKENS},
            chunking=CHUNKING.as_dict(),
            keyword=keyword_index.settings(),
            copies=copies.settings(),
            stories=stories.settings(),
            vectors=vector_index.settings(),
        )

    def as_dict(self) -> dict:
        return {name: dict(getattr(self, name)) for name in SECTIONS}

    @classmethod
    def from_dict(cls, recorded: object) -> "BuildSettings | None":
        """The record as a manifest holds it; None when it is missing or not a full record."""
        if not isinstance(recorded, dict) or not all(isinstance(recorded.get(n), dict) for n in SECTIONS):
            return None
        return cls(**{name: dict(recorded[name]) for name in SECTIONS})

    def changes_from(self, previous: "BuildSettings | None") -> list[str]:
        """Each setting that differs from `previous`, as "section.name old -> new" (all sections
        when there is no previous record)."""
        if previous is None:
            return ["no build settings recorded in the previous index"]
        changes = []
        for section in SECTIONS:
            old, new = getattr(previous, section), getattr(self, section)
            for name in sorted(set(old) | set(new)):
                if old.get(name) != new.get(name):
                    changes.append(f"{section}.{name} {old.get(name)!r} -> {new.get(name)!r}")
        return changes

    def must_resplit(self, previous: "BuildSettings | None") -> bool:
        """Whether every article must be split and written again (cached vectors are reused)."""
        return previous is None or any(getattr(self, s) != getattr(previous, s) for s in RESPLIT_SECTIONS)

    def must_regroup(self, previous: "BuildSettings | None") -> bool:
        """Whether copies and story relations must be found again for every article."""
        return self.must_resplit(previous) or any(
            getattr(self, s) != getattr(previous, s) for s in REGROUP_SECTIONS)
