"""The query language on the seed archive: phrases and exclusions are hard constraints in every
mode, Keyword mode requires every word, and no text a user types breaks the search."""

from __future__ import annotations

import re

import pytest

from archivist.errors import BadInput
from archivist.query.syntax import parse_query

MODES = ("hybrid", "semantic", "keyword")


def passages(searcher, query: str, mode: str, k: int = 20) -> list[str]:
    return [h.passage.lower() for h in searcher.search(query, k=k, mode=mode).hits]


def test_the_parser_reads_each_operator():
    parsed = parse_query('"Lion of Panjshir" Kabul OR Islamabad -Massoud NOT "Northern Alliance" resist*')
    assert parsed.phrases == [("lion", "of", "panjshir")]
    assert parsed.excluded == [("massoud",), ("northern", "alliance")]
    assert [u.words for u in parsed.units] == [("kabul", "islamabad"), ("resist",)]
    assert parsed.units[-1].prefix
    assert parsed.text == "Lion of Panjshir Kabul Islamabad resist"  # what the model reads
    assert parse_query("who supported the Northern Alliance?").text == "who supported the Northern Alliance?"


@pytest.mark.parametrize("typed", ['"unbalanced quote', "NOT", "OR", "a OR", "OR a", "-", '""', "*", "a*b",
                                   "NEAR(a b)", "title:x", "^x", "x AND", "'; DROP TABLE passages; --"])
def test_stray_operators_degrade_to_plain_words(seed_searcher, typed):
    for mode in MODES:
        seed_searcher.search(typed, mode=mode)  # no exception: the words are searched as words


def test_a_query_that_only_excludes_is_refused_with_a_sentence(seed_searcher):
    with pytest.raises(BadInput, match="only excludes words"):
        seed_searcher.search("-Massoud NOT Taliban")


@pytest.mark.parametrize("mode", MODES)
def test_a_phrase_is_required_in_every_mode(seed_searcher, mode):
    found = passages(seed_searcher, '"Lion of Panjshir"', mode)
    assert found and all("lion of panjshir" in p for p in found)


def test_a_phrase_is_not_the_same_search_as_its_words(seed_searcher):
    phrase = passages(seed_searcher, '"Ahmad Massoud"', "keyword", k=50)
    words = passages(seed_searcher, "Ahmad Massoud", "keyword", k=50)
    assert all("ahmad massoud" in p for p in phrase)
    assert len(phrase) < len(words) and any("ahmad massoud" not in p for p in words)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("query", ["Panjshir NOT Massoud", "Panjshir -Massoud"])
def test_an_excluded_word_never_appears(seed_searcher, mode, query):
    found = passages(seed_searcher, query, mode)
    assert found and not any("massoud" in p for p in found)


def test_keyword_mode_results_hold_every_word(seed_searcher):
    for query in ("Massoud", "Massoud resistance", "Taliban Kabul"):
        found = passages(seed_searcher, query, "keyword", k=50)
        assert found
        for passage in found:
            assert all(word in passage for word in query.lower().split()), (query, passage[:200])


def test_or_and_prefix_in_keyword_mode(seed_searcher):
    either = passages(seed_searcher, "Russia OR India", "keyword", k=50)
    assert either and all("russia" in p or "india" in p for p in either)
    assert len(either) > len(passages(seed_searcher, "Russia India", "keyword", k=50))
    prefixed = passages(seed_searcher, "Massou*", "keyword", k=50)
    assert prefixed and all(re.search(r"\bmassou", p) for p in prefixed)


FILLER = ("The council met on Tuesday to discuss the budget for the coming year. Members argued over "
          "road repairs, school meals and the cost of running the public library. The mayor promised "
          "to publish the full accounts before the summer and to hold a public meeting in the town hall. ")


def test_a_pasted_sentence_finds_its_own_article_first(tmp_path, real_embedder):
    from conftest import write

    from archivist.build.indexer import reindex
    from archivist.query.search import Searcher

    sentence = "Consumer prices rose by 1.6 pct in the year to January, the statistics office said."
    archive = tmp_path / "archive"
    # The source buries the sentence in other news; rewrites say the same in other words.
    write(archive / "source.txt", f"Council report\n\n{FILLER}{sentence} {FILLER}\n")
    for number, wording in enumerate(["Consumer prices climbed 1.6 percent in the twelve months to January, "
                                      "the statistics agency reported.",
                                      "Prices paid by consumers went up 1.6 percent over the year to January, "
                                      "according to the statistics bureau.",
                                      "The statistics office said consumer prices increased 1.6 percent in the "
                                      "year through January."]):
        write(archive / f"rewrite{number}.txt", f"Prices\n\n{wording}\n")
    reindex(archive, tmp_path / "index", embedder=real_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=real_embedder)
    assert searcher.search(sentence, k=1).hits[0].article.path == "source.txt"


def test_a_rare_name_puts_an_article_holding_it_first(tmp_path, real_embedder):
    from conftest import write

    from archivist.build.indexer import reindex
    from archivist.query.search import Searcher

    archive = tmp_path / "archive"
    write(archive / "name.txt", f"Council report\n\n{FILLER}A letter from Zhelvorin was read out. {FILLER}\n")
    for number, text in enumerate(["The Zhelvorian ambassador met Zhelvorian ministers.",
                                   "Zhelvorians celebrated the Zhelvorian national day.",
                                   "A Zhelvorian delegation visited Zhelvoria."]):
        write(archive / f"near{number}.txt", f"Visit\n\n{text}\n")
    reindex(archive, tmp_path / "index", embedder=real_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=real_embedder)
    assert searcher.search("Zhelvorin", k=1).hits[0].article.path == "name.txt"
