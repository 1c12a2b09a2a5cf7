"""Readable by everyone (issue 17): axe-core run inside Playwright on the results page, the
timeline's text alternative, and every action on the page reachable with the keyboard.

axe-core comes from PyPI: the `axe-playwright-python` package bundles axe.min.js (axe-core 4.12);
only that file is used, injected with `page.add_script_tag`, and `axe.run` is called directly.
The page is the real one (`streamlit run app.py` over a copy of the seed archive, empty index,
as in tests/test_browser.py). Each axe report is written to tests/screenshots/axe-*.json beside
the screenshots (a11y-*.png).

What must be clean: WCAG 2.x A/AA colour contrast (`color-contrast`, which also covers the
paler weak-match cards) and every rule about names and text alternatives (NAME_RULES).
One exclusion: Vega-Lite draws the timeline's drag-to-select brush as two empty SVG groups
(`.span_brush_bg`, `.span_brush`) with role graphics-symbol and no label; Vega-Lite (as
Streamlit ships it) offers no setting for their aria attributes, so axe is told to skip them.
The bars themselves and the chart are labelled (page/timeline.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from test_browser import (ALLY, CHROMIUM, CHROMIUM_ARGS, SHOTS, START_TIMEOUT_S, _need_browser,
                          _seed_copy, _wait_for_one_chart, streamlit_page)

pytestmark = pytest.mark.browser

WEAK_QUERY = "price of cocoa in Brazil"
CHART = "[class*='st-key-timeline-chart']"
# Vega-Lite's brush overlay (see the module docstring): no text, no way to label it.
AXE_EXCLUDE = [[".span_brush_bg"], [".span_brush"]]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Every axe rule about an accessible name or a text alternative.
NAME_RULES = {
    "area-alt", "aria-command-name", "aria-dialog-name", "aria-input-field-name",
    "aria-meter-name", "aria-progressbar-name", "aria-toggle-field-name", "aria-tooltip-name",
    "aria-treeitem-name", "button-name", "document-title", "empty-heading", "frame-title",
    "image-alt", "input-button-name", "input-image-alt", "label", "label-title-only", "link-name",
    "object-alt", "role-img-alt", "select-name", "summary-name", "svg-img-alt",
}
MUST_PASS = NAME_RULES | {"color-contrast"}
# What a keyboard can land on.
# Elements with tabindex=-1 are left out on purpose: they are widgets' inner parts whose widget
# takes the focus (the Outlets box's "Open" arrow: the box itself opens with the arrow keys).
FOCUSABLE = ", ".join(f"{tag}:not([tabindex='-1'])" for tag in (
    "button", "a[href]", "summary", "input:not([type=hidden])", "textarea", "select",
    "[role=button]", "[role=checkbox]", "[role=switch]", "[role=slider]", "[role=tab]",
    "[role=combobox]", "[tabindex]"))


def _axe_source() -> str:
    try:
        import axe_playwright_python
    except ImportError:
        pytest.skip("axe-core is not installed (pip install axe-playwright-python)")
    return Path(axe_playwright_python.__file__).with_name("axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def a11y_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """The page over a copy of the seed archive (empty index), in Chromium at 1280 px."""
    _need_browser()
    axe = _axe_source()
    from playwright.sync_api import sync_playwright

    base = tmp_path_factory.mktemp("a11y")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with streamlit_page(base, _seed_copy(base, hostile=False)) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1500})
        page.set_default_timeout(60_000)
        try:
            yield page, server, axe
        finally:
            browser.close()


def _shot(page, name: str) -> None:
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"a11y-{name}.png"), animations="disabled")


def _search(page, text: str) -> None:
    box = page.get_by_role("textbox", name="Search the archive", exact=True)
    box.fill(text)
    box.press("Enter")


def _settled(page) -> None:
    """Wait for the rerun to finish: no stale elements, no spinner."""
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]')"
        " && !document.querySelector('[data-testid=stStatusWidget] [data-testid=stStatusWidgetRunningIcon]')")
    page.wait_for_timeout(400)


def _axe_once(page, rules: list[str] | None = None) -> dict:
    """One axe.run over the document (less the brush overlay): rule id -> kind -> {target: node}."""
    options = {"runOnly": {"type": "rule", "values": rules}} if rules else \
        {"runOnly": {"type": "tag", "values": AXE_TAGS}}
    result = page.evaluate("async ([exclude, options]) => await axe.run("
                           "{include: [document], exclude}, options)", [AXE_EXCLUDE, options])
    found: dict[str, dict[str, dict]] = {}
    for kind in ("violations", "incomplete", "passes"):
        for rule in result[kind]:
            for node in rule["nodes"]:
                found.setdefault(rule["id"], {}).setdefault(kind, {})[" ".join(node["target"])] = {
                    "html": node["html"][:300], "summary": node.get("failureSummary") or "",
                    "why": [(check.get("data") or {}).get("messageKey")
                            if isinstance(check.get("data"), dict) else None
                            for check in node.get("any", [])]}
    return found


def _run_axe(page, axe: str, name: str, rules: list[str] | None = None) -> dict:
    """axe over the whole results pane, one screenful at a time: axe measures contrast only for
    what is in view, and Streamlit scrolls inside its main pane. A node is a violation if any
    screenful says so, undecided only if none decided it. The report is saved as JSON."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe)
    scroller = "document.querySelector('[data-testid=stMain]')"
    height, step = page.evaluate(f"() => [{scroller}.scrollHeight, {scroller}.clientHeight]")
    merged: dict[str, dict[str, dict]] = {}
    for top in range(0, max(height, 1), max(step - 200, 200)):
        page.evaluate(f"(top) => {{ {scroller}.scrollTop = top; }}", top)
        page.wait_for_timeout(150)
        for rule, kinds in _axe_once(page, rules).items():
            for kind, nodes in kinds.items():
                merged.setdefault(rule, {}).setdefault(kind, {}).update(nodes)
    page.evaluate(f"() => {{ {scroller}.scrollTop = 0; }}")
    report: dict = {"violations": [], "incomplete": [], "passes": {}}
    for rule, kinds in sorted(merged.items()):
        bad = kinds.get("violations", {})
        decided = set(bad) | set(kinds.get("passes", {}))
        unsure = {t: {**n, "in_article": page.evaluate(
                      "(t) => !!document.querySelector(t)?.closest('.ar-article')", t)}
                  for t, n in kinds.get("incomplete", {}).items() if t not in decided}
        if bad:
            report["violations"].append({"id": rule, "nodes": [{"target": t, **n} for t, n in bad.items()]})
        if unsure:
            report["incomplete"].append({"id": rule, "nodes": [{"target": t, **n} for t, n in unsure.items()]})
        report["passes"][rule] = sorted(set(kinds.get("passes", {})) - set(bad))
    SHOTS.joinpath(f"axe-{name}.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report


def _assert_clean(report: dict) -> None:
    bad = [(rule["id"], [(node["target"], node["summary"][:200]) for node in rule["nodes"]])
           for rule in report["violations"] if rule["id"] in MUST_PASS]
    assert not bad, bad
    # Contrast axe could not decide (text over an image, a gradient, a pseudo-element) counts as
    # not checked, with two exceptions: "elmPartiallyObscuring", text holding an inline chip with
    # its own background (the sidebar's `archive/` code chip; chip and text are each checked on
    # their own), text scrolled out of view inside the full article's scroll box, and the
    # chart's SVG axis labels, which axe does not measure: their colour is
    # checked in test_the_timeline_has_a_text_alternative.
    unsure = [(node["target"], node["why"]) for rule in report["incomplete"]
              if rule["id"] == "color-contrast" for node in rule["nodes"]
              if not (node["why"] and set(node["why"]) <= {"elmPartiallyObscuring"})
              and not (node["html"].startswith("<text")
                       and set(node["why"]) <= {"imgNode", "shortTextContent"})
              # words scrolled out of the full article's own scroll box (axe gives no reason);
              # the same words in view in that box passed
              and not (node.get("in_article") and not any(node["why"]))]
    assert not unsure, unsure
    assert len(report["passes"].get("color-contrast", ())) >= 10, report["passes"]


def _contrast_checked(page, axe: str, selector: str) -> int:
    """How many elements matching `selector` axe's color-contrast rule measured and passed."""
    passed = _run_axe(page, axe, "contrast-check", ["color-contrast"])["passes"].get("color-contrast", [])
    return page.evaluate("([sel, targets]) => { const wanted = new Set(document.querySelectorAll(sel));"
                         " return targets.filter(t => wanted.has(document.querySelector(t))).length; }",
                         [selector, passed])


def test_axe_finds_no_contrast_or_name_problems_on_the_results_page(a11y_page: tuple) -> None:
    page, server, axe = a11y_page
    page.goto(server["url"])
    page.get_by_role("textbox", name="Search the archive", exact=True).wait_for(
        timeout=START_TIMEOUT_S * 1000)
    page.get_by_text("Try one of these").wait_for()
    _settled(page)
    _shot(page, "0-empty-page")
    _assert_clean(_run_axe(page, axe, "0-empty-page"))

    # A search with results, its timeline drawn.
    _search(page, ALLY)
    page.locator(".st-key-card-1").wait_for()
    _wait_for_one_chart(page.locator(CHART))
    _settled(page)
    _shot(page, "1-results")
    report = _run_axe(page, axe, "1-results")
    _assert_clean(report)
    ranks = page.locator(".ar-rank").count()
    assert ranks >= 2 and _contrast_checked(page, axe, ".ar-rank") == ranks  # measured, and passed
    assert _contrast_checked(page, axe, "[data-testid=stCaptionContainer] p") >= 1

    # The same cards opened: the full article and the other carriers of the passage.
    card = page.locator(".st-key-card-1")
    card.get_by_text("Full article").click()
    card.locator(".ar-article").wait_for()
    carried = card.get_by_text(re.compile(r"^Also carried by"))
    if carried.count():
        carried.first.click()
        card.locator("ol.ar-sources").wait_for()
    _settled(page)
    _shot(page, "2-card-opened")
    _assert_clean(_run_axe(page, axe, "2-card-opened"))

    # A question the archive cannot answer: paler weak-match cards must still be readable.
    _search(page, WEAK_QUERY)
    page.get_by_text("No strong match in the archive", exact=False).wait_for()
    page.locator(".st-key-card-1 .ar-text.ar-weak").wait_for()
    _settled(page)
    _shot(page, "3-weak-matches")
    _assert_clean(_run_axe(page, axe, "3-weak-matches"))
    weak = page.locator(".ar-weak-label").count()
    assert weak >= 3 and _contrast_checked(page, axe, ".ar-weak-label") == weak
    assert _contrast_checked(page, axe, ".ar-text.ar-weak") >= 3

    # A date filter in force: pale bars outside it and the "Show all dates" button.
    page.goto(f"{server['url']}/?q=" + ALLY.replace(" ", "+") + "&since=2021-09-05&until=2021-09-05")
    page.get_by_role("button", name="Show all dates").wait_for()
    page.locator(".st-key-card-1").wait_for()
    _settled(page)
    _shot(page, "4-dates-chosen")
    _assert_clean(_run_axe(page, axe, "4-dates-chosen"))


def test_the_timeline_has_a_text_alternative(a11y_page: tuple) -> None:
    """A screen reader gets the chart's counts: the chart is named by a sentence of them, each
    bar is labelled, and a (visually hidden) table lists them, the same numbers as the bars."""
    page, server, _ = a11y_page
    page.goto(f"{server['url']}/?q=" + ALLY.replace(" ", "+"))
    page.locator(".st-key-card-1").wait_for(timeout=START_TIMEOUT_S * 1000)
    chart = page.locator(CHART)
    _wait_for_one_chart(chart)

    label = chart.locator("[data-testid=stVegaLiteChart]").get_attribute("aria-label") or ""
    assert label.startswith("Timeline chart. Matching articles by day: "), label
    bars = chart.locator("g.mark-rect path[role=graphics-symbol]")
    bar_labels = [bars.nth(i).get_attribute("aria-label") for i in range(bars.count())]
    assert bar_labels and all(re.fullmatch(r"\d+ \w{3} \d{4}: \d+ matching articles?", text or "")
                              for text in bar_labels), bar_labels

    table = page.get_by_role("table", name=re.compile("Matching articles by day"))
    assert table.count() == 1  # in the accessibility tree, though not drawn
    rows = [[cell.strip() for cell in row.split("\t")] for row in
            table.locator("tbody tr").all_inner_texts()]
    dated = {day: int(n) for day, n in rows if not day.startswith("Undated")}
    from_bars = {text.split(": ")[0]: int(text.split(": ")[1].split()[0]) for text in bar_labels}
    assert dated == from_bars, (rows, bar_labels)
    for day, count in dated.items():
        assert f"{day}, {count} article" in label
    # The axis labels (SVG text, which axe leaves undecided) are drawn in the caption grey, 6.9:1.
    fills = set(chart.locator("svg.marks text").evaluate_all(
        "els => els.map(e => getComputedStyle(e).fill)"))
    assert fills == {"rgb(92, 90, 87)"}, fills  # AXIS_TEXT_COLOR, #5c5a57

    box = page.locator(".ar-sr-only").bounding_box()  # drawn in a clipped 1 px box: off screen
    assert box is None or (box["width"] <= 1 and box["height"] <= 1), box


def _mark_focusables(page) -> list[str]:
    """Tag every visible control on the page with data-a11y-id; radio groups count once."""
    return page.evaluate(
        "(sel) => { const out = []; let n = 0;"
        " for (const el of document.querySelectorAll(sel)) {"
        "   if (el.closest('[aria-hidden=true], [inert]') || !el.checkVisibility({visibilityProperty: true})) continue;"
        "   const r = el.getBoundingClientRect(); if (!(r.width || r.height)) continue;"
        "   const group = el.closest('[role=radiogroup]');"
        "   const owner = group || el; if (owner.dataset.a11yId) continue;"
        "   owner.dataset.a11yId = 'f' + (n++);"
        "   out.push(owner.dataset.a11yId + ' ' + el.tagName + ' ' + (el.getAttribute('aria-label')"
        "     || el.innerText || el.getAttribute('title') || '').trim().slice(0, 50)); }"
        " return out; }", FOCUSABLE)


def _focused_id(page) -> str | None:
    return page.evaluate(
        "() => { const e = document.activeElement; const own = e && e.closest('[data-a11y-id]');"
        " return own ? own.dataset.a11yId : null; }")


def test_every_control_is_reached_and_worked_by_keyboard(a11y_page: tuple) -> None:
    """Tab from the top of the page visits every visible control (a radio group once, its
    options by arrow keys); the card actions open with Enter; the date filter the timeline
    sets by mouse is also reachable by keyboard (the From/To inputs), and so is its undo."""
    page, server, _ = a11y_page
    page.goto(f"{server['url']}/?q=" + ALLY.replace(" ", "+"))
    page.locator(".st-key-card-1").wait_for(timeout=START_TIMEOUT_S * 1000)
    _wait_for_one_chart(page.locator(CHART))
    _settled(page)
    controls = _mark_focusables(page)
    assert len(controls) >= 10, controls
    wanted = {entry.split(" ", 1)[0]: entry for entry in controls}
    page.locator("body").focus()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    seen: set[str] = set()
    stops = []
    for _ in range(len(controls) * 3 + 20):
        page.keyboard.press("Tab")
        found = _focused_id(page)
        stops.append(found or page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)"))
        if found:
            seen.add(found)
        if seen >= set(wanted):
            break
    missed = [wanted[key] for key in wanted if key not in seen]
    assert not missed, (missed, stops)
    for name in ("From", "To"):  # what a click on a bar sets
        assert page.get_by_label(name, exact=True).count() >= 1

    # "Full article" opens with Enter; "More like this" runs with Enter.
    card = page.locator(".st-key-card-1")
    summary = card.locator("summary", has_text="Full article")
    summary.focus()
    page.keyboard.press("Enter")
    card.locator(".ar-article").wait_for()
    assert card.locator(".ar-article").is_visible()
    _shot(page, "5-keyboard-full-article")
    card.get_by_role("button", name=re.compile("More like this")).focus()
    _shot(page, "6-keyboard-focus-ring")
    page.keyboard.press("Enter")
    page.get_by_text("Passages like the one from").wait_for()

    # A date filter (as a bar click sets it) is undone from the keyboard.
    page.goto(f"{server['url']}/?q=" + ALLY.replace(" ", "+") + "&since=2021-09-05&until=2021-09-05")
    clear = page.get_by_role("button", name="Show all dates")
    clear.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "since=" not in url and "until=" not in url)
    page.get_by_text("click a bar or drag across bars", exact=False).wait_for()
