"""The built site in a real browser: Debian's Chromium driven by Playwright.

Every chapter page is opened from a local server on 127.0.0.1 with the network cut off (any
request elsewhere is aborted, as on an offline laptop). Each static slider is moved from the
keyboard; the figure and the label must change. Any JavaScript error fails the test, except the
known harmless ones listed in ../shared/docs/JUPYTER-BOOK-FACTS.md and failed loads of the
external resources we blocked (MathJax from its CDN).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from notebook_tools import HTML, chapter_notebooks

CHROMIUM = Path("/usr/bin/chromium")
HARMLESS = (
    "Identifier 'THEBE_JS_URL' has already been declared",  # sphinx-thebe declares it twice
    "Got invalid theme mode",
)
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


def open_offline(browser, url):
    """Open url with every non-local request aborted; return (page, errors, blocked)."""
    page = browser.new_page()
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
            return  # an external resource we blocked on purpose
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


@pytest.mark.site
def test_front_pages_load_without_errors(browser, site_url):
    for name in ("book/intro", "book/how_to_use", "book/glossary", "book/bibliography"):
        page, errors, _ = open_offline(browser, f"{site_url}/{name}.html")
        assert page.title(), name
        assert real_errors(errors) == [], f"JavaScript errors on {name}: {errors}"
        page.close()
