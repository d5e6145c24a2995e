"""SVG charts: well-formed, accessible, the right bars, escaped text, nothing for no data; which tags rise."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from sitegen.build import charts

NS = "{http://www.w3.org/2000/svg}"
NASTY = 'Graphs <script>alert("x")</script> & "Friends"'


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on malformed XML or an unescaped & or <
    assert root.tag == f"{NS}svg"
    return root


def bars(root: ET.Element, cls: str = "chart-bar") -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}rect") if e.get("class") == cls]


def days(n: int, start: date = date(2026, 1, 1)) -> list[str]:
    return [(start + timedelta(days=i)).isoformat() for i in range(n)]


def assert_accessible(root: ET.Element) -> None:
    # An image, or, when its bars are links (which an image may not hold), a group whose drawing is hidden
    # from assistive technologies: either way they read the title and description alone.
    links = list(root.iter(f"{NS}a"))
    assert root.get("role") == ("group" if links else "img")
    if links:
        drawing = [e for e in root if e.tag not in (f"{NS}title", f"{NS}desc")]
        assert len(drawing) == 1 and drawing[0].get("aria-hidden") == "true"
    assert root.get("width") == "100%" and root.get("viewBox", "").startswith("0 0 ")
    assert root.get("fill") == "currentColor"  # text and bars follow the theme's colour without any CSS
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and desc is not None and title.text and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_papers_per_digest_bars_link_to_digests():
    counts = [(d, n, f"/digests/{d}/") for d, n in zip(days(5), [3, 0, 7, 1, 12], strict=True)]
    root = parse(charts.papers_per_digest(counts))
    assert_accessible(root)
    drawn = bars(root)
    assert len(drawn) == 4  # the empty digest keeps its slot but draws nothing
    links = [a.get("href") for a in root.iter(f"{NS}a")]
    assert links == [
        "/digests/2026-01-01/",
        "/digests/2026-01-03/",
        "/digests/2026-01-04/",
        "/digests/2026-01-05/",
    ]
    assert all(a.get("tabindex") == "-1" for a in root.iter(f"{NS}a"))
    heights = [float(b.get("height")) for b in drawn]
    assert heights.index(max(heights)) == 3  # the 12-paper digest is the tallest
    assert heights[0] < heights[1]
    desc = root.find(f"{NS}desc").text
    assert "23 papers in 5 digests from 2026-01-01 to 2026-01-05" in desc and "2026-01-05 (12)" in desc
    tips = [b.find(f"{NS}title").text for b in drawn]
    assert tips[0] == "2026-01-01: 3 papers"


def test_time_bars_are_ordered_oldest_first_even_if_given_otherwise():
    counts = [("2026-01-02", 5, "/b/"), ("2026-01-01", 1, "/a/")]
    root = parse(charts.papers_per_digest(counts))
    assert [a.get("href") for a in root.iter(f"{NS}a")] == ["/a/", "/b/"]


def test_many_digests_are_binned_by_month_then_year():
    long = [(d, 2, f"/d/{d}/") for d in days(400, date(2024, 1, 1))]
    root = parse(charts.papers_per_digest(long))
    assert len(bars(root)) == 14  # Jan 2024 .. Feb 2025
    assert not list(root.iter(f"{NS}a"))  # a month is no page
    assert bars(root)[0].find(f"{NS}title").text == "2024-01: 62 papers in 31 digests"
    assert "one bar per month" in root.find(f"{NS}desc").text
    assert len(bars(parse(charts.papers_per_digest(long, max_bars=10)))) == 2  # 2024, 2025
    assert len(bars(parse(charts.papers_per_digest(long[:90])))) == 90


def test_tag_sizes_escapes_names_and_links_tags():
    counts = [(NASTY, 40, '/tags/x/?a=1&b="2"'), ("Vision", 10, "/tags/vision/"), ("Empty", 0, "/tags/e/")]
    svg = charts.tag_sizes(counts)
    assert "<script>" not in svg
    root = parse(svg)
    assert_accessible(root)
    assert len(bars(root)) == 2
    assert [a.get("href") for a in root.iter(f"{NS}a")] == ['/tags/x/?a=1&b="2"', "/tags/vision/"]
    assert NASTY in root.find(f"{NS}desc").text
    assert bars(root)[0].find(f"{NS}title").text == f"{NASTY}: 40 papers"
    widths = [float(b.get("width")) for b in bars(root)]
    assert widths[0] == pytest.approx(4 * widths[1], abs=0.5)  # coordinates keep one decimal
    labels = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "chart-label"]
    assert labels[1] == "Vision" and labels[0].startswith("Graphs <script>")


def test_long_tag_names_are_shortened_on_the_chart_but_whole_in_the_text_alternative():
    name = "A very long tag name that goes on and on about many things " * 2
    root = parse(charts.tag_sizes([(name, 3, "/t/")]))
    label = next(t.text for t in root.iter(f"{NS}text") if t.get("class") == "chart-label")
    assert label.endswith("…") and len(label) < len(name)
    assert name in root.find(f"{NS}desc").text


def test_tag_timeline_counts_per_digest():
    counts = list(zip(days(6), [0, 2, 0, 0, 1, 4], strict=True))
    root = parse(charts.tag_timeline(NASTY, counts))
    assert_accessible(root)
    assert len(bars(root)) == 3
    assert root.find(f"{NS}title").text == f"Papers tagged {NASTY} per digest"
    assert not list(root.iter(f"{NS}a"))


def test_rising_tags_with_and_without_window_sizes():
    rows = [(NASTY, 9, 12, "/tags/g/"), ("Agents", 4, 2, "/tags/agents/")]
    root = parse(charts.rising_tags(rows, recent_digests=3, earlier_digests=20))
    assert_accessible(root)
    assert len(bars(root)) == 2 + 1  # one per tag, and the legend's swatch
    assert len(bars(root, "chart-bar-before")) == 2 + 1
    assert [a.get("href") for a in root.iter(f"{NS}a")] == ["/tags/g/", "/tags/agents/"]
    desc = root.find(f"{NS}desc").text
    assert "latest 3 digests" in desc and f"{NASTY}: 3.0 per digest, was 0.6" in desc

    plain = parse(charts.rising_tags(rows))
    assert len(bars(plain)) == 3 and not bars(plain, "chart-bar-before")
    values = [t.text for t in plain.iter(f"{NS}text") if t.get("class") == "chart-value"]
    assert values == ["9 recent, 12 before", "4 recent, 2 before"]


@pytest.mark.parametrize(
    "svg",
    [
        charts.papers_per_digest([]),
        charts.papers_per_digest([("2026-01-01", 0, "/d/")]),
        charts.tag_sizes([]),
        charts.tag_sizes([("Empty", 0, "/t/")]),
        charts.tag_timeline("T", []),
        charts.tag_timeline("T", [("2026-01-01", 0)]),
        charts.rising_tags([]),
        charts.rising_tags([("T", 0, 5, "/t/")]),
    ],
)
def test_nothing_to_draw_gives_empty_string(svg):
    assert svg == ""


def test_charts_are_deterministic_and_ids_differ_between_charts():
    a = charts.tag_timeline("A", [("2026-01-01", 1)])
    b = charts.tag_timeline("B", [("2026-01-01", 1)])
    assert a == charts.tag_timeline("A", [("2026-01-01", 1)])
    assert parse(a).find(f"{NS}title").get("id") != parse(b).find(f"{NS}title").get("id")


def test_a_single_bar_and_huge_counts_stay_well_formed():
    root = parse(charts.papers_per_digest([("2026-01-01", 1_234_567, "/d/")]))
    assert len(bars(root)) == 1
    ticks = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "chart-label"]
    assert "1,500,000" in ticks or "2,000,000" in ticks


# -- rising_tag_rows ---------------------------------------------------------------------------------------


def spread(counts: list[int], dates: list[str]) -> list[str]:
    """Digest dates of a tag's papers: counts[i] papers on dates[i]."""
    return [d for d, n in zip(dates, counts, strict=True) for _ in range(n)]


def test_rising_tag_rows_finds_the_tag_whose_share_grew():
    dates = days(10)
    tag_dates = {
        "steady": spread([5] * 10, dates),
        "rising": spread([1] * 7 + [6, 7, 8], dates),
        "falling": spread([6] * 7 + [1, 0, 1], dates),
        "new-once": spread([0] * 9 + [1], dates),
        "new-many": spread([0] * 7 + [2, 3, 2], dates),
    }
    rows = charts.rising_tag_rows(tag_dates, dates, recent=3)
    assert [slug for slug, _, _ in rows] == ["new-many", "rising"]
    assert rows[1] == ("rising", 21, 7)
    assert charts.rising_tag_rows(tag_dates, dates, recent=3, limit=1) == rows[:1]
    # One recent paper of a brand-new tag is no trend; with min_recent=1 it is, below the bigger risers.
    loose = charts.rising_tag_rows(tag_dates, dates, recent=3, min_recent=1)
    assert [slug for slug, _, _ in loose] == ["new-many", "rising", "new-once"]


def test_rising_uses_shares_not_counts():
    """The latest digests are twice as big: a tag that merely kept its share does not rise."""
    dates = days(6)
    tag_dates = {"a": spread([2, 2, 2, 4, 4, 4], dates), "b": spread([8, 8, 8, 16, 16, 16], dates)}
    assert charts.rising_tag_rows(tag_dates, dates, recent=3) == []


def test_rising_needs_history_and_handles_unsorted_dates():
    dates = days(3)
    assert charts.rising_tag_rows({"a": dates}, dates, recent=3) == []
    assert charts.rising_tag_rows({}, days(5)) == []
    dates = days(8)
    tag_dates = {"up": spread([0, 1, 0, 1, 0, 3, 3, 3], dates), "flat": spread([3] * 8, dates)}
    assert charts.rising_tag_rows(tag_dates, list(reversed(dates))) == charts.rising_tag_rows(
        tag_dates, dates
    )
    assert charts.rising_tag_rows(tag_dates, dates)[0][0] == "up"


def test_rising_ties_break_by_recent_count_then_slug():
    dates = days(4)
    tag_dates = {
        "b": spread([1, 0, 0, 3], dates),
        "a": spread([1, 0, 0, 3], dates),
        "base": spread([5] * 4, dates),
    }
    assert [s for s, _, _ in charts.rising_tag_rows(tag_dates, dates, recent=1)] == ["a", "b"]


def test_rising_window_leaves_as_many_digests_before_as_in_it():
    assert [charts.rising_window(n) for n in range(9)] == [0, 0, 1, 1, 2, 2, 3, 3, 3]
    assert charts.rising_window(100, recent=5) == 5
    dates = days(4)  # a young site: the latest 2 against the 2 before
    tag_dates = {"up": spread([0, 1, 4, 4], dates), "flat": spread([4, 4, 4, 4], dates)}
    assert charts.rising_tag_rows(tag_dates, dates) == [("up", 8, 1)]


def test_rising_tag_rows_keeps_the_top_eight_by_default_and_ignores_small_rises():
    dates = days(10)
    tag_dates = {f"t{i}": spread([1] * 7 + [2 + i] * 3, dates) for i in range(12)}
    tag_dates["base"] = spread([40] * 10, dates)
    tag_dates["slight"] = spread([10] * 7 + [11] * 3, dates)  # 10% more: noise
    rows = charts.rising_tag_rows(tag_dates, dates)
    assert len(rows) == 8 and rows[0][0] == "t11"
    assert "slight" not in {s for s, _, _ in charts.rising_tag_rows(tag_dates, dates, limit=None)}
