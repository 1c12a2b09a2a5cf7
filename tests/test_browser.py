"""The page in a real browser: Playwright driving Debian's Chromium against `streamlit run app.py`.

Why: AppTest checks the script, not what a reader sees. Only a browser shows whether the
highlights render, whether article text stays text (no script runs, no image loads), whether the
URL carries the search, and whether the page reaches for an outside host.

The archive is a copy of the shipped `archive/` plus one hostile article, and the index folder
starts empty, so the test also walks the first start (the page builds the index itself).
Screenshots land in tests/screenshots/ (ignored by git). In CI (CI set) a missing browser fails
the test; on a developer machine it skips.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import SEED_ARCHIVE

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "tests" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
QUESTION = "who supported the Northern Alliance"
PASSAGE = "received support from regional countries including Russia"
NEWSWEEK = ("Anti-Taliban Forces: U.S. 'Won't Have an Ally' in Afghanistan to Fight Terrorism "
            "if We Lose")
# Seed article 000 (dated 3 Sep 2021) rewrites 001 (Newsweek, undated): one story, two sources.
REWRITE_TITLE = ("Anti-Taliban Forces: If We Lose in Afghanistan, We Won\u2019t Have an Ally to "
                 "Fight Terrorism.")
ALLY = "we will not have an ally to fight terrorism"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HOSTILE = f"""---
title: "Zebra crossing {SCRIPT} repainted {IMG}"
outlet: "Hostile <b>Gazette</b>"
date: 2021-09-05
url: "javascript:alert(1)"
---
The zebra crossing on Main Street was repainted by the council. {SCRIPT} Residents said the
stripes {IMG} are brighter now, and the crossing guard agreed.
"""
START_TIMEOUT_S = 240

pytestmark = pytest.mark.browser


def _need_browser() -> None:
    """Skip locally when the browser is missing; in CI that is a failure, never a skip."""
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "the playwright package is not installed (pip install playwright)"
    if problem is None and not CHROMIUM.exists():
        problem = ("Debian's chromium is missing (apt-get install -y --no-install-recommends "
                   "chromium chromium-driver)")
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {problem}")
        pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_page(base: Path, archive: Path, **env_extra: str) -> Iterator[dict]:
    """`streamlit run app.py` over `archive` with an empty index, on a free loopback port."""
    index = base / "index"
    port = _free_port()
    log_path = base / "server.log"
    env = dict(os.environ, ARCHIVIST_ARCHIVE=str(archive), ARCHIVIST_INDEX=str(index),
               HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", **env_extra)
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("streamlit did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.2)
        yield {"url": url, "port": port, "log": log_path, "index": index}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _seed_copy(base: Path, hostile: bool = True) -> Path:
    archive = base / "archive"
    shutil.copytree(SEED_ARCHIVE, archive)
    for path in archive.iterdir():
        path.chmod(0o644)
    if hostile:
        (archive / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    return archive


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The page over a copy of the seed archive plus a hostile article, empty index."""
    _need_browser()
    base = tmp_path_factory.mktemp("browser")
    with streamlit_page(base, _seed_copy(base)) as running:
        yield running


@pytest.fixture(scope="module")
def browser_page(server: dict) -> Iterator[tuple]:
    """One Chromium page at 1280 px wide that records dialogs and every request it makes."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1500})
        events: dict[str, list[str]] = {"dialogs": [], "outside": []}

        def on_dialog(dialog) -> None:
            events["dialogs"].append(dialog.message)
            dialog.dismiss()

        local = re.compile(rf"^(http|ws)://(127\.0\.0\.1|localhost):{server['port']}/|^(data|blob):")

        def on_request(request) -> None:
            if not local.match(request.url):
                events["outside"].append(request.url)

        page.on("dialog", on_dialog)
        page.on("request", on_request)
        page.set_default_timeout(60_000)
        try:
            yield page, events
        finally:
            browser.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), animations="disabled")


def _search(page, text: str) -> None:
    box = page.get_by_role("textbox", name="Search the archive", exact=True)
    box.fill(text)
    box.press("Enter")


def _card_with_passage(page, text: str):
    """The result card whose passage (not its collapsed full article) contains `text`."""
    return page.locator("[class*='st-key-card-']").filter(
        has=page.locator(".ar-text", has_text=text)).first


def _query_times(log: Path) -> list[float]:
    """Per query, from the server's log: the core's search time."""
    return [float(ms) for ms in re.findall(r"core (\d+) ms", log.read_text())]


def _wait_for_pages(log: Path, count: int, timeout_s: float = 30) -> None:
    """Wait until the server has logged `count` pages with results."""
    deadline = time.monotonic() + timeout_s
    while len(_page_times(log)) < count:
        assert time.monotonic() < deadline, f"the server logged fewer than {count} result pages"
        time.sleep(0.05)


def _page_times(log: Path) -> list[float]:
    """Per query, from the server's log: the whole script run (search and drawing)."""
    return [float(ms) for ms in re.findall(r"page with results drawn in (\d+) ms", log.read_text())]


def test_first_start_builds_the_index_then_answers(server: dict, browser_page: tuple) -> None:
    page, events = browser_page
    started = time.monotonic()
    page.goto(server["url"])
    building = page.get_by_text("First start", exact=False)
    try:
        building.wait_for(timeout=20_000)
        page.wait_for_timeout(1500)
        _shot(page, "0-first-start-building")
    except Exception:  # the build can finish before the first paint; that is fine
        pass
    page.get_by_role("textbox", name="Search the archive", exact=True).wait_for(
        timeout=START_TIMEOUT_S * 1000)
    page.get_by_text("Try one of these").wait_for()
    first_start = time.monotonic() - started
    _shot(page, "1-empty-page")
    assert (server["index"] / "manifest.json").exists()

    _search(page, QUESTION)
    card = _card_with_passage(page, PASSAGE)
    card.wait_for()
    assert NEWSWEEK in card.inner_text()
    assert card.locator(".ar-text mark.ar-best").count() == 1
    assert card.locator(".ar-text b.ar-term").count() >= 1
    assert "q=who+supported+the+Northern+Alliance" in page.url.replace("%20", "+")
    _shot(page, "2-results")

    card.get_by_text("Full article").click()
    article = card.locator(".ar-article")
    article.get_by_text("Ali Nazari, the spokesperson", exact=False).wait_for()
    assert PASSAGE in article.locator("mark.ar-passage").inner_text().replace("\n", " ")
    card.get_by_text("jump to the passage").click()
    page.wait_for_timeout(500)
    assert article.locator("mark.ar-passage").is_visible()
    _shot(page, "3-full-article")

    # A bookmarked URL gives the same search back.
    page.goto(page.url)
    _card_with_passage(page, PASSAGE).wait_for()
    assert page.get_by_role("textbox", name="Search the archive", exact=True).input_value() \
        == QUESTION

    times = _query_times(server["log"])
    SHOTS.joinpath("timings.txt").write_text(
        f"first start (page open to search box, index built): {first_start:.1f} s\n"
        f"query times in the server (ms): {times}\n")
    assert not events["dialogs"]
    assert not events["outside"], events["outside"]


def test_hostile_article_shows_as_text(server: dict, browser_page: tuple) -> None:
    page, events = browser_page
    page.goto(server["url"])
    _search(page, "zebra crossing repainted")
    card = _card_with_passage(page, "zebra crossing on Main Street")
    card.wait_for()
    text = card.inner_text()
    assert SCRIPT in text and IMG in text
    assert "Hostile <b>Gazette</b>" in text
    card.get_by_text("Full article").click()
    card.locator(".ar-article").get_by_text("crossing guard", exact=False).wait_for()
    assert SCRIPT in card.locator(".ar-article").inner_text()
    page.wait_for_timeout(500)
    _shot(page, "4-hostile-article")

    assert page.locator("img[src='x'], img[onerror]").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert not page.evaluate(
        "Array.from(document.scripts).some(s => s.textContent.includes('alert(1)'))")
    assert not events["dialogs"], events["dialogs"]
    assert not events["outside"], events["outside"]


def test_more_like_this_reindex_and_warm_queries(server: dict, browser_page: tuple) -> None:
    page, events = browser_page
    page.goto(f"{server['url']}/?q=" + QUESTION.replace(" ", "+"))
    card = _card_with_passage(page, PASSAGE)
    card.wait_for()
    card.get_by_role("button", name=re.compile("More like this")).click()
    page.get_by_text("Passages like the one from").wait_for()
    page.wait_for_url(re.compile(r"[?&]like=\d+"))
    page.locator('.st-key-card-1').wait_for()
    _shot(page, "5-more-like-this")

    page.get_by_role("button", name="Reindex", exact=True).click()
    page.get_by_text("no changes", exact=False).wait_for()
    _shot(page, "6-reindexed")

    page.goto(f"{server['url']}/?q=xylophone+quasar&mode=Keyword")
    page.get_by_text("No passages match").wait_for()
    _shot(page, "7-no-results")

    # Warm queries: the model is loaded, the index is open; the server logs each query's time.
    before = len(_query_times(server["log"]))
    pages_before = len(_page_times(server["log"]))
    page.goto(server["url"])
    page.get_by_role("button", name=re.compile("who supported the Northern Alliance")).click()
    page.wait_for_url(re.compile(r"q=who\+supported"))
    _wait_for_pages(server["log"], pages_before + 1)
    for number, question in enumerate(("what does the National Resistance Front ask of the West",
                                       "how many displaced people are sheltering in Panjshir",
                                       "Taliban", "zebra crossing repainted"), start=2):
        _search(page, question)
        _wait_for_pages(server["log"], pages_before + number)
    warm = _query_times(server["log"])[before:]
    pages = _page_times(server["log"])[pages_before:]
    with SHOTS.joinpath("timings.txt").open("a") as out:
        out.write(f"warm query times in the server, search only (ms): {warm}\n"
                  f"warm page runs in the server, search and drawing (ms): {pages}\n")
    assert warm
    assert not events["dialogs"]
    assert not events["outside"], events["outside"]


def _wait_for_one_chart(chart, timeout_s: float = 10.0) -> None:
    """While Streamlit reruns it can show the old and the new chart for a moment; wait until one
    is drawn, and fail if two stay."""
    marks = chart.locator("svg.marks")
    deadline = time.monotonic() + timeout_s
    while marks.count() != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marks.count() == 1, f"{marks.count()} timeline charts drawn"


def _timeline_bars(page) -> list[dict]:
    """The timeline's bars on screen, left to right (Vega draws each as a path in mark-rect)."""
    chart = page.locator("[class*='st-key-timeline-chart']")
    _wait_for_one_chart(chart)
    # The boxes are viewport coordinates for the mouse: a chart scrolled out of view (opening a
    # card's sources scrolls the page) would take the click somewhere else.
    chart.scroll_into_view_if_needed()
    paths = chart.locator("g.mark-rect path")
    boxes = [paths.nth(i).bounding_box() for i in range(paths.count())]
    return sorted((b for b in boxes if b and b["width"] > 1 and b["height"] > 1),
                  key=lambda b: b["x"])


def _url_dates(url: str) -> tuple[str | None, str | None]:
    """The From and To dates a page URL carries."""
    found = [re.search(rf"[?&]{name}=([\d-]+)", url) for name in ("since", "until")]
    return tuple(m.group(1) if m else None for m in found)


def _wait_for_dates(page, since: str | None, until: str | None, timeout_ms: float = 60_000) -> None:
    page.wait_for_url(lambda url: _url_dates(url) == (since, until), timeout=timeout_ms)


def _gesture_until_dates(page, gesture, since: str, until: str, tries: int = 3) -> None:
    """Do a mouse gesture on the timeline's bars until the URL carries the dates it chooses.

    Vega can redraw the chart between measuring a bar and the click landing on it (a Streamlit
    rerun replaces the SVG), and a gesture on a chart mid-redraw is lost; a person would simply
    click again, so the test does too, measuring the bars afresh each time.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for attempt in range(tries):
        gesture(_timeline_bars(page))
        try:
            _wait_for_dates(page, since, until, timeout_ms=15_000)
            return
        except PlaywrightTimeoutError:
            if attempt == tries - 1:
                raise


def _click_bar(page, bar: dict) -> None:
    page.mouse.click(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)


def _brush_across(page, left: dict, right: dict) -> None:
    y = left["y"] + left["height"] / 2
    page.mouse.move(left["x"] + left["width"] * 0.6, y)
    page.mouse.down()
    page.mouse.move(right["x"] + right["width"] * 0.4, y, steps=8)
    page.mouse.up()


def test_carried_by_list_and_timeline(server: dict, browser_page: tuple) -> None:
    page, events = browser_page
    page.goto(f"{server['url']}/?q=" + ALLY.replace(" ", "+"))
    card = page.locator(".st-key-card-1")
    card.wait_for(timeout=START_TIMEOUT_S * 1000)

    # The top card's passage is carried by two articles, the dated one and Newsweek's undated
    # rewrite of it; either may be the card's own (their passages score within a hair).
    card.get_by_text("Also carried by 1 other article (2 sources in all)", exact=True).click()
    sources = card.locator("ol.ar-sources")
    sources.wait_for()
    items = sources.locator("li.ar-source")
    assert items.count() == 2
    assert sources.get_by_text(REWRITE_TITLE, exact=True).is_visible()
    assert sources.get_by_text(NEWSWEEK, exact=True).is_visible()
    assert "3 Sep 2021" in items.nth(0).inner_text()  # earliest first; undated last
    assert "Newsweek" in items.nth(1).inner_text() and "undated" in items.nth(1).inner_text()
    badges = [items.nth(i).locator(".ar-badge").inner_text() for i in range(2)]
    assert sorted(badges) == ["rewrite", "this article"], badges
    other = items.nth(badges.index("rewrite"))
    assert other.locator(".ar-badge-rewrite").is_visible()
    assert other.locator(".ar-source-text").is_visible()

    # The timeline: a Vega chart, two day bars (3 and 5 Sep 2021), drawn and visible.
    chart = page.locator("[class*='st-key-timeline-chart']")
    _wait_for_one_chart(chart)
    assert chart.locator(".vega-embed").is_visible()
    assert chart.locator("svg.marks").is_visible()
    bars = _timeline_bars(page)
    assert len(bars) == 2, bars
    page.get_by_text("click a bar or drag across bars", exact=False).wait_for()
    page.wait_for_timeout(300)
    _shot(page, "8-carried-by-and-timeline")

    # Clicking the 5 Sep bar narrows the results to that day, through the URL's date filter.
    _gesture_until_dates(page, lambda bars: _click_bar(page, bars[-1]), "2021-09-05", "2021-09-05")
    # A bar means that period: undated articles are left out too (the URL fills in steps).
    page.wait_for_url(re.compile(r"[?&]undated=false"))
    page.get_by_text("showing results of 5 Sep 2021", exact=False).wait_for()
    first = page.locator(".st-key-card-1")
    first.wait_for()
    from playwright.sync_api import expect

    # The caption can show while the run for the last URL step (undated=false) is still drawing
    # the previous cards; the dated article must be the one left on top once it settles.
    expect(first.locator(".ar-meta").first).to_contain_text("5 Sep 2021", timeout=15_000)
    page.wait_for_timeout(300)
    _shot(page, "9-timeline-day-chosen")

    # "Show all dates" brings every date back; a brush across both bars takes both days.
    page.get_by_role("button", name="Show all dates").click()
    _wait_for_dates(page, None, None)
    page.get_by_text("click a bar or drag across bars", exact=False).wait_for()
    _gesture_until_dates(page, lambda bars: _brush_across(page, bars[0], bars[-1]),
                         "2021-09-03", "2021-09-05")
    page.get_by_text("showing results 3 Sep 2021 \u2013 5 Sep 2021", exact=False).wait_for()
    assert not events["dialogs"]
    assert not events["outside"], events["outside"]


def test_tab_from_the_search_box_reaches_the_results_before_the_chart_toolbar(server: dict,
                                                                            browser_page: tuple) -> None:
    """A keyboard user leaving the search box meets the search's own controls and the cards
    first, not the timeline chart's toolbar (issue 15): at most the chart itself is one stop."""
    page, _ = browser_page
    page.goto(f"{server['url']}/?q=" + ALLY.replace(" ", "+"))
    page.locator(".st-key-card-1").wait_for(timeout=START_TIMEOUT_S * 1000)
    _wait_for_one_chart(page.locator("[class*='st-key-timeline-chart']"))
    page.get_by_role("textbox", name="Search the archive", exact=True).focus()
    stops = []
    for _ in range(8):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(
            "() => { const e = document.activeElement; const chart = e.closest(\"[class*='st-key-timeline-chart']\");"
            " const bar = e.closest('[data-testid=stElementToolbar]');"
            " return (chart ? 'CHART ' : '') + (bar ? 'TOOLBAR ' : '') + e.tagName + ' '"
            " + (e.getAttribute('aria-label') || e.getAttribute('title') || e.innerText || '').slice(0, 40); }"))
    in_chart = [i for i, stop in enumerate(stops[:5]) if stop.startswith(("CHART", "TOOLBAR")) or "TOOLBAR" in stop]
    assert len(in_chart) <= 1, stops
    assert not any("TOOLBAR" in stop for stop in stops[:5]), stops

    # A remembered photo caption finds its article, and the card says it is a caption.
    _search(page, "Black Hawk helicopter")
    caption = _card_with_passage(page, "operable Black Hawk helicopter")
    caption.wait_for()
    assert caption.locator(".ar-aside").inner_text() == "Photo caption in this article"
    _shot(page, "13-caption-card")


def test_weak_matches_phrases_articles_and_a_shared_link(server: dict, browser_page: tuple) -> None:
    """Issue 15 as a reader meets it: a question the archive cannot answer says so before paler
    cards; a quoted phrase is obeyed; one card per article counts the matching articles; a shared
    link keeps its dates and names the filter it could not apply."""
    page, events = browser_page
    page.goto(server["url"])
    page.get_by_role("textbox", name="Search the archive", exact=True).wait_for(timeout=START_TIMEOUT_S * 1000)
    _search(page, "price of cocoa in Brazil")
    page.get_by_text("No strong match in the archive; the closest passages are:").wait_for()
    first = page.locator(".st-key-card-1")
    first.wait_for()
    assert first.locator(".ar-text.ar-weak").count() == 1 and first.locator("mark.ar-best").count() == 0
    assert "weak match" in first.inner_text()
    _shot(page, "8-weak-match")

    _search(page, '"Lion of Panjshir"')
    page.locator(".st-key-card-1 .ar-text").wait_for()
    page.wait_for_timeout(500)
    texts = page.locator("[class*='st-key-card-'] .ar-text").all_inner_texts()
    assert texts and all("lion of panjshir" in " ".join(t.split()).lower() for t in texts)
    assert page.get_by_text("No strong match").count() == 0
    _shot(page, "9-phrase")

    _search(page, "Taliban resistance in Panjshir")
    page.locator(".st-key-card-1").wait_for()
    page.get_by_text("One card per article", exact=True).click()
    page.get_by_text("one card per article,", exact=False).last.wait_for()
    caption = page.get_by_text("one card per article,", exact=False).last.inner_text()
    assert "about" in caption.lower() and "matching article" in caption
    titles = page.locator("[class*='st-key-card-'] .ar-title").all_inner_texts()
    assert len(titles) == len(set(titles)) or len(titles) <= 6
    _shot(page, "10-one-card-per-article")
    page.get_by_text("One card per article", exact=True).click()  # back to passages for the next tests

    page.goto(f"{server['url']}/?q=Taliban&since=2021-08-01&until=2021-09-30&outlet=Nobody")
    page.get_by_text("This link could not be followed exactly", exact=False).wait_for()
    warning = page.get_by_text("This link could not be followed exactly", exact=False).inner_text()
    assert "Nobody" in warning
    _wait_for_dates(page, "2021-08-01", "2021-09-30")
    page.locator(".st-key-card-1").wait_for()
    _shot(page, "11-shared-link")
    assert not events["dialogs"]
    assert not events["outside"], events["outside"]


def test_the_password_gate_keeps_the_archive_closed_until_the_password(tmp_path: Path, browser_page: tuple) -> None:
    """With ARCHIVIST_PAGE_PASSWORD set, a browser sees only the password form; a wrong password
    is refused; the right one opens the archive for that session, a shared link's search included."""
    browser = browser_page[0].context.browser  # the module's Chromium; a fresh context is a new visitor
    with streamlit_page(tmp_path, _seed_copy(tmp_path, hostile=False), ARCHIVIST_PAGE_PASSWORD="open sesame 42") as running:
        context = browser.new_context(viewport={"width": 1280, "height": 1200})
        page = context.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{running['url']}/?q=Taliban+Panjshir")
        password = page.get_by_label("Password", exact=True)
        password.wait_for()
        assert page.get_by_role("textbox", name="Search the archive", exact=True).count() == 0
        assert "Panjshir" not in page.inner_text("body").replace("Taliban+Panjshir", "")
        password.fill("open sesame")
        page.get_by_role("button", name="Open the archive").click()
        page.get_by_text("That password is not right").wait_for()
        _shot(page, "password-refused")
        assert page.get_by_role("textbox", name="Search the archive", exact=True).count() == 0
        page.get_by_label("Password", exact=True).fill("open sesame 42")
        page.get_by_role("button", name="Open the archive").click()
        box = page.get_by_role("textbox", name="Search the archive", exact=True)
        box.wait_for()
        page.locator("[class*='st-key-card-1']").first.wait_for()  # the shared link's search ran
        assert box.input_value() == "Taliban Panjshir"
        _search(page, QUESTION)  # a rerun keeps the session open
        page.locator(".ar-text", has_text=PASSAGE).first.wait_for()
        assert page.get_by_label("Password", exact=True).count() == 0
        _shot(page, "password-opened")
        context.close()


def test_files_uploaded_from_the_page_are_saved_safely_indexed_and_found(server: dict, browser_page: tuple) -> None:
    """Issue 16: two files dropped on the page are found by their text; the same name again with
    other content is asked about; a name that climbs out of the folder is saved inside it."""
    page, events = browser_page
    archive = Path(server["log"]).parent / "archive"
    page.goto(server["url"])
    page.get_by_role("textbox", name="Search the archive", exact=True).wait_for(timeout=START_TIMEOUT_S * 1000)

    def upload(files: list[tuple[str, bytes]]) -> None:
        panel = page.get_by_text("Add files to the archive", exact=True)
        if not page.get_by_role("button", name="Add to the archive").is_visible():
            panel.click()
            page.get_by_role("button", name="Add to the archive").wait_for()
        page.locator("[data-testid='stSidebar'] [data-testid='stFileUploaderDropzoneInput']").set_input_files(
            [{"name": name, "mimeType": "text/plain", "buffer": data} for name, data in files])
        from playwright.sync_api import expect

        button = page.get_by_role("button", name="Add to the archive")
        expect(button).to_be_enabled(timeout=30_000)  # the files reached the server
        button.click()

    upload([("ferry.txt", b"Ferry fares\n\nThe island ferry doubles its winter fares from November.\n"),
            ("../../etc/quay.txt", b"Quay repairs\n\nDivers found cracks in the old quay wall last week.\n")])
    page.get_by_text("Added and indexed:", exact=False).wait_for(timeout=120_000)
    page.get_by_text("New articles (2):", exact=False).wait_for()  # their headlines, to check them
    assert page.get_by_text("Quay repairs", exact=True).is_visible()
    assert (archive / "ferry.txt").is_file() and (archive / "quay.txt").is_file()
    assert not (archive.parent / "etc").exists() and not Path("/etc/quay.txt").exists()
    _shot(page, "14-uploaded")
    _search(page, "cracks in the quay wall")
    card = _card_with_passage(page, "Divers found cracks")
    card.wait_for()
    assert "quay.txt" in card.inner_text()

    upload([("ferry.txt", b"Ferry timetable\n\nA different note under the same name.\n")])
    page.get_by_text("Already in the archive with different content: ferry.txt", exact=False).wait_for()
    assert "doubles its winter fares" in (archive / "ferry.txt").read_text()  # nothing overwritten yet
    _shot(page, "15-same-name-asked")
    assert not events["dialogs"]
    assert not events["outside"], events["outside"]


def test_cite_download_watch_and_entity_facet(server: dict, browser_page: tuple) -> None:
    """Issue 17: copy a citation, download the results as CSV, watch a search and see "1 new"
    after a reindex brings a matching article, click an entity facet to narrow the search."""
    page, events = browser_page
    archive = Path(server["log"]).parent / "archive"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server["url"])
    page.goto(f"{server['url']}/?q=Amrullah+Saleh&mode=Keyword")
    card = page.locator("[class*='st-key-card-']").first
    card.wait_for(timeout=START_TIMEOUT_S * 1000)

    card.get_by_role("button", name="Copy citation").click()
    box = page.locator("[data-testid='stPopoverBody']").locator("pre").first
    box.hover()
    page.locator("[data-testid='stPopoverBody']").get_by_role("button", name="Copy to clipboard").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    headline = card.locator(".ar-title").inner_text().split(".", 1)[1].strip()
    assert copied.startswith(f"\u201c{headline}\u201d, ") and re.search(r", characters [\d,]+\u2013[\d,]+: \u201c", copied), copied
    _shot(page, "16-citation")
    page.keyboard.press("Escape")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    rows = download.value.path().read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("rank,score,relevance,passage_id") and len(rows) >= 2
    assert download.value.suggested_filename == "archivist-Amrullah-Saleh.csv"

    page.get_by_role("button", name="Watch this search").click()
    page.get_by_text("Watching \u201cAmrullah Saleh\u201d", exact=False).wait_for()
    (archive / "saleh.txt").write_text("Saleh in Panjshir\n\nAmrullah Saleh said on Sunday he was still in "
                                       "the Panjshir valley with the resistance.\n", encoding="utf-8")
    page.get_by_role("button", name="Reindex").click()
    page.get_by_text("1 added", exact=False).wait_for(timeout=120_000)
    page.get_by_text("Watchlist (1 new)", exact=True).wait_for()
    row = page.get_by_role("button", name=re.compile(r"Amrullah Saleh · 1 new"))
    row.wait_for()
    _shot(page, "17-watch-new")
    row.click()
    page.get_by_text("1 new for \u201cAmrullah Saleh\u201d, now marked seen", exact=False).wait_for()

    _search(page, "resistance")
    facet = page.locator("[class*='st-key-facets-person']").get_by_role("button", name=re.compile("^Amrullah Saleh"))
    facet.click()
    from playwright.sync_api import expect

    expect(page.get_by_role("textbox", name="Names")).to_have_value("Amrullah Saleh")
    page.wait_for_timeout(500)
    expect(page.locator("[class*='st-key-card-']").first).to_be_visible()
    assert "entity=Amrullah+Saleh" in page.url
    _shot(page, "18-entity-facet")
    assert not events["dialogs"]
    assert not events["outside"], events["outside"]
