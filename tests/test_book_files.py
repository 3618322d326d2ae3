"""The prose pages: glossary terms and bibliography keys are unique, and every citation and
glossary reference in the notebooks resolves (the build would fail later and less clearly)."""

from __future__ import annotations

import re
from collections import Counter

from notebook_tools import ROOT, load, sources

GLOSSARY = ROOT / "book" / "glossary.md"
BIB = ROOT / "book" / "references.bib"


def glossary_terms() -> list[str]:
    terms, inside = [], False
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("```{glossary}"):
            inside = True
        elif line.startswith("```"):
            inside = False
        elif inside and line.strip() and not line.startswith((" ", "\t")):
            terms.append(line.strip())
    return terms


def bib_keys() -> list[str]:
    return re.findall(r"^@\w+\{([^,\s]+),", BIB.read_text(encoding="utf-8"), re.M)


def test_glossary_terms_are_unique():
    terms = [t.lower() for t in glossary_terms()]
    assert terms, "no glossary terms found"
    assert [t for t, n in Counter(terms).items() if n > 1] == []


def test_glossary_entries_give_the_chinese_term():
    text = GLOSSARY.read_text(encoding="utf-8")
    for term in glossary_terms():
        body = text.split(f"\n{term}\n", 1)[1].split("\n\n", 1)[0].strip()
        # names the course leaves untranslated (Adam, ReLU) open with the name itself
        assert re.search(r"[\u4e00-\u9fff]", body) or body.startswith(term), (
            f"glossary entry {term!r} lacks its Chinese term")


def test_bibliography_keys_are_unique():
    keys = bib_keys()
    assert [k for k, n in Counter(keys).items() if n > 1] == []


def test_notebook_citations_and_terms_resolve():
    keys = set(bib_keys())
    terms = {t.lower() for t in glossary_terms()}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        markdown = sources(load(path), "markdown")
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", markdown):
            for key in group.split(","):
                assert key.strip() in keys, f"{path.name} cites unknown key {key.strip()!r}"
        for ref in re.findall(r"\{term\}`([^`]+)`", markdown):
            target = re.search(r"<([^>]+)>$", ref)
            name = " ".join((target.group(1) if target else ref).split()).lower()
            assert name in terms, f"{path.name} refers to unknown glossary term {name!r}"


def test_every_module_is_in_the_api_reference_the_module_map_and_the_readme():
    """A new module of src/dlbook gets its section of book/api.md and its row of the module map
    (the package docstring) and of the README; a removed one leaves all three."""
    import dlbook

    modules = sorted(p.stem for p in (ROOT / "src" / "dlbook").glob("*.py") if p.stem != "__init__")
    api = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sorted(re.findall(r"^\.\. automodule:: dlbook\.(\w+)$", api, re.M)) == modules
    assert sorted(re.findall(r"^\| `dlbook\.(\w+)` \|", readme, re.M)) == modules
    assert sorted(re.findall(r":mod:`dlbook\.(\w+)`\n", dlbook.__doc__)) == modules
