"""Lists a researcher can skim and the curator's state everywhere (issue 21: points 1, 2 and the phone part
of 4), in a real browser at 1366x900 and 390x844 on the sample site.

The sample's papers carry no status, so the module marks a few (unread, reading, read, with ratings, and one
draft marked read) in a copy of it, builds that once with its search index and serves it for every test.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import feedparser
import pytest
from conftest import REPO, paper, static_server
from test_incremental import Sites, corpus

from sitegen.build import BuildOptions, build_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not any((REPO / "content/papers").glob("*.md")), reason="the sample content is not in this checkout"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000
BASE = "https://example.org/review/"
# How many papers the module marks with each status (newest digest first on the reading page and in feeds).
MARKS = {"unread": 5, "reading": 3, "read": 4}
RATINGS = [4, 5, 2]  # given to the first papers marked read


@dataclass
class Sample:
    """The marked sample, built and served at `origin`."""

    out: Path
    origin: str
    slugs: dict[str, list[str]] = field(default_factory=dict)  # status -> slugs of the shown papers
    ratings: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    draft: str = ""  # a draft marked read: shown nowhere

    def url(self, path: str = "") -> str:
        return f"{self.origin}/review/{path}"

    def html(self, path: str) -> str:
        return (self.out / path / "index.html").read_text(encoding="utf-8")


def _front(text: str, name: str) -> str:
    found = re.search(rf"^{name}:\s*(.*)$", text.split("\n---", 1)[0], re.M)
    return found.group(1).strip().strip('"') if found else ""


def _mark(root: Path) -> Sample:
    """Give statuses (and some ratings) to the first papers of the copy, by file name; one draft too."""
    sample = Sample(out=root, origin="")
    todo = [status for status, n in MARKS.items() for _ in range(n)]
    ratings = list(RATINGS)
    for path in sorted((root / "content/papers").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if _front(text, "status") or _front(text, "draft") == "true" or not _front(text, "tags").strip("[]"):
            continue
        slug = _front(text, "slug")
        if not todo:
            path.write_text(text.replace("---\n", "---\nstatus: read\ndraft: true\n", 1), encoding="utf-8")
            sample.draft = slug
            break
        status = todo.pop(0)
        fields = f"status: {status}\n"
        if status == "read" and ratings:
            sample.ratings[slug] = ratings.pop(0)
            fields += f"rating: {sample.ratings[slug]}\n"
        path.write_text(text.replace("---\n", "---\n" + fields, 1), encoding="utf-8")
        sample.slugs.setdefault(status, []).append(slug)
        sample.titles[slug] = _front(text, "title")
    return sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Iterator[Sample]:
    tmp = tmp_path_factory.mktemp("reading-lists")
    source = tmp / "source"
    shutil.copytree(REPO / "content", source / "content")
    marked = _mark(source)
    out = tmp / "www" / "review"
    result = build_site(source, BuildOptions(out=out, base_url=BASE))
    assert not result.failed, [str(d) for d in result.report.diagnostics]
    with static_server(tmp / "www") as origin:
        marked.out, marked.origin = out, origin
        yield marked


@contextlib.contextmanager
def opened(browser, viewport: dict[str, int], javascript: bool = True) -> Iterator:
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert errors == []


def _largest_digest(sample: Sample) -> str:
    days = sorted(
        (sample.out / "digests").glob("*/index.html"), key=lambda p: -p.read_text().count("paper-item")
    )
    return f"digests/{days[0].parent.name}/"


# Papers wholly in view below the sticky header: as the page loads, and with the list scrolled to its top.
PAPERS_IN_VIEW = """([list, scroll]) => {
    const header = document.querySelector('.site-header').getBoundingClientRect().bottom;
    const items = [...document.querySelectorAll(list + ' > .paper-item')];
    if (scroll) window.scrollTo(0, items[0].getBoundingClientRect().top + window.scrollY - header);
    const top = Math.max(document.querySelector('.site-header').getBoundingClientRect().bottom, 0);
    return items.filter(li => {
        const r = li.getBoundingClientRect();
        return r.height > 0 && r.top >= top - 1 && r.bottom <= window.innerHeight + 1;
    }).length;
}"""


# --- point 1: lists to skim ---------------------------------------------------------------------------------


def test_a_digest_page_shows_eight_papers_per_desktop_screen_and_remembers_the_view(sample, browser):
    digest = _largest_digest(sample)
    with opened(browser, DESKTOP) as page:
        page.goto(sample.url(digest))
        toggle = page.locator(".view-toggle")
        expect(toggle).to_be_visible()
        expect(toggle.locator("[data-view=compact]")).to_have_attribute("aria-pressed", "true")
        assert page.evaluate(PAPERS_IN_VIEW, ["#digest-papers", False]) >= 8  # the first screen
        compact = page.evaluate(PAPERS_IN_VIEW, ["#digest-papers", True])
        assert compact >= 8
        # One line of abstract per paper, the whole abstract on demand.
        first = page.locator("#digest-papers > .paper-item").first
        line = first.locator(".paper-item-summary")
        assert line.bounding_box()["height"] < 30
        expect(first.locator(".abstract-full")).to_be_hidden()
        first.locator("summary").click()
        expect(first.locator(".abstract-full")).to_be_visible()
        expect(line).to_be_hidden()

        toggle.locator("[data-view=full]").click()
        expect(page.locator("html")).to_have_attribute("data-view", "full")
        full = page.evaluate(PAPERS_IN_VIEW, ["#digest-papers", True])
        assert full < compact
        # The browser remembers the choice, on this page and on every other list.
        page.reload()
        expect(page.locator("html")).to_have_attribute("data-view", "full")
        expect(page.locator(".view-toggle [data-view=full]")).to_have_attribute("aria-pressed", "true")
        page.goto(sample.url("reading/"))
        expect(page.locator("html")).to_have_attribute("data-view", "full")
        page.locator(".view-toggle [data-view=compact]").click()
        page.goto(sample.url(digest))
        assert page.get_attribute("html", "data-view") is None
        assert page.evaluate(PAPERS_IN_VIEW, ["#digest-papers", True]) == compact


def test_tag_chips_filter_a_digest_and_keep_each_paper_s_number(sample, browser):
    digest = _largest_digest(sample)
    with opened(browser, DESKTOP) as page:
        page.goto(sample.url(digest))
        items = page.locator("#digest-papers > .paper-item")
        total = items.count()
        chip = page.locator(".tag-filter button[data-tag]").nth(1)
        tag = chip.get_attribute("data-tag")
        count = int(chip.locator(".count").inner_text())
        chip.click()
        expect(chip).to_have_attribute("aria-pressed", "true")
        shown = page.locator("#digest-papers > .paper-item:visible")
        expect(shown).to_have_count(count)
        assert all(tag in item.get_attribute("data-tags").split() for item in shown.all())
        expect(page.locator(".tag-filter-status")).to_have_text(f"{count} of {total} papers shown")
        numbers = page.evaluate(
            "[...document.querySelectorAll('#digest-papers > .paper-item:not([hidden])')]"
            ".map(li => getComputedStyle(li, '::before').content)"
        )
        positions = [
            str(i + 1) for i, item in enumerate(items.all()) if tag in item.get_attribute("data-tags")
        ]
        assert numbers == [f'"{n}"' for n in positions]  # the digest's own numbers, not 1..count
        # A second chip adds its papers; "Show every paper" clears the filter.
        page.locator(".tag-filter button[data-tag]").nth(2).click()
        assert page.locator("#digest-papers > .paper-item:visible").count() >= count
        page.locator(".tag-filter-clear").click()
        expect(page.locator("#digest-papers > .paper-item:visible")).to_have_count(total)


def test_without_javascript_every_list_shows_every_paper(sample, browser):
    digest = _largest_digest(sample)
    with opened(browser, DESKTOP, javascript=False) as page:
        page.goto(sample.url(digest))
        total = sample.html(digest).count('class="paper-item"')
        expect(page.locator("#digest-papers > .paper-item:visible")).to_have_count(total)
        expect(page.locator(".tag-filter")).to_be_hidden()
        expect(page.locator(".view-toggle")).to_be_hidden()
        first = page.locator("#digest-papers > .paper-item").first
        first.locator("summary").click()  # <details> needs no script
        expect(first.locator(".abstract-full")).to_be_visible()


def test_charts_come_after_the_lists(sample, browser):
    with opened(browser, DESKTOP) as page:
        for path, last in (("tags/llm/", ".paper-list"), ("tags/", ".tag-grid")):
            page.goto(sample.url(path))
            chart = page.locator("figure.chart").bounding_box()
            assert chart["y"] > page.locator(last).bounding_box()["y"], path
            before = page.locator(f"{last} > li").first.bounding_box()
            assert before["y"] + before["height"] < DESKTOP["height"], path  # a list item on the first screen


# --- point 2: the curator's state ---------------------------------------------------------------------------


def _tag_page_showing(sample: Sample, slug: str) -> str:
    for file in sorted((sample.out / "tags").glob("**/index.html")):
        if (
            f'href="/review/papers/{slug}/"' in file.read_text(encoding="utf-8")
            and file.parent.name != "tags"
        ):
            return file.parent.relative_to(sample.out).as_posix() + "/"
    raise AssertionError(f"no tag page shows {slug}")


def test_a_tag_list_shows_status_and_rating_badges(sample, browser):
    slug = next(iter(sample.ratings))
    path = _tag_page_showing(sample, slug)
    with opened(browser, DESKTOP) as page:
        page.goto(sample.url(path))
        item = page.locator(".paper-item", has=page.locator(f'a[href="/review/papers/{slug}/"]'))
        expect(item.locator(".status")).to_have_text(re.compile("^read$", re.I))
        expect(item.locator(".rating .visually-hidden")).to_have_text(
            f"Rated {sample.ratings[slug]} out of 5"
        )
        # Papers without a status carry no badge.
        badges = page.locator(".paper-list .status")
        marked = [s for slugs in sample.slugs.values() for s in slugs]
        shown = sum(f'href="/review/papers/{s}/"' in sample.html(path) for s in marked)
        expect(badges).to_have_count(shown)


def test_a_paper_in_several_digests_shows_its_later_date_and_also_in(sample, browser):
    digests = sorted(p.parent.name for p in (sample.out / "digests").glob("*/index.html"))
    earliest = f"digests/{digests[0]}/"
    with opened(browser, DESKTOP) as page:
        page.goto(sample.url(earliest))
        item = page.locator("#digest-papers > .paper-item", has=page.locator(".badge-also")).first
        expect(item.locator(".badge-also")).to_have_text(re.compile(r"^also in \d+ digests?$"))
        date = item.locator(".meta-date time")
        expect(date).to_be_visible()
        assert date.get_attribute("datetime") > digests[0]  # the later digest, no longer hidden


def test_the_reading_page_groups_papers_by_status_and_by_tag(sample, browser):
    with opened(browser, DESKTOP) as page:
        page.goto(sample.url())
        page.locator(".site-nav a", has_text="Reading").click()
        expect(page).to_have_url(sample.url("reading/"))
        expect(page.locator(".site-nav a", has_text="Reading")).to_have_attribute("aria-current", "page")
        for status, slugs in sample.slugs.items():
            section = page.locator(f"section#{status}")
            expect(section.locator(f"h2#{status}-heading")).to_contain_text(status.capitalize())
            links = section.locator(".paper-item-title a")
            shown = [href.split("/")[-2] for href in (a.get_attribute("href") for a in links.all())]
            assert sorted(shown) == sorted(slugs)
            expect(section.locator(".status")).to_have_count(len(slugs))
            expect(section.locator(".status").first).to_have_text(status)
        assert sample.draft not in page.content()
        # By tag: every paper of the queue under each of its tags, and nothing else.
        groups = page.locator("#by-tag .queue-tag")
        assert groups.count() > 1
        marked = {s for slugs in sample.slugs.values() for s in slugs}
        for group in groups.all():
            tag = group.locator("h3 a").get_attribute("href").split("/")[-2]
            for href in (a.get_attribute("href") for a in group.locator(".queue-tag-papers a").all()):
                slug = href.split("/")[-2]
                assert slug in marked
                assert f'href="/review/tags/{tag}/"' in sample.html(f"papers/{slug}/")


def test_each_status_has_an_atom_feed_of_its_papers(sample):
    page = sample.html("reading/")
    for status, slugs in sample.slugs.items():
        path = f"reading/{status}.xml"
        assert f'type="application/atom+xml" title="{status.capitalize()} · ' in page
        assert f'href="/review/{path}"' in page
        feed = feedparser.parse((sample.out / path).read_bytes())
        assert not feed.bozo, feed.bozo_exception
        links = [entry.link for entry in feed.entries]
        assert sorted(links) == sorted(f"{BASE}papers/{slug}/" for slug in slugs)
        assert feed.feed.link == f"{BASE}reading/"
        assert all(f"papers/{sample.draft}/" not in link for link in links)


def test_search_results_show_status_and_rating(sample, browser):
    slug = next(iter(sample.ratings))
    word = max(re.findall(r"[A-Za-z]{5,}", sample.titles[slug]), key=len)
    with opened(browser, DESKTOP) as page:
        page.goto(sample.url(f"search/?q={word}"))
        result = page.locator(".pagefind-ui__result", has=page.locator(f'a[href="/review/papers/{slug}/"]'))
        expect(result.locator('[data-pagefind-ui-meta="status"]')).to_have_text(
            re.compile(r"^Status: read\s*$")
        )
        rating = result.locator('[data-pagefind-ui-meta="rating"]')
        expect(rating).to_have_text(re.compile(rf"^Rating: {sample.ratings[slug]} of 5\s*$"))


# --- point 4: the phone -------------------------------------------------------------------------------------


def test_no_page_kind_scrolls_sideways_on_a_phone(sample, browser):
    paper_slug = sample.slugs["reading"][0]
    pages = [
        "",
        "digests/",
        _largest_digest(sample),
        "tags/",
        "tags/llm/",
        "tags/llm/page/2/",
        f"papers/{paper_slug}/",
        "reading/",
        "authors/",
        "search/?q=learning",
        "404.html",
    ]
    check = """() => ({
        page: document.documentElement.scrollWidth - window.innerWidth,
        charts: [...document.querySelectorAll('figure.chart')].filter(f => f.offsetWidth > 0)
            .map(f => f.scrollWidth - f.clientWidth),
        pills: [...document.querySelectorAll('.count, .badge, .status, .chip')].filter(e => e.offsetWidth > 0)
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent),
    })"""
    with opened(browser, PHONE) as page:
        for path in pages:
            page.goto(sample.url(path))
            if path.startswith("search/"):
                expect(page.locator(".pagefind-ui__result").first).to_be_visible()
            found = page.evaluate(check)
            assert found["page"] <= 0, path
            assert all(extra <= 0 for extra in found["charts"]), path  # every chart fits: no sideways scroll
            assert found["pills"] == [], path
        page.goto(sample.url())
        rising = page.locator("#rising-heading + figure.chart")
        expect(rising.locator(".chart-narrow svg")).to_be_visible()
        expect(rising.locator(".chart-wide svg")).to_be_hidden()


def test_the_search_page_on_a_phone_has_one_box_and_results_on_the_first_screen(sample, browser):
    with opened(browser, PHONE) as page:
        page.goto(sample.url("search/?q=unlearning"))
        first = page.locator(".pagefind-ui__result").first
        expect(first).to_be_visible()
        expect(page.locator("input[type=search], input.pagefind-ui__search-input")).to_have_count(1)
        title = first.locator(".pagefind-ui__result-title").bounding_box()
        assert title["y"] + title["height"] <= PHONE["height"]
        # No excerpt repeats its result's title.
        for result in page.locator(".pagefind-ui__result").all()[:8]:
            heading = result.locator(".pagefind-ui__result-link").inner_text().strip()
            excerpt = result.locator(".pagefind-ui__result-excerpt").inner_text().strip()
            assert not excerpt.startswith(" ".join(heading.split()[:4])), (heading, excerpt)


# --- incremental builds -------------------------------------------------------------------------------------


def test_a_new_status_reaches_the_lists_the_reading_page_and_the_feeds_as_a_cold_build(tmp_path):
    files = corpus(10, seed=4)
    sites = Sites(tmp_path, files)
    sites.check()
    changed = {
        sites.edit(
            "content/papers/p2.md", lambda t: t.replace("---\n", "---\nstatus: reading\nrating: 4\n", 1)
        )
    }
    after = sites.check(changed)
    assert "papers/p2/" in after["reading/index.html"].decode()
    assert b"/papers/p2/" in after["reading/reading.xml"]
    # Its tag pages show the badge; the digest pages that list it too.
    shown = [
        name
        for name, data in after.items()
        if name.endswith(".html") and b'class="status status-reading"' in data
    ]
    assert "reading/index.html" in shown and any(name.startswith("digests/") for name in shown)
    changed = {sites.edit("content/papers/p2.md", lambda t: t.replace("status: reading", "status: read"))}
    after = sites.check(changed)
    assert b"/papers/p2/" not in after["reading/reading.xml"] and b"/papers/p2/" in after["reading/read.xml"]
    changed = {sites.write("content/papers/q1.md", paper("q1", digests="[2026-03-12]", status="unread"))}
    after = sites.check(changed)
    assert b"/papers/q1/" in after["reading/unread.xml"]
