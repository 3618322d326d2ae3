"""The built site in a real browser: Debian's Chromium driven by Playwright.

Every page of the book is opened from a local server on 127.0.0.1 with the network cut off (any
request elsewhere is aborted and recorded, as on an offline laptop), at a desktop size
(1280 x 900) and a phone size (390 x 844). On each: no request to another host, every formula
typeset by MathJax and none left as raw TeX, the page never scrolls sideways, no code cell
scrolls sideways at desktop size (lines of up to 100 characters, the project's line length,
fit), every image has an alt text that is not its file path, on a phone both sidebars open from
their buttons, and no JavaScript error. Each static slider is moved from the keyboard; the
figure and the label must change.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest

from notebook_tools import HTML, chapter_notebooks, toc_files

CHROMIUM = Path("/usr/bin/chromium")
HARMLESS = (
    "Got invalid theme mode",
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def browser_or_skip():
    if CHROMIUM.is_file():
        return str(CHROMIUM)
    message = ("Debian's chromium is not installed (/usr/bin/chromium); install it with "
               "'apt-get install chromium' to run the browser test")
    if os.environ.get("DLBOOK_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def site_url(built_site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    executable = browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


def open_offline(browser, url, viewport=DESKTOP):
    """Open url with every non-local request aborted; return (page, errors, blocked)."""
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(120_000)  # a busy machine can take long to lay out a chapter
    errors, blocked = [], []

    def route(route):
        if urlparse(route.request.url).hostname in LOCAL_HOSTS or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    def on_console(msg):
        if msg.type != "error":
            return
        source = (msg.location or {}).get("url", "")
        if msg.text.startswith("Failed to load resource") and urlparse(source).hostname not in LOCAL_HOSTS:
            return  # an external resource we blocked (it is reported in `blocked`)
        errors.append(f"console: {msg.text} ({source})")

    page.route("**/*", route)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.goto(url, wait_until="load")
    return page, errors, blocked


def real_errors(errors):
    return [e for e in errors if not any(h in e for h in HARMLESS)]


PAGES = chapter_notebooks()


@pytest.mark.site
@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_static_sliders_change_the_figure(path, browser, site_url):
    page, errors, _ = open_offline(browser, f"{site_url}/notebooks/{path.stem}.html")
    figures = page.locator("div.dlbook-slider")
    assert figures.count() >= 1, f"{path.stem}: no static slider figure on the page"
    for f in range(figures.count()):
        figure = figures.nth(f)
        figure.scroll_into_view_if_needed()
        img = figure.locator("img.dlbook-slider-frame")
        assert img.evaluate("el => el.complete && el.naturalWidth > 0"), "the frame did not render"
        inputs = figure.locator("input[type=range]")
        for i in range(inputs.count()):
            slider = inputs.nth(i)
            label = figure.locator(f'[data-slider-label="{i}"]')
            before_src, before_label = img.get_attribute("src"), label.inner_text()
            before_pixels = img.screenshot()
            at_max = slider.get_attribute("value") == slider.get_attribute("max")
            slider.focus()
            page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")  # keyboard works
            assert label.inner_text() != before_label, f"{path.stem}: label did not follow slider {i}"
            assert " = " in label.inner_text()
            assert img.get_attribute("src") != before_src, f"{path.stem}: slider {i} did not swap the frame"
            assert img.screenshot() != before_pixels, f"{path.stem}: the figure did not change"
            assert slider.get_attribute("aria-valuetext") == label.inner_text()
    assert real_errors(errors) == [], f"JavaScript errors on {path.stem}: {errors}"
    page.close()


ALL_PAGES = toc_files()

# Run in the page once MathJax has finished: what a reader would see, measured.
MEASURE = r"""() => {
  const visible = (el) => el.getClientRects().length > 0;
  const raw = [];
  const walker = document.createTreeWalker(document.querySelector("main") || document.body,
                                           NodeFilter.SHOW_TEXT);
  const tex = /\\\(|\\\)|\\\[|\\\]|\$[^$\s][^$]*\$|\\(frac|sum|mathbf|theta|eta|nabla)\b/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || p.closest("pre, code, script, style, mjx-container, .highlight, textarea, .output")) continue;
    if (!visible(p)) continue;
    if (tex.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 80));
  }
  const maths = document.querySelectorAll("span.math, div.math");
  const untypeset = Array.from(maths).filter((m) => !m.querySelector("mjx-container")).length;
  const images = Array.from(document.querySelectorAll("main img")).map((img) => ({
    src: img.getAttribute("src"), alt: (img.getAttribute("alt") || "").trim()}));
  const code = Array.from(document.querySelectorAll("main div.highlight pre")).filter(visible)
    .filter((pre) => pre.scrollWidth > pre.clientWidth + 1)
    .map((pre) => pre.textContent.split("\n").reduce((a, b) => a.length >= b.length ? a : b).slice(0, 120));
  const han = /[\u3400-\u4dbf\u4e00-\u9fff]/;
  const untagged = [], pairs = [];
  const walker2 = document.createTreeWalker(document.querySelector("main") || document.body,
                                            NodeFilter.SHOW_TEXT);
  for (let n = walker2.nextNode(); n; n = walker2.nextNode()) {
    const p = n.parentElement;
    if (!p || !han.test(n.textContent) || !visible(p)) continue;
    if (p.closest("pre, code, script, style, .output, .cell_output, mjx-container")) continue;
    if (!p.closest("[lang^=zh]")) untagged.push(n.textContent.trim().slice(0, 40));
  }
  document.querySelectorAll("main [lang=zh-Hans]").forEach((s) => {
    const next = s.nextElementSibling;
    pairs.push(!!next && next.getAttribute("lang") === "zh-Hant");
  });
  // Does a 100-character line (the project's line length) fit the code column?
  let fits100 = null;
  const pre = Array.from(document.querySelectorAll("main div.cell_input div.highlight pre")).find(visible);
  if (pre) {
    const probe = document.createElement("span");
    probe.textContent = "x".repeat(100);
    pre.appendChild(probe);
    const style = getComputedStyle(pre);
    fits100 = probe.getBoundingClientRect().width <=
      pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) + 1;
    probe.remove();
  }
  return {raw, maths: maths.length, untypeset, untagged, fits100, unpaired: pairs.filter((p) => !p).length,
          typeset: document.querySelectorAll("mjx-container").length,
          pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          images, code};
}"""


def measure(page):
    page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    return page.evaluate(MEASURE)


def bad_alt(image) -> bool:
    alt, src = image["alt"], image["src"] or ""
    return (not alt or alt == src or alt.endswith((".png", ".svg", ".jpg", ".jpeg", ".gif"))
            or "_images/" in alt or "/" in alt.split(" ", 1)[0] and " " not in alt)


@pytest.mark.site
@pytest.mark.parametrize("name", ALL_PAGES)
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_page_reads_offline(name, size, browser, site_url):
    viewport = DESKTOP if size == "desktop" else PHONE
    page, errors, blocked = open_offline(browser, f"{site_url}/{name}.html", viewport)
    facts = measure(page)
    problems = []
    if blocked:
        problems.append(f"requests to other hosts: {sorted(set(blocked))[:5]}")
    if facts["untypeset"] or facts["raw"]:
        problems.append(f"{facts['untypeset']} of {facts['maths']} formulas not typeset; raw TeX: {facts['raw'][:5]}")
    if facts["pageOverflow"] > 0:
        problems.append(f"the page scrolls sideways by {facts['pageOverflow']} px")
    if size == "desktop" and facts["code"]:
        problems.append(f"{len(facts['code'])} code cells scroll sideways, e.g. {facts['code'][:3]}")
    if size == "desktop" and facts["fits100"] is False:
        problems.append("a 100-character line does not fit the code column")
    if size == "desktop":
        boxes = page.locator(".search-button-field:visible").count()
        header = page.evaluate("() => { const h = document.querySelector('header.bd-header');"
                               " return h ? h.getBoundingClientRect().height : 0; }")
        if boxes > 1 or header > 0:
            problems.append(f"{boxes} search boxes, a top bar {header:.0f} px high (one box, in the sidebar)")
    if size == "phone":
        for toggle, dialog in ((".primary-toggle", "#pst-primary-sidebar-modal"),
                               (".secondary-toggle", "#pst-secondary-sidebar-modal")):
            buttons = page.locator(f"{toggle}:visible")
            if not page.locator(dialog).count():
                continue
            if buttons.count() == 0:
                problems.append(f"no visible {toggle} button")
                continue
            buttons.first.click()
            try:
                page.wait_for_function(f"() => document.querySelector('{dialog}').open", timeout=3000)
                assert page.locator(f"{dialog} a").count() > 0
            except Exception:
                problems.append(f"{toggle} did not open {dialog}")
            page.keyboard.press("Escape")
            page.wait_for_function(f"() => !document.querySelector('{dialog}').open", timeout=3000)
    if facts["untagged"] or facts["unpaired"]:
        problems.append(f"Chinese text without its lang tag: {facts['untagged'][:5]}; "
                        f"{facts['unpaired']} Simplified terms without their Traditional form")
    if real_errors(errors):
        problems.append(f"JavaScript errors: {errors}")
    page.close()
    assert not problems, f"{name} ({size}): " + "; ".join(problems)


@pytest.mark.site
@pytest.mark.parametrize("name", ALL_PAGES)
def test_figures_have_alt_text(name, browser, site_url):
    page, _, _ = open_offline(browser, f"{site_url}/{name}.html", DESKTOP)
    missing = [i for i in measure(page)["images"] if bad_alt(i)]
    page.close()
    assert not missing, f"{name}: {len(missing)} images without a real alt text, e.g. {missing[:3]}"


def search_terms(built_site):
    text = (built_site / "searchindex.js").read_text(encoding="utf-8")
    prefix, suffix = "Search.setIndex(", ")"
    assert text.startswith(prefix) and text.endswith(suffix)
    index = json.loads(text[len(prefix):-len(suffix)])
    docs = lambda entry: {entry} if isinstance(entry, int) else set(entry)  # noqa: E731
    return {term: {index["docnames"][i] for i in docs(entry)} for term, entry in index["terms"].items()}


@pytest.mark.site
def test_search_finds_terms_in_either_script(built_site, browser, site_url):
    glossary = (built_site / "book" / "glossary.html").read_text(encoding="utf-8")
    terms = search_terms(built_site)
    for simplified, traditional in (("鞍点", "鞍點"), ("误差曲面", "誤差曲面")):
        assert f'<span lang="zh-Hans">{simplified}</span>' in glossary
        assert f'<span lang="zh-Hant">{traditional}</span>' in glossary
        for term in (simplified, traditional):
            assert "book/glossary" in terms.get(term, ()), f"{term} is not a search term of the glossary"
    assert "误差" in terms  # a part of a term is found too (jieba's segmentation)
    # English is indexed as before: the stems the search page's JavaScript (Porter) looks up.
    for stem in ("gradient", "saddl", "gener", "backpropag"):
        assert stem in terms, f"English stem {stem!r} missing from the search index"
    # The reader's view: the search page, offline, lists the glossary for either script.
    for query in ("鞍點", "鞍点", "saddle point"):
        page, errors, _ = open_offline(browser, f"{site_url}/search.html?q={quote(query)}")
        page.wait_for_selector("#search-results ul.search li", timeout=60_000)
        links = page.locator("#search-results ul.search li a").evaluate_all(
            "links => links.map((a) => a.getAttribute('href'))")
        assert any(link.startswith("book/glossary.html") for link in links), (query, links[:5])
        assert real_errors(errors) == []
        page.close()


@pytest.mark.site
def test_bibliography_links_and_titles(built_site):
    page = (built_site / "book" / "bibliography.html").read_text(encoding="utf-8")
    assert 'href="https://speech.ee.ntu.edu.tw/~hylee/ml/2021-spring.php"' in page
    assert "$O(" not in page


@pytest.mark.site
def test_equations_are_numbered_per_chapter_and_licences_are_published(built_site):
    for path in chapter_notebooks():
        page = (built_site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        numbers = [int(n) for n in re.findall(r'<span class="eqno">\((\d+)\)', page)]
        assert numbers == list(range(1, len(numbers) + 1)), f"{path.stem}: equations {numbers[:5]}..."
        assert "application/vnd.jupyter.widget-state+json" not in page or \
            "application/vnd.jupyter.widget-view+json" in page, f"{path.stem}: unused widget state"
    for name in ("LICENSE.txt", "LICENSE-TEXT.txt"):
        assert (built_site / name).is_file()
    assert (built_site / "_static" / "favicon.svg").is_file()
