"""The readers of `sitegen import` (sitegen/readers/) piece by piece: format detection, identifiers, BibTeX
text, abstracts with TeX, the streaming JSON reader; and the new page fields as the model validates, caches
and the front matter reads them."""

from __future__ import annotations

import json
import marshal
from datetime import date

import pytest
from conftest import paper
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.content.frontmatter import _parse_document, _parse_simple
from sitegen.content.loadcache import LoadCache
from sitegen.content.model import load_paper
from sitegen.errors import Report
from sitegen.importer.readers.bib import bib_text
from sitegen.importer.readers.detect import detect
from sitegen.importer.readers.entry import ReaderError
from sitegen.importer.readers.jsonstream import JsonItems, utf8_text
from sitegen.importer.readers.text import arxiv_id, doi, find_arxiv, iso_day, markdown_abstract

# --- detection ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b'[\n  {\n    "paper": {', "json"),
        (b'\xef\xbb\xbf[{"id": "x"}]', "json"),
        (b"  []", "json"),
        (b'{"error": "Invalid date"}', "json"),
        (b'<?xml version="1.0" encoding="UTF-8"?>\n<feed', "xml"),
        (b"<feed xmlns=", "xml"),
        (b"\n@misc{vinyals_matching_2017,\n", "bibtex"),
        (b"% Encoding: UTF-8\n\n@Article{key,", "bibtex"),
        (b"@comment{jabref-meta: databaseType:bibtex;}", "bibtex"),
        (b"new\n\nGet trending papers in your email inbox!\n", "digest"),
        (b"[Subscribe] to the list\nA title\n", "digest"),
        (b"@ a mention of someone\n", "digest"),
        (b"<3 papers today\n", "digest"),
        (b"\xff\xfeG\x00e\x00t\x00", "digest"),
        (b"", "digest"),
    ],
)
def test_the_format_is_told_from_the_first_bytes(head, kind):
    assert detect(head) == kind


# --- identifiers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2501.08313", "2501.08313"),
        ("2501.08313v2", "2501.08313"),
        ("http://arxiv.org/abs/1706.08840v6", "1706.08840"),
        ("https://arxiv.org/pdf/2205.14135v2.pdf", "2205.14135"),
        ("arXiv:1606.04080", "1606.04080"),
        ("10.48550/arXiv.2111.00396", "2111.00396"),
        ("http://arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("1706.088", None),
        ("not-an-id", None),
        (2501.08313, None),
        (None, None),
    ],
)
def test_arxiv_ids_lose_their_version(value, expected):
    assert arxiv_id(value) == expected


def test_arxiv_ids_in_prose_need_an_arxiv_mark():
    assert find_arxiv("arXiv preprint arXiv:1706.03762, 2017") == "1706.03762"
    assert find_arxiv("arXiv:1606.04080 [cs, stat]") == "1606.04080"
    assert find_arxiv("see http://arxiv.org/abs/2302.13971v1.") == "2302.13971"
    assert find_arxiv("Nature 596, 1234.5678 (2021)") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.1038/s41586-021-03819-2", "10.1038/s41586-021-03819-2"),
        ("https://doi.org/10.1126/science.aar6404", "10.1126/science.aar6404"),
        ("doi:10.1103/RevModPhys.91.045002", "10.1103/RevModPhys.91.045002"),
        ("http://dx.doi.org/10.1000/x", "10.1000/x"),
        ("11.1000/x", None),
        ("10.1000/", None),
        (None, None),
    ],
)
def test_dois_are_taken_without_their_prefix(value, expected):
    assert doi(value) == expected


def test_days_come_from_dates_and_timestamps():
    assert iso_day("2025-01-14T16:28:39.000Z") == date(2025, 1, 14)
    assert iso_day("2017-06-26") == date(2017, 6, 26)
    assert iso_day("2017-06") is None and iso_day("2017-02-30") is None and iso_day(20170626) is None


# --- text ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text"),
    [
        (r"Matching {Networks} for {One} {Shot} {Learning}", "Matching Networks for One Shot Learning"),
        (
            r"{\v Z}{\'\i}dek, M{\"u}ller, R{\'e}, \c{c}a, \ss{}, \AA{}ngstr{\"o}m",
            "Žídek, Müller, Ré, ça, ß, Ångström",
        ),
        (
            r"\${\textbackslash}mathcal\{O\}(N{\textasciicircum}2)\$ and 15\% \& more",
            r"$\mathcal{O}(N^2)$ and 15% & more",
        ),
        (
            r"Real TeX $\mathcal{O}(n^{2})$ stays as written",
            r"Real TeX $\mathcal{O}(n^{2})$ stays as written",
        ),
        (r"\emph{Emphasis} and \textbf{bold} lose their command", "Emphasis and bold lose their command"),
        (r"An \unknown{macro} is kept, a~tie is a space", r"An \unknown{macro} is kept, a tie is a space"),
        ("Lines\n   wrapped\tby the exporter", "Lines wrapped by the exporter"),
    ],
)
def test_bibtex_text_is_decoded_and_tex_math_kept(field, text):
    assert bib_text(field) == text


def test_abstracts_keep_tex_and_escape_only_markdown_outside_math():
    text, links = markdown_abstract(
        "We cut $O(n^2)$ to $O(n \\log n)$ with *stars*, a_b_c, [refs](x) and \\(x_1 * y_1\\);\n"
        "  code at https://github.com/o/r. Costs $5 and $10."
    )
    assert text == (
        "We cut $O(n^2)$ to $O(n \\log n)$ with \\*stars*, a_b_c, \\[refs](x) and \\(x_1 * y_1\\); "
        "code at <https://github.com/o/r>. Costs $5 and $10."
    )
    assert links == ["https://github.com/o/r"]
    assert "\n\n" not in markdown_abstract("One paragraph.\n\nStill the abstract.")[0]


# --- the streaming JSON reader ------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.text(alphabet='ab"\\[]{},: \n\té😀', max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _position(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


@settings(max_examples=300, deadline=None)
@given(st.lists(JSON_VALUES, max_size=6), st.sampled_from([None, 1, 2]), st.integers(1, 40))
def test_items_and_their_positions_match_the_whole_parse(items, indent, chunk):
    text = json.dumps(items, indent=indent, ensure_ascii=False)
    reader = JsonItems(utf8_text(_chunks(text.encode(), chunk)))
    found = list(reader)
    assert [value for value, _line, _col in found] == items
    decoder = json.JSONDecoder()
    for value, line, col in found:  # each item parses, from where the reader says it starts, to itself
        lines = text.split("\n")
        index = sum(len(x) + 1 for x in lines[: line - 1]) + col - 1
        assert decoder.raw_decode(text, index)[0] == value


@settings(max_examples=300, deadline=None)
@given(st.lists(JSON_VALUES, min_size=1, max_size=4), st.integers(1, 40), st.data())
def test_a_cut_document_is_never_read_as_a_shorter_one(items, chunk, data):
    text = json.dumps(items, indent=1, ensure_ascii=False)
    cut = data.draw(st.integers(1, len(text) - 1))
    with pytest.raises(ReaderError):
        list(JsonItems(utf8_text(_chunks(text[:cut].encode(), chunk))))


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[{"a": 1},\n {"b": 2,}\n]', (2, 10)),
        ("[1 2]", (1, 4)),
        ("[1,]", (1, 3)),
        ('[{"a": [1}]', (1, 10)),
        ('{"a": 1} x', (1, 10)),
        ('[\n "caf', (2, 2)),
    ],
)
def test_syntax_errors_are_placed_where_they_are(text, where):
    for chunk in (1, 3, 1000):
        with pytest.raises(ReaderError) as caught:
            list(JsonItems(utf8_text(_chunks(text.encode(), chunk))))
        assert (caught.value.line, caught.value.col) == where


def test_a_byte_that_is_not_utf8_is_placed_at_its_character():
    data = '[\n  "ünïcödé", "é'.encode() + b"\xff" + b'"]'
    for chunk in (1, 2, 5, 1000):
        with pytest.raises(ReaderError) as caught:
            list(JsonItems(utf8_text(_chunks(data, chunk))))
        assert (caught.value.line, caught.value.col) == (2, 16)
        assert "byte 0xff" in caught.value.message


# --- the new fields in the model ----------------------------------------------------------------------------

FIELDS = {
    "arxiv": '"2501.08313"',
    "authors": '["Ann Lee", "Bo Li, Jr.", Cy]',
    "published": "2025-01-14",
    "doi": "10.1038/s41586-021-03819-2",
    "upvotes": "245",
}


def test_the_new_fields_are_read_and_survive_the_load_cache(site):
    root = site({"content/papers/p.md": paper("p", **FIELDS)})
    path = root / "content/papers/p.md"
    report = Report()
    page = load_paper(path, report)
    assert report.diagnostics == []
    assert page is not None
    assert (page.arxiv, page.authors, page.published, page.doi, page.upvotes) == (
        "2501.08313",
        ["Ann Lee", "Bo Li, Jr.", "Cy"],
        date(2025, 1, 14),
        "10.1038/s41586-021-03819-2",
        245,
    )
    cache = LoadCache()
    assert cache.fetch(path, "paper", Report()) == page
    stored = LoadCache.from_data(marshal.loads(marshal.dumps(cache.to_data())))
    assert stored.fetch(path, "paper", Report()) == page
    assert stored.reads == 0  # taken from the stored row, not read again


@pytest.mark.parametrize(
    ("key", "value", "col", "message"),
    [
        ("authors", "Ann Lee", 10, "'authors' must be a list like [a, b], not str"),
        ("authors", '[Ann, 3, ""]', 16, "author 3 must be a name (text)"),
        (
            "published",
            "2025-02-30",
            12,
            "'published' must be a date like 2024-03-13 (YYYY-MM-DD), not '2025-02-30'",
        ),
        ("published", "2025", 12, "'published' must be a date like 2024-03-13 (YYYY-MM-DD), not 2025"),
        (
            "doi",
            "https://doi.org/10.1000/x",
            6,
            "'doi' must be a DOI like 10.1000/xyz123, not 'https://doi.org/",
        ),
        ("doi", "10.1000/", 6, "'doi' must be a DOI like 10.1000/xyz123, not '10.1000/'"),
        ("upvotes", "-1", 10, "'upvotes' must be a whole number of 0 or more, not -1"),
        ("upvotes", "many", 10, "'upvotes' must be a whole number of 0 or more, not 'many'"),
        ("arxiv", "2501.08310", 8, "write the arXiv id in quotes"),
    ],
)
def test_a_bad_new_field_is_an_error_at_its_position(run, site, key, value, col, message):
    root = site({"content/papers/p.md": paper("p", **{key: value})})
    result = run("check", "--root", root)
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if ": warning: " not in line]
    assert errors
    assert errors[0].startswith(f"{root / 'content/papers/p.md'}:4:{col}: {message}")


# --- the front matter fast path with quoted names --------------------------------------------------------

NAMES = [
    "Ann Lee",
    "O'Brien, Jr.",
    "Žídek",
    "#1 fan",
    "[x]",
    "",
    "a: b",
    "tab\there",
    'q"uote',
    "back\\slash",
]
WORDS = ["llm", "2026-03-12", "yes", "1", "a b", "Bob"]


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(NAMES).map(lambda n: f'"{n}"'), st.sampled_from(WORDS)),
        max_size=5,
    ),
    st.sampled_from([", ", ",", " , ", ",  "]),
    st.sampled_from(["", " ", "  "]),
)
def test_the_fast_path_reads_quoted_names_as_the_yaml_parser_does(items, sep, pad):
    yaml_text = f'title: "T"\nauthors: [{pad}{sep.join(items)}{pad}]\n'
    fast = _parse_simple(yaml_text)
    if fast is None:
        return
    doc = _parse_document(yaml_text, "", 1)  # (what the fast path takes, the parser reads)
    assert fast == (doc.fields, doc.key_positions, doc.positions, doc.item_positions)


def test_pages_the_importer_writes_take_the_fast_path():
    line = 'authors: ["Matthew MacKay", "Paul Vicol", MiniMax, "Augustin Žídek", "Bo Li, Jr."]\n'
    block = f'title: "T"\nslug: t\narxiv: "1903.03088"\n{line}published: 2019-03-07\nupvotes: 12\n'
    fast = _parse_simple(block)
    assert fast is not None
    assert fast[0]["authors"] == ["Matthew MacKay", "Paul Vicol", "MiniMax", "Augustin Žídek", "Bo Li, Jr."]
