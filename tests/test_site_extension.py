"""The website's Sphinx extension (book/_ext/dlbook_site.py), without building the site."""

from __future__ import annotations

import sys

from docutils import nodes

from notebook_tools import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import dlbook_site  # noqa: E402


def test_simplified_terms_get_their_traditional_form_tagged():
    scripts = dlbook_site.ChineseScripts()
    assert scripts.forms("鞍点") == ("zh-Hans", "鞍點", "鞍点")
    assert scripts.forms("鞍點") == ("zh-Hant", None, "鞍点")  # already Traditional
    assert scripts.forms("模型")[0] == "zh"  # the same in both scripts
    pieces = scripts.nodes_for("saddle point (鞍点), also 误差曲面.")
    text = "".join(p.astext() for p in pieces)
    assert text == "saddle point (鞍点 / 鞍點), also 误差曲面 / 誤差曲面."
    tagged = [(p.astext(), p["classes"]) for p in pieces if isinstance(p, nodes.inline)]
    assert tagged == [("鞍点", ["language-zh-Hans"]), ("鞍點", ["language-zh-Hant"]),
                      ("误差曲面", ["language-zh-Hans"]), ("誤差曲面", ["language-zh-Hant"])]
    assert scripts.nodes_for("no Chinese here") is None


def test_code_and_outputs_are_left_alone():
    paragraph = nodes.paragraph("", "", nodes.Text("误差 "), nodes.literal("误差", "误差"))
    output = nodes.container("", nodes.paragraph("", "", nodes.Text("误差")), classes=["cell_output"])
    document = nodes.section("", paragraph, output)

    class App:
        pass

    dlbook_site.tag_chinese(App(), document)
    assert paragraph.astext() == "误差 / 誤差 误差"
    assert [n.astext() for n in paragraph.findall(nodes.literal)] == ["误差"]
    assert output.astext() == "误差"
    assert [n["classes"] for n in paragraph.findall(nodes.inline)] == [["language-zh-Hans"],
                                                                       ["language-zh-Hant"]]


def test_mathjax_is_pinned_to_a_checksum():
    assert len(dlbook_site.MATHJAX_SHA256) == 64 and dlbook_site.MATHJAX_VERSION.startswith("3.")


def test_repeated_inline_scripts_and_unused_widget_state_are_dropped():
    page = ("<html><head>\n<script>const THEBE_JS_URL = \"x\"</script>\n<script src=\"a.js\"></script>\n"
            "<script>const THEBE_JS_URL = \"x\"</script>\n"
            '<script type="application/vnd.jupyter.widget-state+json">{"state": {}}</script>\n'
            "</head><body><pre>\n<script>kept</script>\n\n\n</pre></body></html>")
    tidied = dlbook_site.tidy_html(page)
    assert tidied.count("THEBE_JS_URL") == 1 and "a.js" in tidied
    assert "widget-state" not in tidied
    assert tidied.endswith("<body><pre>\n<script>kept</script>\n\n\n</pre></body></html>")
    with_view = page.replace("</pre>", "application/vnd.jupyter.widget-view+json</pre>")
    assert "widget-state" in dlbook_site.tidy_html(with_view)


def test_search_finds_chinese_terms_in_either_script_and_english_as_before():
    from sphinx.search.en import SearchEnglish

    zh, en = dlbook_site.BilingualSearch({}), SearchEnglish({})
    text = "the error surface (误差曲面 / 誤差曲面) has a saddle point (鞍点 / 鞍點); generalization"
    words = dlbook_site.BilingualSearch({}).split(text)
    for term in ("误差曲面", "誤差曲面", "误差", "鞍点", "鞍點", "generalization", "saddle"):
        assert term in words
    # English words are stemmed as the English search (and the search page's JavaScript) does.
    for word in ("generalization", "surfaces", "saddle", "regularization", "activations"):
        assert zh.stem(word) == en.stem(word)
    assert zh.stem("鞍點") == "鞍點" and zh.word_filter("鞍點") and not zh.word_filter("鞍")
