"""The website's own Sphinx extension (loaded by `_config.yml`, `sphinx: local_extensions`).

What it does, and why:

* **Math without a network.** MathJax 3 is served from the site itself: its npm package
  (`mathjax`, version :data:`MATHJAX_VERSION`) is fetched once with `npm pack`, its SHA-256 is
  checked against :data:`MATHJAX_SHA256`, and the browser files (`es5/`) are unpacked into
  `_build/mathjax/` and copied to `_static/mathjax/`; `mathjax_path` points there. MathJax's
  own distribution is the best-kept source of these files, and npm is where it publishes them.
  Set `DLBOOK_MATHJAX_TGZ` to a local copy of the tarball to build without the npm registry.
* **Chinese terms in both scripts.** The notes use Simplified characters, the course is taught
  in Traditional ones. Every run of Chinese characters in the book's prose (not in code or
  program output) is tagged `lang="zh-Hans"` and followed by its Traditional form
  (OpenCC's `s2twp` conversion, Taiwan usage) tagged `lang="zh-Hant"`, so that a reader of
  either script recognises it and the search finds either. Runs that read the same in both
  scripts are tagged `lang="zh"`. Entries added to the glossary later get the same treatment,
  and so do the bibliography's entries (written by sphinxcontrib-bibtex after the pages are read).
* **Search in either script.** Sphinx's English search index splits text at spaces, so a
  Chinese term, written without spaces, never became a search term. The site is indexed with
  Sphinx's Chinese search (`html_search_language: zh`, words segmented by jieba), adjusted
  in :class:`BilingualSearch` so that English is indexed exactly as the English search does
  it, and every run of Chinese characters (a term in either script) is also a term of its own.
* **Figure alt text.** :mod:`dlbook.figure_text` writes a description of each matplotlib
  figure into the PNG; here it becomes the image's `alt` text (instead of the file path).
* **Page fixes.** the theme's phone/tablet sidebar buttons are made to work (`dlbook-site.js`),
  the top bar's second search box is removed (the sidebar has one),
  figures open full size when tapped, the code column is wide enough for 100-character lines
  (`dlbook-site.css`), sphinx-thebe's duplicated configuration script and ipywidgets state
  that no view on the page uses are dropped from the written pages, and the licence files are published next to the
  pages that link to them.
"""

from __future__ import annotations

import hashlib
import logging as std_logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.search.zh import SearchChinese
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
STATIC = Path(__file__).resolve().parent / "static"

MATHJAX_VERSION = "3.2.2"
MATHJAX_SHA256 = "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"
MATHJAX_HOME = ROOT / "_build" / "mathjax" / MATHJAX_VERSION
MATHJAX_ENTRY = "tex-mml-chtml.js"
# Bundles and outputs of the package that the site does not load (SVG output, other entry points).
MATHJAX_SKIP = re.compile(r"^es5/(tex-svg|tex-mml-svg|mml-svg|mml-chtml|tex-chtml|node-main|output/svg)")

LICENCE_FILES = {"LICENSE": "LICENSE.txt", "LICENSE-TEXT.md": "LICENSE-TEXT.txt"}

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CHINESE_RUN = re.compile(f"[{HAN}]+(?:[\u3000-\u303f\uff01-\uff5e·・]*[{HAN}]+)*")
SKIP_NODES = (nodes.literal, nodes.literal_block, nodes.math, nodes.math_block, nodes.raw,
              nodes.comment, nodes.FixedTextElement)
OUTPUT_CLASSES = {"output", "cell_output"}


# ---------------------------------------------------------------------------- MathJax


def _mathjax_tarball(workdir: Path) -> Path:
    local = os.environ.get("DLBOOK_MATHJAX_TGZ")
    if local:
        return Path(local)
    npm = shutil.which("npm")
    if npm is None:
        raise ExtensionError(
            f"MathJax {MATHJAX_VERSION} is not in {MATHJAX_HOME} and npm is not installed: install "
            "Node.js/npm, or set DLBOOK_MATHJAX_TGZ to a copy of mathjax-"
            f"{MATHJAX_VERSION}.tgz (sha256 {MATHJAX_SHA256})")
    subprocess.run([npm, "pack", f"mathjax@{MATHJAX_VERSION}", "--silent", "--pack-destination",
                    str(workdir)], check=True, stdout=subprocess.DEVNULL)
    return workdir / f"mathjax-{MATHJAX_VERSION}.tgz"


def install_mathjax() -> Path:
    """Unpack MathJax's browser files into `_build/mathjax/<version>/mathjax` (once).

    Returns:
        Path: the folder that holds `mathjax/tex-mml-chtml.js`.

    Raises:
        ExtensionError: npm is missing (and no tarball was given) or the tarball's SHA-256 is not
            :data:`MATHJAX_SHA256`.
    """
    if (MATHJAX_HOME / "mathjax" / MATHJAX_ENTRY).is_file():
        return MATHJAX_HOME
    MATHJAX_HOME.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=MATHJAX_HOME.parent) as work:
        work = Path(work)
        tarball = _mathjax_tarball(work)
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if digest != MATHJAX_SHA256:
            raise ExtensionError(f"{tarball} has SHA-256 {digest}, expected {MATHJAX_SHA256} "
                                 f"(MathJax {MATHJAX_VERSION}); the download is corrupted")
        staging = work / "home"
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                name = member.name.removeprefix("package/")
                if name in ("LICENSE", "package.json"):
                    name = f"es5/{name}"  # kept next to the files they describe
                elif not name.startswith("es5/") or MATHJAX_SKIP.match(name):
                    continue
                if not member.isfile():
                    continue
                target = staging / "mathjax" / name.removeprefix("es5/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.extractfile(member).read())
        if not (staging / "mathjax" / MATHJAX_ENTRY).is_file():
            raise ExtensionError(f"{tarball} holds no es5/{MATHJAX_ENTRY}")
        shutil.rmtree(MATHJAX_HOME, ignore_errors=True)
        staging.rename(MATHJAX_HOME)  # complete or absent, never half-written
    return MATHJAX_HOME


# ---------------------------------------------------------------------------- Chinese scripts


class ChineseScripts:
    """Simplified → Traditional (Taiwan) conversion with OpenCC, and script detection."""

    def __init__(self):
        import opencc

        self.to_hant = opencc.OpenCC("s2twp")
        self.to_hans = opencc.OpenCC("t2s")

    def forms(self, text: str) -> tuple[str, str | None, str | None]:
        """(lang of text, Traditional form to add or None, Simplified form) of a run."""
        hant, hans = self.to_hant.convert(text), self.to_hans.convert(text)
        if hant == text and hans == text:
            return "zh", None, text
        if hant == text:  # already Traditional
            return "zh-Hant", None, hans
        return "zh-Hans", hant, text

    def nodes_for(self, text: str) -> list[nodes.Node] | None:
        """Nodes replacing a text with its Chinese runs tagged and doubled; None if no Chinese."""
        pieces, last = [], 0
        for match in CHINESE_RUN.finditer(text):
            run = match.group(0)
            lang, hant, _ = self.forms(run)
            if match.start() > last:
                pieces.append(nodes.Text(text[last:match.start()]))
            pieces.append(nodes.inline(run, run, classes=[f"language-{lang}"]))
            if hant is not None:
                pieces.append(nodes.Text(" / "))
                pieces.append(nodes.inline(hant, hant, classes=["language-zh-Hant"]))
            last = match.end()
        if not pieces:
            return None
        if last < len(text):
            pieces.append(nodes.Text(text[last:]))
        return pieces


def _in_prose(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, SKIP_NODES):
            return False
        if isinstance(parent, nodes.inline) and any(c.startswith("language-zh") for c in parent["classes"]):
            return False
        if isinstance(parent, nodes.Element) and OUTPUT_CLASSES & set(parent.get("classes", [])):
            return False
        if isinstance(parent, nodes.Element) and parent.get("nb_element", "").startswith("cell_code_output"):
            return False
        parent = parent.parent
    return True


def tag_chinese(app, doctree) -> None:
    """doctree-read: tag Chinese runs with their script and add the Traditional form."""
    scripts = getattr(app, "_dlbook_scripts", None)
    if scripts is None:
        scripts = app._dlbook_scripts = ChineseScripts()
    for text in list(doctree.findall(nodes.Text)):
        if not CHINESE_RUN.search(text.astext()) or not _in_prose(text):
            continue
        replacement = scripts.nodes_for(text.astext())
        if replacement:
            text.parent.replace(text, replacement)


def tag_resolved_chinese(app, doctree, docname) -> None:
    """doctree-resolved: the same for text that post-transforms added after doctree-read
    (sphinxcontrib-bibtex writes the bibliography's entries then). Runs tagged at doctree-read
    are inside their tags and left alone."""
    tag_chinese(app, doctree)


# ---------------------------------------------------------------------------- search


class BilingualSearch(SearchChinese):
    """Sphinx's Chinese search language (``zh``), for a book in English with Chinese terms.

    Sphinx's own ``zh`` language segments Chinese with jieba, but it stems English words with
    the Porter2 stemmer while the search page stems the reader's query with Porter's original
    one (so "generalization" is indexed as "general" and looked up as "gener"), and it keeps
    every English word of the book in a list that it searches at every word (quadratic time).
    Here English words are split and stemmed as Sphinx's English search does, and each whole
    run of Chinese characters is added to jieba's words, so that a term is found whole
    (误差曲面) as well as by its parts (误差), in Simplified and in Traditional script.
    """

    lang = "zh"

    def init(self, options: dict[str, str]) -> None:
        import jieba
        import snowballstemmer

        jieba.setLogLevel(std_logging.WARNING)  # not its "Building prefix dict" chatter
        self._jieba = jieba
        self.stemmer = snowballstemmer.stemmer("porter")

    def split(self, input: str) -> list[str]:
        chinese = [w for w in self._jieba.cut_for_search(input) if CHINESE_RUN.fullmatch(w)]
        return chinese + CHINESE_RUN.findall(input) + self.latin1_letters.findall(input)

    def word_filter(self, word: str) -> bool:
        # English: as the English search (no single letters); Chinese: words of 2 or more
        # characters (one character matches too much to be useful).
        return len(word) > 1

    def stem(self, word: str) -> str:
        return word if CHINESE_RUN.fullmatch(word) else self.stemmer.stemWord(word.lower())


# ---------------------------------------------------------------------------- figures


def describe_images(app, doctree, docname) -> None:
    """doctree-resolved: an output image whose alt text is missing or its path gets the text
    that dlbook.figure_text stored in the PNG."""
    from dlbook.figure_text import read_description

    for image in doctree.findall(nodes.image):
        uri = image.get("uri", "")
        if image.get("alt") and image["alt"] != uri:
            continue
        source = image.get("candidates", {}).get("image/png") or image.get("candidates", {}).get("*", uri)
        path = Path(source) if Path(source).is_absolute() else Path(app.srcdir) / source
        if path.suffix.lower() != ".png" or not path.is_file():
            continue
        text = read_description(path.read_bytes())
        if text:
            image["alt"] = text


# ---------------------------------------------------------------------------- pages


INLINE_SCRIPT = re.compile(r"^\s*<script>[^<]*</script>\s*$", re.MULTILINE)
WIDGET_STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">.*?</script>\s*',
                          re.DOTALL)


def tidy_html(text: str) -> str:
    """An inline script that repeats an earlier one is dropped (sphinx-thebe's and
    sphinx-togglebutton's configuration scripts are emitted twice; `const THEBE_JS_URL` declared
    twice is a JavaScript error), and so is ipywidgets state when no widget view uses it."""
    seen = set()

    def first_only(match):
        line = match.group(0).strip()
        if line in seen:
            return ""
        seen.add(line)
        return match.group(0)

    head, sep, body = text.partition("</head>")
    text = INLINE_SCRIPT.sub(first_only, head) + sep + body
    if "application/vnd.jupyter.widget-view+json" not in text:
        text = WIDGET_STATE.sub("", text)
    return text


def finish_site(app, exception) -> None:
    """build-finished: tidy every page and publish the licence files."""
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        tidied = tidy_html(text)
        if tidied != text:
            page.write_text(tidied, encoding="utf-8")
    for source, target in LICENCE_FILES.items():
        if (ROOT / source).is_file():
            shutil.copyfile(ROOT / source, Path(app.outdir) / target)


def configure(app, config) -> None:
    """config-inited: serve MathJax and the site's own CSS/JS from _static; no search box in
    the top bar (pydata-sphinx-theme's default ``navbar_persistent``, which sphinx-book-theme
    does not clear: on a desktop it made an empty bar holding a second search box above the
    sidebar's)."""
    config.html_theme_options = {**config.html_theme_options, "navbar_persistent": []}
    home = install_mathjax()
    config.html_static_path = [*config.html_static_path, str(home), str(STATIC)]
    config.mathjax_path = f"mathjax/{MATHJAX_ENTRY}"


def setup(app):
    app.add_search_language(BilingualSearch)
    app.connect("config-inited", configure)
    app.connect("doctree-read", tag_chinese)
    app.connect("doctree-resolved", tag_resolved_chinese)
    app.connect("doctree-resolved", describe_images)
    app.connect("build-finished", finish_site)
    app.add_css_file("dlbook-site.css")
    app.add_js_file("dlbook-site.js", defer="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    print(install_mathjax() / "mathjax" / MATHJAX_ENTRY)
