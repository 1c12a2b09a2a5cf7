"""Search on the shipped seed archive with the real model: what a reporter would ask."""

from __future__ import annotations

from conftest import DATA

NEWSWEEK_HEADLINE = "Anti-Taliban Forces: U.S. 'Won't Have an Ally' in Afghanistan to Fight Terrorism if We Lose"


def examples(name: str) -> list[tuple[str, list[str]]]:
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, phrases = line.split("\t")
            rows.append((query, phrases.split("|")))
    return rows


def shown_texts(hit) -> list[str]:
    """The passage and the wording of each article listed with it."""
    return [hit.passage] + [source.passage for source in hit.also_in]


def test_northern_alliance_question_returns_the_regional_support_passage_first(seed_searcher):
    top = seed_searcher.search("who supported the Northern Alliance").hits[0]
    assert "received support from regional countries including Russia, India, Iran, Tajikistan and Uzbekistan" \
        in top.passage
    assert top.article.title == NEWSWEEK_HEADLINE
    assert top.article.outlet == "Newsweek"


def test_every_seed_example_finds_its_passage_in_the_top_three(seed_searcher):
    misses = []
    for query, phrases in examples("seed_examples.tsv"):
        hits = seed_searcher.search(query, k=3).hits
        if not any(p in text for hit in hits for text in shown_texts(hit) for p in phrases):
            misses.append(query)
    assert misses == []


def test_team_questions_find_their_passage_in_the_top_three_and_nine_in_ten_first(seed_searcher):
    """The team's 18 questions (tests/data/seed_questions.tsv): issue 4 asks that at least 90%
    find their passage first and all within the top 3 (17 of 18 are first)."""
    ranks = {}
    for query, phrases in examples("seed_questions.tsv"):
        hits = seed_searcher.search(query, k=3).hits
        ranks[query] = next((rank for rank, hit in enumerate(hits, start=1)
                             if any(p in text for text in shown_texts(hit) for p in phrases)), None)
    assert len(ranks) >= 15
    assert [q for q, rank in ranks.items() if rank is None] == []
    assert sum(rank == 1 for rank in ranks.values()) >= 0.9 * len(ranks), ranks


def test_rewrite_shows_as_one_result_with_the_other_article_in_also_in(seed_searcher):
    hits = seed_searcher.search("National Resistance is the only ally of the United States against terrorism",
                                k=5).hits
    pair = {"000_be5a0d2d8b79ea77.txt", "001_ecfc993b8a397a1a.txt"}
    first_of_pair = next(h for h in hits if h.article.path in pair)
    assert {s.article.path for s in first_of_pair.also_in} == pair - {first_of_pair.article.path}
    # the copy is not shown again as a separate result with the same passage
    copies = {s.article.path for s in first_of_pair.also_in}
    assert not any(h.article.path in copies and h.passage_id in
                   seed_searcher.lookups.copies_of(first_of_pair.passage_id) for h in hits)


def test_no_two_results_overlap_within_an_article(seed_searcher):
    for query in ("Nazary said", "Taliban Panjshir resistance", "who supported the Northern Alliance"):
        hits = seed_searcher.search(query, k=20).hits
        for i, a in enumerate(hits):
            for b in hits[i + 1:]:
                if a.article.id == b.article.id:
                    assert a.end <= b.start or b.end <= a.start, query


def test_filters_by_outlet_and_date(seed_searcher):
    only_newsweek = seed_searcher.search("Taliban", outlets=["newsweek"], k=20).hits
    assert only_newsweek and {h.article.outlet for h in only_newsweek} == {"Newsweek"}
    dated = seed_searcher.search("Taliban", since="2021-09-01", until="2021-09-30", include_undated=False).hits
    assert dated and {h.article.date for h in dated} == {"2021-09-03"}
    with_undated = seed_searcher.search("Taliban", since="2021-09-01", k=20).hits
    assert any(h.article.date is None for h in with_undated)


def test_modes_and_highlight(seed_searcher):
    for mode in ("semantic", "keyword", "hybrid"):
        hits = seed_searcher.search("thousands of forces ready", mode=mode, k=3, highlight=True).hits
        assert hits and "thousands of forces ready for the resistance" in hits[0].passage
        start, end = hits[0].highlight
        assert hits[0].start <= start < end <= hits[0].end


def test_stats_describe_the_archive(seed_searcher):
    stats = seed_searcher.stats()
    assert stats["articles"] == 5 and stats["passages"] > 20
    assert stats["outlets"] == [{"outlet": "Newsweek", "articles": 1}]
    assert (stats["date_min"], stats["date_max"], stats["undated"]) == ("2021-09-03", "2021-09-03", 4)



def test_paraphrased_questions_keep_at_least_today_s_share_in_the_top_three(seed_searcher):
    """Questions worded unlike their answers (tests/data/paraphrase_questions.tsv). Issue 15 asks
    for 95% in the top 3; the model and fusion reach 15 of 24 today (benchmarks/paraphrases.py
    prints the misses), so this guards that share from falling while the target is still open."""
    rows = examples("paraphrase_questions.tsv")
    answered = [q for q, phrases in rows
                if any(p in " ".join(text.split()) for hit in seed_searcher.search(q, k=3).hits
                       for text in shown_texts(hit) for p in phrases)]
    assert len(rows) == 24 and len(answered) >= 15, sorted(set(q for q, _ in rows) - set(answered))
