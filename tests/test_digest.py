"""The digest parser: data-driven fixtures, the four seed digests, and properties that hold for any input.

Fixtures live in tests/fixtures/digests/: an input (`name.txt` or `name.bin`, byte-exact) beside `name.json`,
the expected result. After an intended change of behaviour, regenerate the expected files and review the diff:

    SITEGEN_REGEN_FIXTURES=1 .venv/bin/python -m pytest tests/test_digest.py -k fixture
"""

from __future__ import annotations

import json
import os
import string
from datetime import date
from pathlib import Path

import pytest
from conftest import SEEDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen.importer.digest import (
    DigestError,
    decode_digest,
    parse_date_text,
    parse_digest,
    read_digest,
    resolve_date,
    shape_costs,
)

FIXTURES = Path(__file__).parent / "fixtures" / "digests"
TODAY = date(2026, 3, 20)


def _result(data: bytes) -> dict:
    """Everything the parser says about one input, as plain data for the expected-output files."""
    try:
        parsed = read_digest(data)
    except DigestError as exc:
        return {"error": exc.message, "line": exc.line}
    out: dict = {
        "date": parsed.date_text,
        "date_line": parsed.date_line,
        "header_lines": parsed.header_lines,
        "entries": [
            {
                "title": e.title,
                "title_line": e.title_line,
                "abstract": e.abstract,
                "abstract_line": e.abstract_line,
            }
            for e in parsed.entries
        ],
        "anomalies": [[a.line, a.message] for a in parsed.anomalies],
    }
    if parsed.date_text:
        try:
            out["resolved"] = resolve_date(parsed.date_text, TODAY).isoformat()
        except DigestError as exc:
            out["resolved"] = {"error": exc.message}
    return out


FIXTURE_INPUTS = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".txt", ".bin"))


@pytest.mark.parametrize("source", FIXTURE_INPUTS, ids=lambda p: p.stem)
def test_fixture(source: Path):
    expected_path = source.with_suffix(".json")
    actual = _result(source.read_bytes())
    if os.environ.get("SITEGEN_REGEN_FIXTURES"):
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert expected_path.exists(), f"no expected output for {source.name}; regenerate the fixtures"
    assert actual == json.loads(expected_path.read_text(encoding="utf-8"))


def test_every_fixture_has_an_input():
    inputs = {p.stem for p in FIXTURE_INPUTS}
    assert {p.stem for p in FIXTURES.glob("*.json")} == inputs


# --- what the fixtures are for, asserted directly (a regenerated fixture cannot hide a regression) ----------


def fixture(name: str) -> dict:
    return _result((FIXTURES / name).read_bytes())


def titles(result: dict) -> list[str]:
    return [e["title"] for e in result["entries"]]


def test_both_layouts_give_the_same_papers():
    blank, compact = fixture("layout_blank.txt"), fixture("layout_compact.txt")
    assert [(e["title"], e["abstract"]) for e in blank["entries"]] == [
        (e["title"], e["abstract"]) for e in compact["entries"]
    ]
    assert len(blank["entries"]) == 4 and not blank["anomalies"] and not compact["anomalies"]
    assert blank["date"] == "Mar 13" and compact["date"] is None
    assert compact["entries"][0]["title"].startswith("Sparse Training")  # "Subscribe" unglued
    assert compact["entries"][0]["title_line"] == 3


def test_crlf_bom_and_trailing_spaces_change_nothing():
    blank = fixture("layout_blank.txt")
    assert fixture("crlf.txt")["entries"] == blank["entries"]
    assert titles(fixture("bom.txt")) == titles(blank)[:2]
    spaced = fixture("trailing_spaces.txt")
    assert titles(spaced) == titles(blank)[:3] and not spaced["anomalies"]


def test_missing_abstract_is_reported_and_the_rest_pairs():
    result = fixture("missing_abstract.txt")
    assert titles(result) == titles(fixture("layout_blank.txt"))
    assert [e["abstract"] == "" for e in result["entries"]] == [False, True, False, False]
    [(line, message)] = result["anomalies"]
    assert line == result["entries"][1]["title_line"] and "without an abstract" in message


def test_missing_title_is_reported_and_the_rest_pairs():
    result = fixture("missing_title.txt")
    blank = fixture("layout_blank.txt")
    assert [(e["title"], e["abstract"]) for e in result["entries"]] == [
        (e["title"], e["abstract"]) for i, e in enumerate(blank["entries"]) if i != 1
    ]
    [(line, message)] = result["anomalies"]
    assert line == 5 and "abstract without a title" in message


def test_changed_header_is_skipped_with_a_warning():
    result = fixture("header_changed.txt")
    assert len(result["entries"]) == 3
    assert result["date"] == "March 13, 2026" and result["resolved"] == "2026-03-13"
    assert [a[1] for a in result["anomalies"]] == ['unrecognised header line "Today\'s picks" skipped']


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.txt", "empty digest"),
        ("whitespace_only.txt", "empty digest"),
        ("binary.bin", "binary file"),
        ("only_headers.txt", "only header lines"),
    ],
)
def test_refused_inputs(name: str, message: str):
    assert message in fixture(name)["error"]


def test_feb_30_is_read_but_cannot_be_resolved():
    result = fixture("feb30.txt")
    assert result["date"] == "Feb 30"
    assert "does not exist" in result["resolved"]["error"] and "29 days" in result["resolved"]["error"]


def test_stray_bytes_are_replaced_and_reported():
    result = fixture("latin1.txt")
    assert "Scr\ufffdtch" in result["entries"][0]["title"]
    assert result["anomalies"][0][0] == result["entries"][0]["title_line"]


def test_utf16_is_read():
    assert titles(fixture("utf16.txt")) == titles(fixture("layout_compact.txt"))[:2]


def test_wrapped_abstract_is_joined():
    result = fixture("wrapped_abstract.txt")
    assert len(result["entries"]) == 3
    assert "keeps outliers in higher precision" in result["entries"][1]["abstract"]
    assert [a[1] for a in result["anomalies"]] == [
        "abstract continues on this line; joined to the line before"
    ]


def test_page_text_after_the_papers_is_reported():
    result = fixture("footer.txt")
    assert len(result["entries"]) == 2
    assert result["anomalies"] == [
        [
            len((FIXTURES / "footer.txt").read_text().split("\n")) - 1,
            "page text 'Load more' skipped (not a paper)",
        ]
    ]


def test_titles_with_a_question_mark_or_full_stop_inside_are_titles():
    result = fixture("title_shapes.txt")
    assert titles(result)[:2] == [
        "Who's Harry Potter? Approximate Unlearning in LLMs",
        "Yi: Open Foundation Models by 01.AI",
    ]
    assert len(result["entries"]) == 4 and not result["anomalies"]


# --- the seeds ---------------------------------------------------------------------------------------------

SEED_COUNTS = {"000": (81, "Mar 13"), "001": (166, "Mar 14"), "002": (232, None), "003": (98, "Mar 11")}


@pytest.mark.parametrize("prefix", sorted(SEED_COUNTS))
def test_seed_digests(prefix: str):
    [path] = SEEDS.glob(f"{prefix}_*.txt")
    parsed = read_digest(path.read_bytes())
    count, day = SEED_COUNTS[prefix]
    assert len(parsed.entries) == count
    assert parsed.date_text == day
    assert parsed.anomalies == []
    for entry in parsed.entries:
        assert shape_costs(entry.title)[0] <= shape_costs(entry.title)[1]
        assert entry.abstract and entry.abstract_line > entry.title_line


def test_seed_with_glued_subscribe():
    [path] = SEEDS.glob("002_*.txt")
    first = read_digest(path.read_bytes()).entries[0]
    assert first.title == "DeepArchitect: Automatically Designing and Training Deep Architectures"
    assert (first.title_line, first.abstract_line) == (3, 4)


# --- dates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "today", "year", "expected"),
    [
        ("Mar 13", date(2026, 3, 20), None, date(2026, 3, 13)),
        ("Mar 13", date(2026, 3, 13), None, date(2026, 3, 13)),
        ("Mar 13", date(2026, 3, 12), None, date(2025, 3, 13)),  # not in the future: last year's
        ("Dec 31", date(2026, 1, 2), None, date(2025, 12, 31)),
        ("Mar 13", date(2026, 3, 1), 2026, date(2026, 3, 13)),  # --year wins, even in the future
        ("Feb 29", date(2026, 3, 1), None, date(2024, 2, 29)),  # the latest Feb 29 that was
        ("13 March 2024", date(2026, 3, 1), None, date(2024, 3, 13)),
        ("2026-03-13", date(2026, 1, 1), None, date(2026, 3, 13)),
        ("Sept 3", date(2026, 9, 30), None, date(2026, 9, 3)),
    ],
)
def test_resolve_date(text, today, year, expected):
    assert resolve_date(text, today, year) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Feb 30", "'Feb 30' names a day that does not exist (February has 29 days at most)"),
        ("Apr 31", "'Apr 31' names a day that does not exist (April has 30 days at most)"),
        ("Mar 0", "'Mar 0' names a day that does not exist"),
    ],
)
def test_impossible_dates(text, message):
    with pytest.raises(DigestError) as info:
        resolve_date(text, TODAY)
    assert message in info.value.message


def test_feb_29_in_a_year_without_one():
    with pytest.raises(DigestError, match="2026 has no February 29"):
        resolve_date("Feb 29", TODAY, 2026)


@pytest.mark.parametrize(
    "text",
    [
        "Mar 13",
        "March 13",
        "mar. 13",
        "13 Mar",
        "March 13, 2026",
        "2026-03-13",
        "Thursday, Mar 13",
        "Fri 13 Mar",
    ],
)
def test_date_lines(text):
    assert parse_date_text(text) is not None


@pytest.mark.parametrize("text", ["Mar", "13", "Marching 13 bands", "Mar 13 papers", "In March 13 models"])
def test_not_date_lines(text):
    assert parse_date_text(text) is None


# --- properties --------------------------------------------------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_parser_never_crashes_on_any_text(text):
    parsed = parse_digest(text)
    lines = text.split("\n")
    for entry in parsed.entries:
        assert 1 <= entry.title_line <= len(lines)


@settings(max_examples=200)
@given(st.binary())
def test_decoder_only_raises_digest_errors(data):
    try:
        text, _ = decode_digest(data)
    except DigestError:
        return
    parse_digest(text)


_TITLE_WORDS = [
    "Sparse",
    "Neural",
    "Learning",
    "Efficient",
    "Models",
    "Transformers",
    "Diffusion",
    "Scaling",
    "Attention",
    "Graph",
    "Robust",
    "Language",
    "Vision",
    "Pruning",
    "Quantized",
    "Agents",
    "Reward",
]
_WORDS = [
    "we",
    "propose",
    "a",
    "method",
    "that",
    "improves",
    "training",
    "of",
    "large",
    "models",
    "on",
    "many",
    "benchmarks",
    "with",
    "fewer",
    "parameters",
    "and",
    "less",
    "compute",
    "results",
    "show",
    "gains",
]

title_st = st.builds(
    lambda name, words, colon: (f"{name}: " if colon else "") + " ".join(words),
    st.text(string.ascii_uppercase, min_size=2, max_size=6),
    st.lists(st.sampled_from(_TITLE_WORDS), min_size=2, max_size=9),
    st.booleans(),
)
sentence_st = st.lists(st.sampled_from(_WORDS), min_size=6, max_size=18).map(
    lambda words: " ".join(words).capitalize() + "."
)
abstract_st = st.lists(sentence_st, min_size=3, max_size=8).map(" ".join)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(title_st, abstract_st), min_size=1, max_size=12, unique_by=lambda p: p[0]),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["\n", "\r\n"]),
)
def test_well_formed_digest_gives_back_every_title_and_abstract_once(papers, blank_lines, header, newline):
    lines: list[str] = []
    if header:
        lines += [
            "new",
            "Get trending papers in your email inbox!",
            "Subscribe",
            "byAK and the research community",
        ]
        lines += ["Mar 13"]
    for title, abstract in papers:
        lines += [title, abstract]
    sep = newline * 2 if blank_lines else newline
    parsed = read_digest(sep.join(lines).encode("utf-8"))
    assert [(e.title, e.abstract) for e in parsed.entries] == papers
    assert parsed.anomalies == []
