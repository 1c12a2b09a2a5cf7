"""The language an article is written in, so search can say when the meaning side cannot read it.

The embedding model (all-MiniLM-L6-v2) was trained on English: for an article in another language
its vectors mean little, and the card says so; the keyword side still matches the words as written
(such passages are keyword-indexed without English stemming: storage/keyword_index.py). Detection
uses lingua (a library made for it: n-gram models of 75 languages, offline, in Rust), limited to
the languages a newsroom archive is likely to hold so that short English texts full of names are
not taken for Welsh or Latin.
"""

from __future__ import annotations

import functools
import re

from archivist.records import UNKNOWN_LANGUAGE

# Languages told apart, by ISO 639-1 code: the world's most-published news languages.
CANDIDATES = ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "ro", "hu",
              "el", "tr", "ru", "uk", "ar", "fa", "he", "hi", "ur", "zh", "ja", "ko", "id", "vi", "sw")
ENGLISH = "en"
# Characters read: the opening of an article says its language as well as the whole of it.
SAMPLE_CHARS = 2000
# Below this many letters a guess is noise (a headline of names, a table of figures).
MIN_LETTERS = 40
# The detector's confidence (0-1) a language needs; below it the article's language is unknown.
MIN_CONFIDENCE = 0.7

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


@functools.cache
def _detector(accurate: bool):
    """lingua's detector over CANDIDATES: the quick one (trigram models, loaded in 0.3 s) or the
    accurate one (one- to five-gram models: 3 s to load and about 400 MB)."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*(getattr(IsoCode639_1, c.upper()) for c in CANDIDATES))
    return builder.build() if accurate else builder.with_low_accuracy_mode().build()


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the language `text` is written in, or None when it cannot be told.

    The quick detector settles text it is sure is English (nearly all of a typical archive); any
    other verdict is taken from the accurate one, which on the first 6,000 Reuters-21578 records
    called 12 articles another language where the quick one alone called 60 (tables of figures)."""
    sample = text[:SAMPLE_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None
    quick = _best(_detector(False), sample)
    if quick is not None and quick[0] == ENGLISH and quick[1] >= MIN_CONFIDENCE:
        return ENGLISH
    accurate = _best(_detector(True), sample)
    return accurate[0] if accurate is not None and accurate[1] >= MIN_CONFIDENCE else None


def _best(detector, sample: str) -> tuple[str, float] | None:
    confidences = detector.compute_language_confidence_values(sample)
    if not confidences:
        return None
    return confidences[0].language.iso_code_639_1.name.lower(), confidences[0].value


def normalise_language(value: str | None) -> str | None:
    """A language as a user or metadata.csv gives it ("de", "DE", "German") as its ISO 639-1 code;
    None for one that is not a language lingua knows."""
    value = (value or "").strip().lower()
    if not value:
        return None
    if len(value) == 2:
        return value if _known_code(value) else None
    return _codes_by_name().get(value)


def language_name(code: str | None) -> str:
    """ "German" for "de": how the page and the CLI name a language."""
    if not code:
        return "unknown language"
    from lingua import IsoCode639_1, Language

    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())).name.capitalize()
    except (AttributeError, ValueError):
        return code


def language_label(code: str | None) -> str:
    """How a language filter value reads in a list: "German" for "de", "unknown" for the rest."""
    return language_name(code) if code and code != UNKNOWN_LANGUAGE else UNKNOWN_LANGUAGE


def not_english_note(code: str | None) -> str | None:
    """What a result says of an article not in English: the meaning side cannot read it."""
    if not code or code == ENGLISH:
        return None
    return f"in {language_name(code)}: matched by its words (the meaning model reads English)"


def _known_code(code: str) -> bool:
    from lingua import IsoCode639_1

    return hasattr(IsoCode639_1, code.upper())


@functools.cache
def _codes_by_name() -> dict[str, str]:
    from lingua import Language

    return {language.name.lower(): language.iso_code_639_1.name.lower() for language in Language.all()}
