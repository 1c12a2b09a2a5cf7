"""The page's behaviour through Streamlit's headless AppTest, over a tiny archive and a real index.

One index is built per module with the real `reindex` (and the bundled model), because the
page's rendering depends on what the core really returns: highlights, copies, filters. Tests
that change the index work on copies in their own tmp folders.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from page.state import clear_dates
from page.timeline_view import apply_selection
from archivist.model.embedding import Embedder
from archivist.build.indexer import reindex
from archivist.query.search import current_build_id
from page.timeline import Period, epoch_ms, selected_period

APP = Path(__file__).resolve().parent.parent / "app.py"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
ALLIANCE_BODY = (
    "During the 1990s the Northern Alliance received support from regional countries "
    "including Russia, India and Iran. The alliance fought the Taliban from the Panjshir "
    "valley for years."
)
ARTICLES = {
    "alliance.md": f"""---
title: Anti-Taliban forces look for allies
outlet: Newsweek
date: 2021-09-03
url: https://www.newsweek.com/anti-taliban-forces
---
{ALLIANCE_BODY}
""",
    "alliance-copy.md": f"""---
title: Anti-Taliban forces look for allies
outlet: Daily Wire
date: 2021-09-04
---
{ALLIANCE_BODY}
""",
    "bakery.md": """---
title: Village bakery wins prize
outlet: Local Gazette
date: 2020-05-01
---
The village bakery sells sourdough bread every morning. The baker won a regional prize for
her rye loaf, and the queue now reaches the church.
""",
    "lighthouse.txt": """Lighthouse repainted by volunteers

The harbour lighthouse was repainted white and red by volunteers over the weekend.
""",
    "hostile.md": f"""---
title: "Zebra crossing {SCRIPT} {IMG}"
outlet: "Evil <b>Outlet</b>"
date: 2021-01-01
url: "javascript:alert(1)"
---
The zebra crossing on Main Street was repainted. {SCRIPT} The stripes {IMG} are bright.
""",
}
QUESTION = "who supported the Northern Alliance"


def write_archive(folder: Path, articles: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> tuple[Path, Path]:
    """The tiny archive and its index, built once for the module with the real reindex."""
    base = tmp_path_factory.mktemp("app")
    archive = write_archive(base / "archive", ARTICLES)
    index = base / "index"
    report = reindex(archive, index, embedder=real_embedder)
    assert report.articles == len(ARTICLES), report.skipped
    return archive, index


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """AppTests share one process-wide st.cache_resource and st.cache_data; start every test
    from clean ones."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def app(built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    archive, index = built
    monkeypatch.setenv("ARCHIVIST_ARCHIVE", str(archive))
    monkeypatch.setenv("ARCHIVIST_INDEX", str(index))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return AppTest.from_file(str(APP), default_timeout=60)


def run(target) -> AppTest:
    """Run the app (or the app a clicked widget belongs to) and insist it raised nothing."""
    at = target.run()
    assert not at.exception, at.exception
    return at


def search(at: AppTest, query: str) -> AppTest:
    at.text_input(key="q").set_value(query)
    return run(at)


def cards(at: AppTest) -> list:
    found = []
    for rank in range(1, 51):
        try:
            found.append(at.get_by_key(f"card-{rank}"))
        except KeyError:
            break
    return found


def card_html(card) -> str:
    """Everything a card renders as Markdown/HTML source, expander content included."""
    return "\n".join(m.value for m in card.markdown)


def page_html(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def plain(fragment: str) -> str:
    """The text a reader sees in rendered HTML: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment.replace("<br>", "\n")))


# ------------------------------------------------------------------ empty page and search


def test_empty_page_describes_the_archive_and_offers_three_questions(app: AppTest) -> None:
    run(app)
    lead = page_html(app)
    assert "The archive holds <b>5 articles</b>" in lead
    assert "Newsweek" in lead and "Local Gazette" in lead
    examples = [b for b in app.button if (b.key or "").startswith("example-")]
    assert len(examples) == 3
    assert not cards(app)


def test_an_example_question_runs_when_clicked(app: AppTest) -> None:
    run(app)
    first = app.button(key="example-0")
    run(first.click())
    assert app.text_input(key="q").value == first.label
    assert cards(app)


def test_search_shows_a_card_with_highlights_source_and_copies(app: AppTest) -> None:
    search(run(app), QUESTION)
    found = cards(app)
    assert found, page_html(app)
    top = card_html(found[0])
    assert "received support from regional countries" in plain(top)
    assert '<mark class="ar-best">' in top
    assert '<b class="ar-term">Northern</b>' in top
    # Both copies of the passage are named: one as the card's source, one under "Carried by".
    assert [e.label for e in found[0].expander] == ["Also carried by 1 other article (2 sources in all)", "Full article"]
    assert "Newsweek" in top and "Daily Wire" in top
    assert plain(top).count("Anti-Taliban forces look for allies") == 3  # card, and both sources
    assert "3 Sep 2021" in top or "4 Sep 2021" in top
    assert "relevance" in top
    captions = " ".join(c.value for c in app.caption)
    assert "Hybrid search" in captions and " ms" in captions


def test_full_article_shows_the_whole_text_with_the_passage_marked(app: AppTest) -> None:
    search(run(app), "village bakery sourdough")
    top = found = cards(app)[0]
    expander = found.expander[0]
    assert expander.label == "Full article"
    body = "\n".join(m.value for m in expander.markdown)
    assert '<div class="ar-article" tabindex="0" role="region" aria-label="Full article">' in body  # keyboard-scrollable
    assert '<mark id="ar-passage-1" class="ar-passage">' in body
    assert "the queue now reaches the church" in body
    assert "Local Gazette" in card_html(top)


def test_http_urls_are_links_and_other_schemes_are_not(app: AppTest) -> None:
    search(run(app), QUESTION)
    assert 'href="https://www.newsweek.com/anti-taliban-forces"' in page_html(app)
    search(app, "zebra crossing")
    assert "hostile.md" in page_html(app)  # the card whose url is javascript: is on the page
    assert "javascript" not in page_html(app).lower()


# ------------------------------------------------------------------ filters and URL state


def test_outlet_filter_limits_results(app: AppTest) -> None:
    run(app)
    app.multiselect(key="outlet").set_value(["Local Gazette"])
    search(app, "bread")
    found = cards(app)
    assert found
    for card in found:
        assert "Local Gazette" in card_html(card)


def test_articles_without_a_date_are_included_or_excluded_explicitly(app: AppTest) -> None:
    run(app)
    box = app.checkbox(key="undated")
    assert box.value is True and "(1)" in box.label
    search(app, "harbour lighthouse repainted")
    assert "lighthouse.txt" in card_html(cards(app)[0])
    run(app.checkbox(key="undated").uncheck())
    assert "lighthouse.txt" not in page_html(app)


def test_date_range_filters_results(app: AppTest) -> None:
    run(app)
    since = app.date_input(key="since")
    assert since.value is None and app.date_input(key="until").value is None
    assert "1 May 2020" in since.help
    app.radio(key="mode").set_value("Semantic")
    search(app, "bakery bread prize")
    assert "bakery.md" in page_html(app)
    run(app.date_input(key="since").set_value("2021-01-01"))
    assert "bakery.md" not in page_html(app)
    assert cards(app)


def test_state_comes_from_the_url(app: AppTest) -> None:
    app.query_params.update({"q": "bread", "mode": "Keyword", "k": "3",
                             "outlet": "Local Gazette", "undated": "false"})
    run(app)
    assert app.text_input(key="q").value == "bread"
    assert app.radio(key="mode").value == "Keyword"
    assert app.slider(key="k").value == 3
    assert app.multiselect(key="outlet").value == ["Local Gazette"]
    assert app.checkbox(key="undated").value is False
    found = cards(app)
    assert len(found) == 1 and "bakery.md" in card_html(found[0])
    assert "Keyword search" in " ".join(c.value for c in app.caption)


def test_every_search_setting_is_bound_to_the_url(app: AppTest) -> None:
    run(app)
    widgets = [app.text_input(key="q"), app.radio(key="mode"), app.slider(key="k"),
               app.multiselect(key="outlet"), app.date_input(key="since"),
               app.date_input(key="until"), app.checkbox(key="undated")]
    assert [w.proto.query_param_key for w in widgets] == [
        "q", "mode", "k", "outlet", "since", "until", "undated"]


def test_bad_url_values_fall_back_to_defaults(app: AppTest) -> None:
    app.query_params.update({"k": "5000", "mode": "bogus", "outlet": "Nobody",
                             "since": "not-a-date", "like": "x"})
    run(app)
    assert app.slider(key="k").value == 10
    assert app.radio(key="mode").value == "Hybrid"
    assert app.multiselect(key="outlet").value == []
    assert not app.error


def test_more_like_this_searches_with_the_passage(app: AppTest) -> None:
    search(run(app), "village bakery sourdough")
    run(app.button(key="like-1").click())
    assert app.query_params.get("like")
    assert "Semantic search" in " ".join(c.value for c in app.caption)
    assert "Passages like the one from" in page_html(app)
    back = [b for b in app.button if b.label.startswith("Back to the results")]
    run(back[0].click())
    assert "like" not in app.query_params


def test_a_stale_more_like_this_link_is_explained(app: AppTest) -> None:
    app.query_params["like"] = "987654"
    run(app)
    assert any("no longer in the index" in w.value for w in app.warning)


# ------------------------------------------------------------------ no results, escaping


def test_no_results_says_so_and_suggests_what_to_change(app: AppTest) -> None:
    run(app)
    app.radio(key="mode").set_value("Keyword")
    app.multiselect(key="outlet").set_value(["Daily Wire"])
    search(app, "xylophone")
    assert not cards(app)
    assert any("No passages match" in w.value for w in app.warning)
    advice = page_html(app)
    assert "search all outlets" in advice and "Semantic" in advice
    run(app.button(key="retry-unfiltered").click())
    assert app.multiselect(key="outlet").value == []
    run(app.button(key="retry-hybrid").click())
    assert app.radio(key="mode").value == "Hybrid"
    assert cards(app)


def test_article_text_and_metadata_are_escaped(app: AppTest) -> None:
    search(run(app), "zebra crossing stripes")
    source = page_html(app)
    assert "zebra crossing" in source.lower()
    assert "<script" not in source.lower() and "<img" not in source.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "&lt;img src=x onerror=alert(1)&gt;" in source
    assert "Evil &lt;b&gt;Outlet&lt;/b&gt;" in source
    assert "<b>Outlet" not in source
    assert SCRIPT in plain(source) and IMG in plain(source)


# ------------------------------------------------------------------ index states


def test_missing_index_is_built_on_first_start(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    archive = write_archive(tmp_path / "archive", {"bakery.md": ARTICLES["bakery.md"]})
    index = tmp_path / "index"
    monkeypatch.setenv("ARCHIVIST_ARCHIVE", str(archive))
    monkeypatch.setenv("ARCHIVIST_INDEX", str(index))
    at = run(AppTest.from_file(str(APP), default_timeout=120))
    assert (index / "manifest.json").exists()
    assert "The archive holds <b>1 article</b>" in page_html(at)


def test_empty_archive_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "archive").mkdir()
    monkeypatch.setenv("ARCHIVIST_ARCHIVE", str(tmp_path / "archive"))
    monkeypatch.setenv("ARCHIVIST_INDEX", str(tmp_path / "index"))
    at = run(AppTest.from_file(str(APP), default_timeout=120))
    assert any("The archive is empty" in i.value for i in at.info)
    search(at, "anything at all")
    assert any("No passages match" in w.value for w in at.warning)


def test_missing_archive_folder_is_explained(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVIST_ARCHIVE", str(tmp_path / "nowhere"))
    monkeypatch.setenv("ARCHIVIST_INDEX", str(tmp_path / "index"))
    at = run(AppTest.from_file(str(APP), default_timeout=60))
    messages = [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]
    assert any("does not exist" in m and "ARCHIVIST_ARCHIVE" in m for m in messages), messages


@pytest.mark.parametrize("damage", ["garbage", "other-model"])
def test_broken_or_stale_index_is_explained_and_rebuilt(
        damage: str, built: tuple[Path, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    archive, index = built
    copy = tmp_path / "index"
    shutil.copytree(index, copy)
    manifest = copy / "manifest.json"
    if damage == "garbage":
        manifest.write_text("{ not json", encoding="utf-8")
    else:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        data["model"]["name"] = "someone/else"
        manifest.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("ARCHIVIST_ARCHIVE", str(archive))
    monkeypatch.setenv("ARCHIVIST_INDEX", str(copy))
    at = run(AppTest.from_file(str(APP), default_timeout=120))
    assert at.error and "reindex" in at.error[0].value.lower()
    rebuild = [b for b in at.button if b.label == "Rebuild the index now"]
    run(rebuild[0].click())
    assert not at.error
    assert "The archive holds <b>5 articles</b>" in page_html(at)


def page_on_a_copy(built: tuple[Path, Path], tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, AppTest]:
    """A page over copies of the shared archive and index, for tests that change them."""
    archive, index = built
    archive_copy, index_copy = tmp_path / "archive", tmp_path / "index"
    shutil.copytree(archive, archive_copy)
    shutil.copytree(index, index_copy)
    monkeypatch.setenv("ARCHIVIST_ARCHIVE", str(archive_copy))
    monkeypatch.setenv("ARCHIVIST_INDEX", str(index_copy))
    return archive_copy, index_copy, run(AppTest.from_file(str(APP), default_timeout=120))

def test_reindex_button_picks_up_a_new_article_without_restart(
        built: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive_copy, index_copy, at = page_on_a_copy(built, tmp_path, monkeypatch)
    write_archive(archive_copy, {"penguins.md": "---\ntitle: Penguin colony grows\noutlet: "
                                 "Polar Post\ndate: 2022-01-10\n---\nThe emperor penguin "
                                 "colony on the ice shelf doubled in size this winter.\n"})
    run(at.button(key="reindex").click())
    assert any("1 added" in s.value for s in at.success)
    assert "6 articles" in page_html(at)
    search(at, "emperor penguin colony")
    assert "penguins.md" in card_html(cards(at)[0])


# ------------------------------------------------------------------ hostile input (issue 6)

# What the page must never show a reader: a traceback, a raw SQLite/FTS5 error, the
# last-resort "Something went wrong" box.
LEAKS = ("traceback", "exception", "fts5", "syntax error", "sqlite", "operationalerror",
         "no such column", "unterminated string", "something went wrong")


def everything_shown(at: AppTest) -> str:
    """All text the page shows, main area and sidebar (markdown but the page's own CSS,
    captions, alerts, code)."""
    parts = [m.value for m in at.markdown if not m.value.lstrip().startswith("<style>")]
    parts += [c.value for c in at.caption]
    for alerts in (at.error, at.warning, at.info, at.success, at.exception):
        parts += [str(getattr(a, "value", a)) for a in alerts]
    parts += [c.value for c in at.code]
    return "\n".join(parts)


def assert_answered_cleanly(at: AppTest) -> None:
    """No exception, no error box, nothing leaked; either cards or a plain "no match" answer."""
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    shown = everything_shown(at).lower()
    leaked = [word for word in LEAKS if word in shown]
    assert not leaked, (leaked, shown[:2000])
    assert cards(at) or any("No passages match" in w.value for w in at.warning), shown[:2000]


@pytest.mark.parametrize("blank", ["", " ", "   \t  ", "\u3000\u00a0 "],
                         ids=["empty", "space", "spaces-tab", "unicode-spaces"])
def test_a_blank_query_shows_a_hint_not_an_error(app: AppTest, blank: str) -> None:
    search(run(app), QUESTION)
    assert cards(app)
    search(app, blank)
    assert not app.error and not app.warning and not app.exception
    assert not cards(app)
    assert "Ask a question in your own words" in page_html(app)


def test_a_blank_query_in_the_url_shows_the_hint(app: AppTest) -> None:
    app.query_params["q"] = "    "
    run(app)
    assert not app.error and not app.warning
    assert not cards(app)
    assert "Ask a question in your own words" in page_html(app)


HOSTILE_QUERIES = {
    "10k-chars": ("bakery bread " * 800)[:10_000],
    "10k-one-word": "x" * 10_000,
    "double-quote": 'bakery "bread',
    "lone-quote": '"',
    "and-paren": "bakery AND (",
    "near": "NEAR(bakery bread",
    "near-args": "NEAR(bakery bread, 5)",
    "star": "*",
    "prefix-star": "bak* *bread",
    "caret": "^bakery",
    "column": "title:bakery",
    "bad-column": "nosuchcolumn:term",
    "operators-only": "AND OR NOT",
    "punctuation": "!@#$%^&*()_+-={}[]|\\:;'<>?,./~`",
    "sql": "'; DROP TABLE articles; --",
    "sql-union": "bakery' UNION SELECT text FROM articles --",
    "html": "<script>alert(1)</script> bakery",
    "persian": "ائتلاف شمال از چه کسانی حمایت گرفت",
    "arabic": "من دعم التحالف الشمالي؟",
    "rtl-mixed": "\u202eNorthern Alliance\u202c تحالف",
    "cjk": "北方联盟得到了谁的支持",
    "japanese": "北部同盟を支援したのは誰か",
    "emoji": "🍞🥖 bakery 🏆",
    "emoji-only": "🔥🔥🔥",
    "zwj-emoji": "👩‍👩‍👧‍👦",
    "nul-and-controls": "bakery\x00\x01\x1b[31m bread",
}


@pytest.mark.parametrize("query", list(HOSTILE_QUERIES.values()), ids=list(HOSTILE_QUERIES))
def test_hostile_queries_answer_without_an_error(app: AppTest, query: str) -> None:
    search(run(app), query)
    assert_answered_cleanly(app)
    # Keyword mode alone: FTS5 is the only retriever, nothing semantic to fall back on.
    run(app.radio(key="mode").set_value("Keyword"))
    assert_answered_cleanly(app)
    assert "Keyword search" in " ".join(c.value for c in app.caption) or not cards(app)


def test_a_long_query_with_the_answer_at_the_start_still_finds_it(app: AppTest) -> None:
    search(run(app), "village bakery sourdough " + "filler " * 2000)
    assert_answered_cleanly(app)
    assert "bakery.md" in card_html(cards(app)[0])


BAD_URL_FILTERS = {
    "bad-month": {"since": "2021-13-45"},
    "bad-day": {"until": "2021-02-30"},
    "words": {"since": "not-a-date", "until": "also-not"},
    "year-5-digits": {"since": "99999-01-01"},
    "unknown-outlet": {"outlet": "No Such Paper"},
    "known-and-unknown-outlet": {"outlet": ["Local Gazette", "No Such Paper"]},
    "html-outlet": {"outlet": "<script>alert(1)</script>"},
    "all-bad": {"since": "2021-13-45", "outlet": "No Such Paper", "k": "-3", "undated": "maybe"},
}


@pytest.mark.parametrize("params", list(BAD_URL_FILTERS.values()), ids=list(BAD_URL_FILTERS))
def test_bad_filters_in_the_url_fall_back_to_defaults_and_still_search(
        app: AppTest, params: dict) -> None:
    app.query_params.update({"q": "bread bakery", **params})
    run(app)
    assert_answered_cleanly(app)
    assert app.date_input(key="since").value is None
    assert app.date_input(key="until").value is None
    known = {"Local Gazette"} if "Local Gazette" in params.get("outlet", []) else set()
    assert set(app.multiselect(key="outlet").value) == known
    # The bad values leave the URL, so a bookmark of this page is a valid search.
    bad = [v for v in params.values() if isinstance(v, str)] + ["No Such Paper"]
    assert not any(b in str(app.query_params) for b in bad), app.query_params
    assert app.query_params["q"] == "bread bakery"


@pytest.mark.parametrize("params", [{"since": "1900-01-01"}, {"until": "2999-12-31"}],
                         ids=["before-the-first-article", "after-the-last-article"])
def test_real_dates_outside_the_archive_in_the_url_still_search(
        app: AppTest, params: dict) -> None:
    app.query_params.update({"q": "bread bakery", **params})
    run(app)
    assert_answered_cleanly(app)
    # Kept or reset to "open": either way nothing in the archive is filtered out.
    assert app.date_input(key="since").value in (None, dt.date(1900, 1, 1))
    assert app.date_input(key="until").value in (None, dt.date(2999, 12, 31))
    assert "bakery.md" in card_html(cards(app)[0])


def test_a_reversed_date_range_in_the_url_is_explained(app: AppTest) -> None:
    app.query_params.update({"q": "bread bakery", "since": "2021-09-03", "until": "2020-05-01"})
    run(app)
    assert not app.error and not cards(app)
    assert any("From date is after the To date" in w.value for w in app.warning)


# ------------------------------------------------------------------ searching during a reindex


PENGUINS = ("---\ntitle: Penguin colony grows\noutlet: Polar Post\ndate: 2022-01-10\n---\n"
            "The emperor penguin colony on the ice shelf doubled in size this winter.\n")


class GatedEmbedder(Embedder):
    """The real model behind a gate: `encode_passages` says it has started, then waits to be let go.

    It holds a reindex in its embedding stage (after reading, before publishing) for as long
    as the test needs, so the page is certainly run mid-reindex, with no timing guesswork.
    """

    def __init__(self, real: Embedder) -> None:
        super().__init__(real.model_path)
        self.real = real
        self.entered = threading.Event()
        self.release = threading.Event()

    def load(self):
        return self.real.load()

    def encode_passages(self, texts, sentence_spans, batch_size=32, progress=None, pause=None):
        self.entered.set()
        if not self.release.wait(timeout=60):
            raise TimeoutError("the test never released the reindex")
        return self.real.encode_passages(texts, sentence_spans, batch_size=batch_size, progress=progress)


def test_searches_during_a_reindex_use_the_old_index_then_switch_without_restart(
        built: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        real_embedder: Embedder) -> None:
    archive_copy, index_copy, at = page_on_a_copy(built, tmp_path, monkeypatch)
    search(at, "emperor penguin colony")
    before = [card_html(c) for c in cards(at)]
    assert "penguins.md" not in page_html(at)
    old_build = current_build_id(index_copy)

    write_archive(archive_copy, {"penguins.md": PENGUINS})
    embedder = GatedEmbedder(real_embedder)
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(reindex, archive_copy, index_copy, embedder=embedder)
        try:
            assert embedder.entered.wait(timeout=60), "the reindex never reached embedding"
            # Mid-reindex: the same search answers as before, from the old index...
            run(at)
            assert [card_html(c) for c in cards(at)] == before
            assert "penguins.md" not in page_html(at)
            # ...and so does a new one.
            search(at, "village bakery sourdough")
            assert "bakery.md" in card_html(cards(at)[0])
            assert "The archive holds" not in page_html(at)  # results, not the empty state
            assert not job.done() and current_build_id(index_copy) == old_build
        finally:
            embedder.release.set()
        report = job.result(timeout=120)
    assert report.added == 1 and current_build_id(index_copy) == report.build_id != old_build

    # The same page, no restart: the next run reads the new build.
    search(at, "emperor penguin colony")
    assert "penguins.md" in card_html(cards(at)[0])
    assert "6 articles" in page_html(at)


# ------------------------------------------------------------------ copies and timeline (issue 7)

FLOOD = ("Flood waters on the Severn rose another metre overnight, and the town council opened "
         "the sports hall as an emergency shelter for families from the lower streets. Volunteers "
         "filled sandbags by the market square until two in the morning, while the fire brigade "
         "pumped water from the cellars of the old bakery. The council leader said the defences "
         "built after the 2007 floods were holding, but warned that heavy rain forecast for "
         "Thursday could push the river over the wall near the bridge.")
FLOOD_NEAR = FLOOD.replace("two in the morning", "three in the morning")
FLOOD_REWRITE = (
    "The River Severn climbed a further metre during the night, forcing the council to turn the "
    "sports hall into a shelter for households from the low-lying streets. Sandbags were filled "
    "in the market square by volunteers into the early hours, and firefighters pumped out "
    "flooded cellars beneath the old bakery. According to the council leader, flood defences "
    "put up after 2007 are still holding, though Thursday's expected downpour may send the "
    "river over the wall by the bridge.")


def article(title: str, outlet: str, date: str | None, body: str) -> str:
    dated = f"date: {date}\n" if date else ""
    return f"---\ntitle: {json.dumps(title)}\noutlet: {outlet}\n{dated}---\n{body}\n"


# One story in four articles, none of them first in the file order, plus an undated follow-up
# and an unrelated article two years older. The near copy's headline is hostile.
COPIES = {
    "flood.md": article("River town braces as flood waters rise", "River Times", "2022-03-02",
                        FLOOD),
    "flood-wire.md": article("River town braces as flood waters rise", "Wire Service",
                             "2022-03-01", FLOOD),
    "flood-near.md": article(f"Town braces as Severn flood waters rise {SCRIPT}", "Valley News",
                             "2022-03-05", FLOOD_NEAR),
    "flood-rewrite.md": article("Severn flooding forces families from their homes",
                                "Daily Courier", "2022-03-04", FLOOD_REWRITE),
    "flood-undated.md": article("Flood warning stays in place", "River Times", None,
                                "The Environment Agency kept its flood warning for the Severn in "
                                "place on Friday and asked drivers to avoid the riverside road."),
    "bakery.md": ARTICLES["bakery.md"],
}
# How the story's articles relate, by outlet (the relation is symmetric).
RELATION = {frozenset(pair): kind for pair, kind in [
    (("River Times", "Wire Service"), "exact"), (("River Times", "Valley News"), "near"),
    (("Wire Service", "Valley News"), "near"), (("River Times", "Daily Courier"), "rewrite"),
    (("Wire Service", "Daily Courier"), "rewrite"), (("Valley News", "Daily Courier"), "rewrite")]}
BADGES = {"exact": "exact copy", "near": "near copy", "rewrite": "rewrite"}
STORY_BY_DATE = ["Wire Service", "River Times", "Daily Courier", "Valley News"]


@pytest.fixture(scope="module")
def copies_built(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> tuple[Path, Path]:
    """An archive with one story carried four ways, indexed with the real reindex and model."""
    base = tmp_path_factory.mktemp("copies")
    archive = write_archive(base / "archive", COPIES)
    report = reindex(archive, base / "index", embedder=real_embedder)
    assert report.articles == len(COPIES), report.skipped
    return archive, base / "index"


@pytest.fixture
def copies_app(copies_built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    archive, index = copies_built
    monkeypatch.setenv("ARCHIVIST_ARCHIVE", str(archive))
    monkeypatch.setenv("ARCHIVIST_INDEX", str(index))
    return AppTest.from_file(str(APP), default_timeout=60)


def source_items(expander) -> list[str]:
    """The "Carried by" list's entries, as HTML, in the order shown."""
    source = "\n".join(m.value for m in expander.markdown)
    assert '<ol class="ar-sources">' in source
    return source.split('<li class="ar-source">')[1:]


def item_outlet(item: str) -> str:
    meta = re.search(r'<div class="ar-meta">(.*?)</div>', item).group(1)
    return plain(meta).split(" · ")[0]


def test_carried_by_lists_every_source_earliest_first_with_kind_and_wording(
        copies_app: AppTest) -> None:
    search(run(copies_app), "council opened the sports hall as an emergency shelter")
    card = cards(copies_app)[0]
    own = next(o for o in STORY_BY_DATE if o in plain(card.markdown[0].value))
    assert own != "Daily Courier", "the question quotes the original; the rewrite should not lead"
    carried = card.expander[0]
    assert carried.label == "Also carried by 3 other articles (4 sources in all)"
    items = source_items(carried)
    assert [item_outlet(i) for i in items] == STORY_BY_DATE
    assert [re.search(r"\d+ Mar 2022", plain(i)).group(0) for i in items] == [
        "1 Mar 2022", "2 Mar 2022", "4 Mar 2022", "5 Mar 2022"]
    wording = {"Wire Service": "until two in the morning", "River Times": "until two in the morning",
               "Valley News": "until three in the morning", "Daily Courier": "climbed a further metre"}
    for item in items:
        outlet, text = item_outlet(item), plain(item)
        badge = re.search(r'class="ar-badge ar-badge-(\w+)"[^>]*>([^<]+)<', item).groups()
        if outlet == own:
            assert badge == ("own", "this article")
            assert "ar-source-text" not in item  # its wording is the card's passage, above
        else:
            kind = RELATION[frozenset((own, outlet))]
            assert badge == (kind, BADGES[kind]), (own, outlet)
            assert wording[outlet] in text  # that article's own words, not the card's
    assert sum("this article" in plain(i) for i in items) == 1
    # Headlines stay text, whatever they hold.
    source = "".join(items)
    assert "<script" not in source.lower() and SCRIPT in plain(source)


def test_a_passage_nobody_else_carries_has_no_carried_by(copies_app: AppTest) -> None:
    search(run(copies_app), "village bakery sourdough")
    assert [e.label for e in cards(copies_app)[0].expander] == ["Full article"]


def chart_rows(at: AppTest) -> list[dict]:
    """The timeline's data as the page sent it to the browser, one row per bar."""
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    return pa.ipc.open_stream(charts[0].proto.data.data).read_all().to_pylist()


def captions(at: AppTest) -> str:
    return " | ".join(c.value for c in at.caption)


def test_timeline_counts_matching_articles_per_period(copies_app: AppTest) -> None:
    run(copies_app)
    copies_app.radio(key="mode").set_value("Keyword")
    search(copies_app, "flood")
    # One card carries the story's four articles; all four are counted, each on its day.
    rows = chart_rows(copies_app)
    assert [(r["from"], r["to"], r["articles"]) for r in rows] == [
        ("2022-03-01", "2022-03-01", 1), ("2022-03-02", "2022-03-02", 1),
        ("2022-03-04", "2022-03-04", 1), ("2022-03-05", "2022-03-05", 1)]
    assert [r["period"] for r in rows] == ["1 Mar 2022", "2 Mar 2022", "4 Mar 2022", "5 Mar 2022"]
    assert all(r["shown"] for r in rows)
    assert "4 matching articles by day, 1 undated not shown" in captions(copies_app)
    # Hybrid matches the bakery too: two years apart, so bars are months.
    run(copies_app.radio(key="mode").set_value("Hybrid"))
    rows = chart_rows(copies_app)
    assert [(r["from"], r["to"], r["articles"]) for r in rows] == [
        ("2020-05-01", "2020-05-31", 1), ("2022-03-01", "2022-03-31", 4)]
    assert [r["period"] for r in rows] == ["May 2020", "Mar 2022"]
    assert "5 matching articles by month" in captions(copies_app)


def test_timeline_ignores_the_date_filter_and_pales_bars_outside_it(copies_app: AppTest) -> None:
    run(copies_app)
    copies_app.radio(key="mode").set_value("Keyword")
    copies_app.date_input(key="since").set_value(dt.date(2022, 3, 3))
    search(copies_app, "flood")
    rows = chart_rows(copies_app)
    assert len(rows) == 4  # the chart shows the whole spread, not the filtered results
    assert [r["shown"] for r in rows] == [False, False, True, True]


def test_no_timeline_when_no_matching_article_has_a_date(app: AppTest) -> None:
    run(app)
    app.radio(key="mode").set_value("Keyword")
    search(app, "harbour lighthouse")
    assert not app.get("vega_lite_chart")
    assert "No timeline: the matching article has no date" in captions(app)
    assert cards(app)


DAY = dt.timedelta(days=1)
MAR = [Period(dt.date(2022, 3, d), dt.date(2022, 3, d), f"{d} Mar 2022", 1)
       for d in (1, 2, 4, 5)]


def ms(day: dt.date, hours: float = 0) -> float:
    return epoch_ms(day) + hours * 3_600_000


@pytest.mark.parametrize("selection, expected", [
    ({"bar": [{"from": "2022-03-04", "to": "2022-03-04"}]}, ("2022-03-04", "2022-03-04")),
    ({"bar": [{"from": "2022-03-05", "to": "2022-03-05"},  # shift-click: both bars
              {"from": "2022-03-01", "to": "2022-03-01"}]}, ("2022-03-01", "2022-03-05")),
    ({"bar": [{"from": "2020-05-01", "to": "2020-05-31"}]}, ("2020-05-01", "2020-05-31")),
    # A brush from the middle of one bar to the middle of another takes both, whole.
    ({"span": {"start": [ms(dt.date(2022, 3, 2), 15), ms(dt.date(2022, 3, 4), 6)]}},
     ("2022-03-02", "2022-03-04")),
    # Ends in either order, as ISO strings too.
    ({"span": {"start": ["2022-03-05T12:00:00Z", "2022-03-04T01:00:00.000Z"]}},
     ("2022-03-04", "2022-03-05")),
    # A brush over the gap between bars keeps its own dates.
    ({"span": {"start": [ms(dt.date(2022, 3, 3), 1), ms(dt.date(2022, 3, 3), 20)]}},
     ("2022-03-03", "2022-03-03")),
    # A brush wins over the click that ended it.
    ({"span": {"start": [ms(dt.date(2022, 3, 1), 3), ms(dt.date(2022, 3, 2), 3)]},
      "bar": [{"from": "2022-03-05", "to": "2022-03-05"}]}, ("2022-03-01", "2022-03-02")),
    ({}, None), ({"bar": [], "span": {}}, None), ({"bar": [{"from": "junk"}]}, None),
    ({"span": {"start": [None, "nonsense"]}}, None),
], ids=["click", "two-clicks", "month", "brush", "brush-iso", "brush-gap", "brush-and-click",
        "nothing", "emptied", "bad-point", "bad-brush"])
def test_a_chart_selection_becomes_a_period(selection: dict, expected: tuple | None) -> None:
    got = selected_period(selection, MAR)
    assert (got and (got[0].isoformat(), got[1].isoformat())) == expected


def test_applying_a_selection_sets_the_filters_and_show_all_dates_undoes_it() -> None:
    bounds = (dt.date(2022, 3, 2), dt.date(2022, 3, 31))
    state = {"tl": {"selection": {"bar": [{"from": "2022-03-01", "to": "2022-03-04"}]}},
             "undated": True}
    apply_selection(state, "tl", tuple(MAR), bounds)
    # Kept inside the archive's dates (the inputs refuse others); undated left out meanwhile.
    assert (state["since"], state["until"]) == (dt.date(2022, 3, 2), dt.date(2022, 3, 4))
    assert state["undated"] is False
    before = dict(state)
    apply_selection({**state, "tl": {"selection": {"bar": [], "span": {}}}}, "tl",
                         tuple(MAR), bounds)
    assert state == before  # an emptied selection changes nothing
    clear_dates(state)
    assert state["since"] is None and state["until"] is None and state["undated"] is True
    # Undated articles the reader had left out stay out.
    state = {"tl": {"selection": {"bar": [{"from": "2022-03-05", "to": "2022-03-05"}]}},
             "undated": False}
    apply_selection(state, "tl", tuple(MAR), bounds)
    clear_dates(state)
    assert state["undated"] is False


def test_a_timeline_period_narrows_the_results_and_can_be_cleared(copies_app: AppTest) -> None:
    run(copies_app)
    copies_app.radio(key="mode").set_value("Keyword")
    search(copies_app, "flood")
    assert len(cards(copies_app)) == 2  # the story (one card) and the undated follow-up
    key = "timeline-chart--"  # the chart's key while no date filter is set
    assert copies_app.get("vega_lite_chart")[0].proto.id.endswith(key)
    periods = tuple(Period(dt.date.fromisoformat(r["from"]), dt.date.fromisoformat(r["to"]),
                                r["period"], r["articles"]) for r in chart_rows(copies_app))
    # What the chart's callback does when the reader clicks the 4 Mar bar...
    state = {key: {"selection": {"bar": [{"from": "2022-03-04", "to": "2022-03-04"}]}},
             "undated": True}
    apply_selection(state, key, periods, (dt.date(2020, 5, 1), dt.date(2022, 3, 5)))
    for name in ("since", "until", "undated", "undated_by_timeline"):
        copies_app.session_state[name] = state[name]
    run(copies_app)
    # ...narrows the results to that day (the browser test sees it reach the URL).
    found = cards(copies_app)
    assert len(found) == 1 and "Daily Courier" in found[0].markdown[0].value
    assert "4 Mar 2022" in found[0].markdown[0].value
    assert copies_app.date_input(key="since").value == dt.date(2022, 3, 4)
    assert copies_app.date_input(key="until").value == dt.date(2022, 3, 4)
    assert copies_app.checkbox(key="undated").value is False
    assert "showing results of 4 Mar 2022" in captions(copies_app)
    assert [r["shown"] for r in chart_rows(copies_app)] == [False, False, True, False]
    run(copies_app.button(key="timeline-clear").click())
    assert copies_app.date_input(key="since").value is None
    assert copies_app.date_input(key="until").value is None
    assert copies_app.checkbox(key="undated").value is True
    assert len(cards(copies_app)) == 2
    assert not any(b.key == "timeline-clear" for b in copies_app.button)


# ------------------------------------------------------------------ who may read the page

def test_beyond_loopback_without_a_password_the_page_refuses(app, monkeypatch):
    from page import gate

    monkeypatch.delenv("ARCHIVIST_PAGE_PASSWORD", raising=False)
    monkeypatch.setattr(gate, "listening_address", lambda: "0.0.0.0")
    at = run(app)
    assert any("without a password" in e.value and "ARCHIVIST_PAGE_PASSWORD" in e.value for e in at.error)
    assert not at.text_input and "The archive holds" not in page_html(at)


def test_with_a_password_the_page_asks_for_it_first(app, monkeypatch):
    monkeypatch.setenv("ARCHIVIST_PAGE_PASSWORD", "correct horse")
    at = run(app)
    assert [t.key for t in at.text_input] == ["password"] and "The archive holds" not in page_html(at)
    at.text_input(key="password").set_value("wrong horse")
    at = run(at.button[0].click())
    assert any("not right" in e.value for e in at.error)
    at.text_input(key="password").set_value("correct horse")
    at = run(at.button[0].click())
    assert "The archive holds" in page_html(at) and at.text_input(key="q")


def test_queries_stay_out_of_the_log_unless_asked_for(app, monkeypatch):
    import logging

    from page import state

    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    state.log.addHandler(handler)
    try:
        monkeypatch.delenv("ARCHIVIST_LOG_QUERIES", raising=False)
        search(run(app), "sourdough bread")
        assert messages and not any("sourdough" in m for m in messages)
        assert any("<15 characters>" in m for m in messages)
        monkeypatch.setenv("ARCHIVIST_LOG_QUERIES", "1")
        assert state.logged_query("who is the source") == "'who is the source'"
    finally:
        state.log.removeHandler(handler)


# ------------------------------------------------------------------ links that keep what they say

def test_a_shared_link_keeps_dates_outside_the_archive_range(app: AppTest) -> None:
    app.query_params.update({"q": "Taliban allies", "since": "2021-08-01", "until": "2021-09-30"})
    run(app)
    assert app.date_input(key="since").value == dt.date(2021, 8, 1)
    assert app.date_input(key="until").value == dt.date(2021, 9, 30)
    assert not app.warning
    shown = " ".join(card_html(c) for c in cards(app))
    assert "alliance.md" in shown and "bakery.md" not in shown and "hostile.md" not in shown  # 2020, Jan 2021


def test_a_link_value_that_cannot_apply_is_named(app: AppTest) -> None:
    app.query_params.update({"q": "bread", "k": "999", "mode": "bogus", "outlet": "Nobody",
                             "since": "not-a-date"})
    run(app)
    said = " ".join(w.value for w in app.warning).replace("\\", "")  # markdown escapes
    for part in ("k=999", "'bogus'", "'Nobody'", "since=not-a-date", "could not be followed"):
        assert part in said, said
    run(app)  # said once, for the link; a later run by the reader's own choices says nothing new
    assert cards(app)


def test_the_unknown_outlet_and_author_filters(app: AppTest) -> None:
    run(app)
    assert "(unknown outlet)" in app.multiselect(key="outlet").options
    app.multiselect(key="outlet").set_value(["(unknown outlet)"])
    search(app, "lighthouse harbour repainted")
    assert {("lighthouse.txt" in card_html(c)) for c in cards(app)} == {True}
    app.multiselect(key="outlet").set_value([])
    app.text_input(key="author").set_value("nobody-writes-here")
    run(app)
    assert not cards(app)


def test_show_more_results_goes_past_the_first_page(app: AppTest) -> None:
    app.query_params.update({"k": "2"})
    search(run(app), "the")
    assert len(cards(app)) == 2
    run(app.button(key="show-more").click())
    assert len(cards(app)) > 2 and app.slider(key="k").value == 12


# ------------------------------------------------------------------ weak matches said plainly

def test_a_question_the_archive_cannot_answer_says_so_before_the_cards(app: AppTest) -> None:
    search(run(app), "price of cocoa in Brazil")
    assert any(w.value.startswith("No strong match in the archive; the closest passages are:") for w in app.warning)
    found = cards(app)
    assert found and all("weak match" in card_html(c) and "ar-best" not in card_html(c) for c in found)
    assert all("ar-weak" in card_html(c) for c in found)


def test_an_answered_question_stays_strong_and_marks_its_sentence(app: AppTest) -> None:
    search(run(app), QUESTION)
    assert not any("No strong match" in w.value for w in app.warning)
    first = card_html(cards(app)[0])
    assert "strong match" in first and "ar-best" in first


# ------------------------------------------------------------------ articles, not only passages

def test_one_card_per_article_with_its_other_passages_and_the_count(app: AppTest) -> None:
    search(run(app), "Taliban alliance support")
    passages = len(cards(app))
    app.checkbox(key="per_article").check()
    run(app)
    shown = [card_html(c) for c in cards(app)]
    paths = [p for c in shown for p in ("alliance.md", "alliance-copy.md", "bakery.md", "lighthouse.txt", "hostile.md")
             if p in c]
    assert len(paths) == len(set(paths)) and len(shown) <= passages
    assert any("matching article" in c.value and "one card per article" in c.value for c in app.caption)
    assert app.checkbox(key="per_article").proto.query_param_key == "per_article"  # kept in the link
    assert app.radio(key="sort").proto.query_param_key == "sort"


def test_newest_first_orders_the_strong_matches_by_date(app: AppTest) -> None:
    app.query_params.update({"q": "repainted", "mode": "Keyword", "sort": "Newest"})
    run(app)
    shown = [card_html(c) for c in cards(app)]
    assert len(shown) == 2 and "hostile.md" in shown[0] and "lighthouse.txt" in shown[1]  # 2021 before undated
