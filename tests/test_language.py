"""Each article's language (issue 16): detected, stored, shown, correctable in metadata.csv, and
a filter in search, the CLI and the JSON; articles in other languages stay findable by their words."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import PROJECT, write

from archivist.build.indexer import reindex
from archivist.errors import BadInput
from archivist.ingest.language import detect_language, normalise_language
from archivist.query.search import Searcher

ENGLISH = ("Harbour workers stopped work at noon on Monday over unpaid overtime, and the port authority "
           "said ships were waiting offshore.")
GERMAN = ("Die Hafenarbeiter legten am Montag um zwölf Uhr die Arbeit nieder, weil Überstunden nicht "
          "bezahlt wurden; die Hafenbehörde sagte, Schiffe warteten vor der Küste.")
FRENCH = ("Les dockers ont cessé le travail lundi à midi pour des heures supplémentaires impayées, et "
          "l'autorité portuaire a indiqué que des navires attendaient au large.")


def test_detects_the_language_of_article_length_text_and_declines_to_guess_on_too_little():
    assert detect_language(ENGLISH) == "en"
    assert detect_language(GERMAN) == "de"
    assert detect_language(FRENCH) == "fr"
    assert detect_language("Reuters 1,200 4.5 pct") is None  # too few letters to tell
    assert normalise_language("German") == "de" and normalise_language("DE") == "de"
    assert normalise_language("Klingon") is None


@pytest.fixture(scope="module")
def three_languages(tmp_path_factory, real_embedder):
    root = tmp_path_factory.mktemp("languages")
    archive, index = root / "archive", root / "index"
    write(archive / "strike-en.txt", "Dockers walk out\n\n" + ENGLISH + "\n")
    write(archive / "strike-de.txt", "Hafenarbeiter streiken\n\n" + GERMAN + "\n")
    write(archive / "strike-fr.txt", "Les dockers en grève\n\n" + FRENCH + "\n")
    # A correction: the detector would call this English; the newsroom says it is Dutch.
    write(archive / "labelled.txt", "Labelled by hand\n\nThe union representing crane drivers called a second "
          "strike for Friday, saying talks on overtime pay had collapsed overnight.\n")
    write(archive / "metadata.csv", "path,language\nlabelled.txt,Dutch\n")
    reindex(archive, index, embedder=real_embedder)
    return archive, index


def test_languages_are_stored_counted_and_filter_search(three_languages, real_embedder):
    _, index = three_languages
    searcher = Searcher.open(index, real_embedder)
    held = {row["language"]: row["articles"] for row in searcher.stats()["languages"]}
    assert held == {"en": 1, "de": 1, "fr": 1, "nl": 1}

    german = searcher.search("Hafenarbeiter Überstunden", k=5, languages=["German"])
    assert [h.article.path for h in german.hits] == ["strike-de.txt"]
    assert german.hits[0].to_json()["language"] == "de"

    # Keyword mode finds a German word as written (accents folded as FTS5 folds them).
    keyword = searcher.search("Küste", k=5, mode="keyword")
    assert [h.article.path for h in keyword.hits] == ["strike-de.txt"]

    every = searcher.search("workers strike over unpaid overtime", k=10, per_article=True)
    assert {h.article.path for h in every.hits} >= {"strike-en.txt", "labelled.txt"}
    english = next(h for h in every.hits if h.article.path == "strike-en.txt")
    assert "language" not in english.to_json()  # English is the model's own: nothing to say

    two = searcher.search("strike", k=10, per_article=True, languages=["fr", "nl"])
    assert {h.article.path for h in two.hits} <= {"strike-fr.txt", "labelled.txt"}
    assert "labelled.txt" in {h.article.path for h in two.hits}  # metadata.csv's language won


def test_a_language_the_index_lacks_is_refused_with_the_languages_it_holds(three_languages, real_embedder):
    _, index = three_languages
    searcher = Searcher.open(index, real_embedder)
    with pytest.raises(BadInput, match=r"No article in this index is in Russian; languages here: .*German \(de\)"):
        searcher.search("strike", languages=["ru"])
    with pytest.raises(BadInput, match="Unknown language 'Klingon'"):
        searcher.search("strike", languages=["Klingon"])


def test_cli_filters_by_language_and_says_when_an_article_is_not_english(three_languages):
    _, index = three_languages
    run = subprocess.run([sys.executable, "-m", "archivist", "search", "Hafenarbeiter", "--index", str(index),
                          "--language", "de", "-k", "3"], capture_output=True, text=True, cwd=PROJECT)
    assert run.returncode == 0, run.stderr
    assert "strike-de.txt" in run.stdout and "in German: matched by its words" in run.stdout
    assert "strike-en.txt" not in run.stdout
    stats = subprocess.run([sys.executable, "-m", "archivist", "stats", "--index", str(index), "--json"],
                           capture_output=True, text=True, cwd=PROJECT)
    assert {row["language"] for row in json.loads(stats.stdout)["languages"]} == {"en", "de", "fr", "nl"}
    bad = subprocess.run([sys.executable, "-m", "archivist", "search", "x", "--index", str(index),
                          "--language", "xx"], capture_output=True, text=True, cwd=PROJECT)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Unknown language 'xx'" in bad.stderr


def test_other_languages_are_keyword_indexed_without_english_stemming(tmp_path, real_embedder):
    """Porter's English rules make "universal" and "university" one stem ("univers"): fine for
    English, wrong for a Spanish text, whose words must be matched as written."""
    archive, index = tmp_path / "archive", tmp_path / "index"
    write(archive / "es.txt", "La universidad\n\nLa universidad nacional abrió sus puertas el lunes después de "
          "meses de obras, dijo el rector a los periodistas reunidos en el patio.\n")
    write(archive / "en.txt", "The university\n\nThe national university reopened on Monday after months of "
          "repairs, the rector told reporters gathered in the courtyard.\n")
    reindex(archive, index, embedder=real_embedder)
    searcher = Searcher.open(index, real_embedder)
    english = searcher.search("universities", k=5, mode="keyword")  # stemmed: university
    assert [h.article.path for h in english.hits] == ["en.txt"]
    assert [h.article.path for h in searcher.search("universidad", k=5, mode="keyword").hits] == ["es.txt"]
    # "universidades" shares the Spanish word's English stem ("universidad"), not its letters:
    assert searcher.search("universidades", k=5, mode="keyword").hits == []
    assert [h.article.path for h in searcher.search("puertas lunes", k=5, mode="keyword").hits] == ["es.txt"]
    hybrid = searcher.search("universidad nacional", k=5)
    assert hybrid.hits[0].article.path == "es.txt" and hybrid.hits[0].to_json()["language"] == "es"
