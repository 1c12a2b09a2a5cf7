"""The page over a PostgreSQL index ($ARCHIVIST_INDEX_URL): Streamlit's AppTest against a real
server (tests/pg_server.py) holding the seed index, published with the real `archivist publish`.

It must answer as the embedded page does (the same first card for a seed question), say in the
sidebar that it reads the database read-only, offer nothing that writes (Reindex, uploads,
watches, name clean-ups), show "More like this" as the embedded page does, keep one searcher per
browser session (psycopg connections are not shared between threads), follow a new publish, and
explain an unreachable or empty database in one line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pg_server import database, fresh_database, server_url  # noqa: F401 (fixtures)
from test_app import APP, QUESTION, card_html, cards, everything_shown, fresh_cache, plain, run, search  # noqa: F401
from test_postgres import published

from archivist.storage.postgres.connection import redacted
from page.loading import POSTGRES_SEARCHER
from page.sidebar import POSTGRES_NOTE


@pytest.fixture(scope="module")
def seed_url(seed_index: Path, server_url: str) -> str:  # noqa: F811
    """A database the seed index was published to (generation 1), shared by the module."""
    url = fresh_database(server_url)
    published(seed_index, url)
    return url


def embedded_page(seed_index: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("ARCHIVIST_INDEX_URL", raising=False)
    monkeypatch.setenv("ARCHIVIST_ARCHIVE", str(seed_index.parent / "archive"))
    monkeypatch.setenv("ARCHIVIST_INDEX", str(seed_index))
    return AppTest.from_file(str(APP), default_timeout=120)


def postgres_page(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The page with $ARCHIVIST_INDEX_URL set; the folders point nowhere, so nothing embedded is
    read or built."""
    monkeypatch.setenv("ARCHIVIST_INDEX_URL", url)
    monkeypatch.setenv("ARCHIVIST_ARCHIVE", str(tmp_path / "no-archive"))
    monkeypatch.setenv("ARCHIVIST_INDEX", str(tmp_path / "no-index"))
    return AppTest.from_file(str(APP), default_timeout=120)


def first_card(at: AppTest) -> tuple[str, str]:
    """The first card's headline and passage, as the reader sees them."""
    found = cards(at)
    assert found, everything_shown(at)[:2000]
    source = card_html(found[0])
    title = re.search(r'class="ar-title[^"]*">(.*?)</div>', source, re.S)
    passage = re.search(r'class="ar-text[^"]*">(.*?)</div>', source, re.S)
    assert title and passage, source[:2000]
    return plain(title.group(1)), plain(passage.group(1))


def sidebar_text(at: AppTest) -> str:
    return "\n".join([m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption])


def test_a_search_shows_the_same_first_card_as_the_embedded_page(
        seed_index: Path, seed_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded = first_card(search(run(embedded_page(seed_index, monkeypatch)), QUESTION))
    at = search(run(postgres_page(seed_url, tmp_path, monkeypatch)), QUESTION)
    assert first_card(at) == embedded
    assert not at.error and not at.warning
    assert not (tmp_path / "no-index").exists()  # no first-start build
    full = cards(at)[0].expander[-1]
    assert full.label == "Full article" and "ar-passage-1" in "\n".join(m.value for m in full.markdown)
    # The watchlist and the clean-ups of names are kept in the database, so both are offered.
    keys = {button.key for button in at.button}
    assert "like-1" in keys and "watch-this" in keys
    assert any(e.label.startswith("Watchlist") for e in at.sidebar.expander)
    assert [p for p in at.get("popover") if "Clean up names" in str(p.proto)]


def status_rows(at: AppTest) -> list[str]:
    """The lines of the sidebar's index status."""
    status = [m.value for m in at.sidebar.markdown if 'class="ar-status"' in m.value]
    assert len(status) == 1, sidebar_text(at)
    return status[0].removeprefix('<div class="ar-status">').removesuffix("</div>").split("<br>")


def test_the_sidebar_says_it_reads_postgres_read_only_without_reindex_or_uploads(
        seed_index: Path, seed_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded = status_rows(run(embedded_page(seed_index, monkeypatch)))
    at = run(postgres_page(seed_url, tmp_path, monkeypatch))
    rows = status_rows(at)
    assert rows[:3] == embedded[:3]  # counts, dates and build time as over the embedded index
    assert rows[-1].startswith(f'Reads the PostgreSQL index at <code title="{redacted(seed_url)}">')
    assert rows[-1].endswith("</code> (read-only), generation 1")
    assert POSTGRES_NOTE in [c.value for c in at.sidebar.caption]
    assert "reindex" not in {button.key for button in at.sidebar.button}
    assert not any(e.label == "Add files to the archive" for e in at.sidebar.expander)
    assert not at.sidebar.get("file_uploader")
    assert "The archive holds" in "\n".join(m.value for m in at.markdown)


def test_entity_facets_filter_the_search_over_postgres(
        seed_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = search(run(postgres_page(seed_url, tmp_path, monkeypatch)), QUESTION)
    facets = [button for button in at.button if (button.key or "").startswith("facet-")]
    assert facets, everything_shown(at)[:2000]
    run(facets[0].click())
    assert at.text_input(key="entity").value == facets[0].label.rsplit(" · ", 1)[0]
    assert cards(at) and not at.error and not at.warning


def test_each_browser_session_has_its_own_searcher_follows_a_publish_and_reopens(
        seed_index: Path, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    published(seed_index, database)
    one = run(postgres_page(database, tmp_path, monkeypatch))
    two = run(postgres_page(database, tmp_path, monkeypatch))
    first, second = one.session_state[POSTGRES_SEARCHER], two.session_state[POSTGRES_SEARCHER]
    assert first is not second and first.connection is not second.connection
    assert first.embedder is second.embedder  # the model is loaded once per process
    published(seed_index, database)
    run(one)
    assert "(read-only), generation 2" in sidebar_text(one)
    assert one.session_state[POSTGRES_SEARCHER] is first  # the same searcher, switched over
    first.connection.close()  # as a server restart leaves it: the session opens a new one
    run(one)
    assert one.session_state[POSTGRES_SEARCHER] is not first and not one.error


@pytest.mark.parametrize("where", ["unreachable", "nothing published"])
def test_an_unreachable_or_empty_database_gives_one_error_line(
        where: str, server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    url = ("postgresql://archivist:secret@127.0.0.1:1/archive" if where == "unreachable"
           else fresh_database(server_url))
    at = run(postgres_page(url, tmp_path, monkeypatch))
    assert len(at.error) == 1, [e.value for e in at.error]
    message = at.error[0].value
    assert "\n" not in message.strip()
    assert ("Cannot reach PostgreSQL" in message and "secret" not in message if where == "unreachable"
            else "no published build yet" in message and "publish" in message)
    assert not at.exception and "traceback" not in everything_shown(at).lower()
    assert not cards(at) and not (tmp_path / "no-index").exists()


def test_more_like_this_over_postgres_shows_the_passages_the_embedded_page_shows(
        seed_index: Path, seed_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = []
    for at in (embedded_page(seed_index, monkeypatch), postgres_page(seed_url, tmp_path, monkeypatch)):
        search(run(at), QUESTION)
        run(at.button(key="like-1").click())
        assert at.query_params.get("like") and not at.error, [e.value for e in at.error]
        pages.append([plain(card_html(card)) for card in cards(at)])
        liked = at.query_params.get("like")
    assert pages[0] and pages[0] == pages[1]
    # A shared ?like= link opens the same passages.
    at = postgres_page(seed_url, tmp_path, monkeypatch)
    at.query_params.update({"q": QUESTION, "like": liked})
    run(at)
    assert [plain(card_html(card)) for card in cards(at)] == pages[1] and not at.error


def list_of_names_table(at: AppTest, names: str) -> list[dict]:
    """The "Search a list of names" table after pasting `names` (Keyword matching)."""
    at.text_area(key="batch-text").set_value(names)
    run(at.button(key="batch-run").click())
    assert not at.warning, [w.value for w in at.warning]
    return at.dataframe[0].value.to_dict("records")


def test_a_list_of_names_over_postgres_gives_the_embedded_table(
        seed_index: Path, seed_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The list searches every name against the database (every matching article counted, as the
    embedded page counts them), with the same best hit and dates."""
    names = "Ahmad Massoud\nAmrullah Saleh\n\"National Resistance Front\"\nZanzibar"
    embedded = list_of_names_table(run(embedded_page(seed_index, monkeypatch)), names)
    table = list_of_names_table(run(postgres_page(seed_url, tmp_path, monkeypatch)), names)
    assert table == embedded
    counts = {row["query"]: row["matching_articles"] for row in table}
    assert counts["Ahmad Massoud"] > 0 and counts["Zanzibar"] == 0


def test_watch_this_search_over_postgres_keeps_the_watch_in_the_database(
        server_url: str, seed_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """"Watch this search" on the page over Postgres writes the watch into the database (the CLI
    and the API read the same one), and the sidebar's Watchlist lists it with its count."""
    from archivist.watchlist import watchlist_at

    url = fresh_database(server_url)
    published(seed_index, url)
    at = search(run(postgres_page(url, tmp_path, monkeypatch)), "Massoud")
    run(at.button(key="watch-this").click())
    watches = watchlist_at(tmp_path / "no-index", url).watches()
    assert [(w.id, w.query, w.mode) for w in watches] == [(1, "Massoud", "hybrid")]  # the page's mode
    assert any(e.label == "Watchlist" for e in at.sidebar.expander)
    assert f"Massoud (hybrid) · {len(watches[0].seen)} matching, none new" in [b.label for b in at.sidebar.button]
    assert not (tmp_path / "no-index").exists()


def test_hiding_a_name_on_the_page_over_postgres_keeps_it_hidden_in_the_database(
        server_url: str, seed_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """"Clean up names" over Postgres writes into the database: the facet goes, and `entities
    --index-url` (another process) no longer lists the name."""
    import json
    import subprocess
    import sys

    from conftest import PROJECT

    url = fresh_database(server_url)
    published(seed_index, url)
    at = search(run(postgres_page(url, tmp_path, monkeypatch)), QUESTION)
    facets = [b for b in at.button if (b.key or "").startswith("facet-")]
    name = facets[0].label.rsplit(" · ", 1)[0]
    at.selectbox(key="cleanup-name").set_value(name)
    at.radio(key="cleanup-action").set_value("Hide")
    run(at.button(key="cleanup-apply").click())
    assert name not in [b.label.rsplit(" · ", 1)[0] for b in at.button if (b.key or "").startswith("facet-")]
    assert any(name in s.value for s in at.success)
    listed = subprocess.run([sys.executable, "-m", "archivist", "entities", "--json", "--limit", "0", "--index-url",
                             url], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0 and name not in {r["name"] for r in json.loads(listed.stdout)["entities"]}


def test_reindex_on_the_page_over_postgres_publishes_the_archive_beside_it(
        server_url: str, seed_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """A page started beside the archive folder offers Reindex over Postgres too: it builds in
    the working folder and publishes into the database, and the page then reads the new generation."""
    import shutil

    from conftest import SEED_ARCHIVE, write

    url = fresh_database(server_url)
    published(seed_index, url)
    archive = tmp_path / "archive"
    shutil.copytree(SEED_ARCHIVE, archive)
    write(archive / "cocoa.txt", "Cocoa harvest report\n\nCocoa growers in the Brazilian state of Bahia "
                                 "expect a record harvest this season.\n")
    monkeypatch.setenv("ARCHIVIST_INDEX_URL", url)
    monkeypatch.setenv("ARCHIVIST_ARCHIVE", str(archive))
    monkeypatch.setenv("ARCHIVIST_INDEX", str(tmp_path / "work"))
    at = run(AppTest.from_file(str(APP), default_timeout=300))
    assert "(read-only)" not in "\n".join(status_rows(at)) and POSTGRES_NOTE not in [c.value for c in at.sidebar.caption]
    run(at.sidebar.button(key="reindex").click())
    summary = [s.value for s in at.sidebar.success]
    assert summary and "6 articles indexed" in summary[0] and "published as generation 2" in summary[0], summary
    assert any(row.endswith("generation 2") for row in status_rows(at))
    assert first_card(search(at, "cocoa harvest in Bahia"))[0].endswith("Cocoa harvest report")


def test_a_page_not_started_beside_the_archive_on_purpose_stays_read_only(
        seed_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without $ARCHIVIST_ARCHIVE the page over Postgres never offers Reindex, even though the
    checkout's own archive/ exists: it would replace every reader's index with that folder."""
    page = postgres_page(seed_url, tmp_path, monkeypatch)
    monkeypatch.delenv("ARCHIVIST_ARCHIVE")
    at = run(page)
    assert (Path(APP).parent / "archive").is_dir()
    assert "reindex" not in {button.key for button in at.sidebar.button}
    assert POSTGRES_NOTE in [c.value for c in at.sidebar.caption]
