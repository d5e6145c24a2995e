"""Stored and reflected XSS (issue 16, item 2): a site whose every free-text field holds hostile markup (site
title and description, tag names and descriptions, paper titles, abstracts, notes, links), built by the CLI
with its real Pagefind index, served over HTTP and loaded page by page in chromium.

The server sends no Content-Security-Policy: the site's own policy (netlify.toml) blocks inline handlers,
which would hide a hole rather than close it. Every payload sets `window.__xss` and calls alert(); each page
is checked for a dialog, for the marker and for any element or attribute a payload could have injected
(checked in the DOM, so no assertion waits for an image to fail). The hostile text must show as written.

One chromium and one build for the module; every wait is Playwright's (no fixed sleeps).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import static_server, write_site

from sitegen.build.search import index_site

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("pagefind_bin")
expect = sync_api.expect

TIMEOUT_MS = 15_000
WORD = "zebra"  # in every abstract


def _attack(n: int) -> str:
    return f"window.__xss={n};alert({n})"


SITE_TITLE = f'<img src=x onerror="{_attack(1)}"> Review </title>'
SITE_DESCRIPTION = f'"><script>{_attack(2)}</script> & more'

# slug -> (name, description). Slugs are lowercase letters, digits and hyphens: only the words can be hostile.
TAGS = {
    "javascript": (f'<img src=x onerror="{_attack(11)}">', f"<script>{_attack(12)}</script> described"),
    "script": (f'"><script>{_attack(13)}</script>', f"javascript:{_attack(14)}"),
    "onerror": (f"'><svg onload={_attack(15)}> & </title>", f'<a href="javascript:{_attack(16)}">x</a>'),
    # An entity-encoded payload: decoded once too often (Pagefind decodes filter values twice), it is markup.
    "entity": (f"&lt;img src=x onerror={_attack(17)}&gt; R&D", "&lt;b&gt;not bold&lt;/b&gt;"),
}


@dataclass(frozen=True)
class Paper:
    slug: str
    title: str
    tags: tuple[str, ...]
    digests: tuple[str, ...]
    status: str | None = None
    rating: int | None = None


PAPERS = (
    Paper(
        "alpha",
        f'<img src=x onerror="{_attack(21)}"> Alpha',
        ("javascript", "script"),
        ("2026-03-13", "2026-03-14"),
        "unread",
        1,
    ),
    Paper(
        "beta",
        f"</title><script>{_attack(22)}</script> Beta",
        ("script", "onerror"),
        ("2026-03-13",),
        "reading",
        2,
    ),
    Paper(
        "gamma", f'"><svg onload="{_attack(23)}"> Gamma', ("onerror", "entity"), ("2026-03-13",), "read", 3
    ),
    Paper("delta", f"javascript:{_attack(24)}", ("javascript",), ("2026-03-14",), "read", 4),
    Paper(
        "epsilon",
        f"&lt;script&gt;{_attack(25)}&lt;/script&gt; {{{{ 7*7 }}}} Epsilon",
        ("entity", "javascript"),
        ("2026-03-14",),
        "unread",
        5,
    ),
    Paper("zeta", "Zeta ' \" < > &amp;", (), ("2026-03-14",)),
)

ABSTRACT = f'A {WORD} abstract <img src=x onerror="{_attack(31)}"> <script>{_attack(32)}</script> &lt;b&gt;.'
NOTES = (
    f'Notes: [click](javascript:{_attack(33)}) <a href="javascript:{_attack(34)}">raw</a> '
    f'<iframe src="javascript:{_attack(35)}"></iframe> [data](data:text/html,<script>{_attack(36)}</script>)'
)
LINKS = (
    f'https://x.org/"><script>{_attack(41)}</script>',
    f"https://x.org/?q=<img/src=x/onerror={_attack(42)}>",
)

# What a payload could leave in a page: event handler attributes, javascript: URLs, inline scripts, frames,
# and the <img src=x> / <svg> elements of the payloads above (the theme's icons are aria-hidden SVGs, its
# charts SVGs of class chart-svg).
INJECTED = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
      if (name.startsWith("on")) found.push(`<${tag} ${name}>`);
      const own = el.matches("form.pagefind-ui__form") && value === "javascript:void(0);"; // Pagefind's form
      const url = /^(href|src|action|formaction|data|xlink:href)$/.test(name);
      if (url && /^(javascript|data):/.test(value) && !own) {
        found.push(`<${tag} ${name}=${attr.value}>`);
      }
    }
    if (tag === "script" && !el.hasAttribute("src")) found.push("<script> inline");
    if (["iframe", "object", "embed", "frame"].includes(tag)) found.push(`<${tag}>`);
    if (tag === "img" && el.getAttribute("src") === "x") found.push("<img src=x>");
    if (tag === "svg" && !(el.getAttribute("aria-hidden") === "true" || el.classList.contains("chart-svg"))) {
      found.push("<svg> neither an icon nor a chart of the theme");
    }
  }
  return found;
}"""


def _yaml(value: object) -> str:
    """A YAML scalar or flow list: JSON is YAML, and JSON quotes every character these strings hold."""
    return json.dumps(value, ensure_ascii=False)


def _paper_file(paper: Paper) -> str:
    lines = [
        "---",
        f"title: {_yaml(paper.title)}",
        f"slug: {paper.slug}",
        f"digests: [{', '.join(paper.digests)}]",
        f"tags: {_yaml(list(paper.tags))}",
        f"links: {_yaml(list(LINKS))}",
    ]
    if paper.status:
        lines.append(f"status: {paper.status}")
    if paper.rating:
        lines.append(f"rating: {paper.rating}")
    return "\n".join([*lines, "---", ABSTRACT, "", NOTES, ""])


def _taxonomy() -> str:
    lines = ["tags:"]
    for slug, (name, description) in TAGS.items():
        lines += [f"  - slug: {slug}", f"    name: {_yaml(name)}", f"    description: {_yaml(description)}"]
    return "\n".join(lines) + "\n"


def _files() -> dict[str, str]:
    files = {
        "sitegen.yaml": f"title: {_yaml(SITE_TITLE)}\ndescription: {_yaml(SITE_DESCRIPTION)}\nper_page: 1\n",
        "content/taxonomy.yaml": _taxonomy(),
    }
    for paper in PAPERS:
        files[f"content/papers/{paper.slug}.md"] = _paper_file(paper)
    return files


@dataclass(frozen=True)
class Served:
    out: Path
    origin: str

    def url(self, path: str = "", **query: str | list[str]) -> str:
        return f"{self.origin}/{path}" + (f"?{urlencode(query, doseq=True)}" if query else "")

    def search_address(self, query: str, **filters: str) -> re.Pattern:
        """The search page's address for a query and filters, the filters in any order."""
        orders = [dict(order) for order in permutations(filters.items())]
        addresses = [re.escape(self.url("search/", q=query, **order)) for order in orders]
        return re.compile("^(?:" + "|".join(addresses) + ")$")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = write_site(tmp_path_factory.mktemp("xss"), _files())
    out = root / "public"
    done = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--root", str(root), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert (out / "pagefind" / "pagefind.js").is_file()
    return out


@pytest.fixture(scope="module")
def served(built) -> Iterator[Served]:
    with static_server(built) as origin:
        yield Served(built, origin)


@pytest.fixture(scope="module")
def sharded(built, tmp_path_factory) -> Iterator[Served]:
    """The same site with its index in shards of two pages, which the search page merges."""
    out = tmp_path_factory.mktemp("xss-sharded") / "public"
    shutil.copytree(built, out)
    assert index_site(out, shard_pages=2).shards == 3
    with static_server(out) as origin:
        yield Served(out, origin)


@pytest.fixture
def page(browser):
    """A fresh page that records every dialog (and dismisses it) and every script error. On the way out the
    page must hold no dialog, no marker, and no injected element."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.dialogs = dialogs
    yield page
    if page.url.startswith("http"):
        assert_clean(page)
    context.close()
    assert dialogs == []
    # A new sort makes the UI again and ends Pagefind's worker under searches still running; nothing else
    # may throw (a script error in the escaping module would show here).
    assert [e for e in errors if "Pagefind worker terminated" not in e] == []


def assert_clean(page) -> None:
    assert page.evaluate(INJECTED) == [], page.url
    assert page.evaluate("typeof window.__xss") == "undefined", page.url
    assert page.dialogs == [], page.url


def texts(locator) -> list[str]:
    return [text.strip() for text in locator.all_inner_texts()]


def tag_names(slugs) -> list[str]:
    return [TAGS[slug][0] for slug in slugs]


# --- the pages sitegen writes ---------------------------------------------------------------------------


def test_home_page_shows_the_hostile_text_as_text(page, served):
    page.goto(served.url())
    expect(page.locator("h1")).to_have_text(SITE_TITLE)
    expect(page.locator(".lede").first).to_have_text(SITE_DESCRIPTION)
    assert page.title() == SITE_TITLE
    body = page.locator("main").inner_text()
    for paper in PAPERS:
        if "2026-03-14" in paper.digests:  # the latest digest is listed in full
            assert paper.title in body
    assert_clean(page)


@pytest.mark.parametrize("paper", PAPERS, ids=[p.slug for p in PAPERS])
def test_paper_page_shows_title_tags_and_links_as_text(page, served, paper):
    page.goto(served.url(f"papers/{paper.slug}/"))
    expect(page.locator("h1")).to_have_text(paper.title)
    assert page.title() == f"{paper.title} · {SITE_TITLE}"
    assert texts(page.locator(".facts .chip")) == tag_names(paper.tags)
    hrefs = page.locator(".link-list a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert [href for href in hrefs if href in LINKS] == list(LINKS)  # the URLs themselves, in order
    abstract = page.locator(".abstract").inner_text()
    assert f'<img src=x onerror="{_attack(31)}">' in abstract and "&lt;b&gt;" not in abstract
    assert "javascript:" in page.locator(".notes").inner_text()  # the refused links stay text
    assert_clean(page)


def test_tag_index_and_tag_pages_show_names_and_descriptions_as_text(page, served):
    page.goto(served.url("tags/"))
    body = page.locator("main").inner_text()
    for name, description in TAGS.values():
        assert name in body and description in body
    assert_clean(page)
    for slug, (name, description) in TAGS.items():
        page.goto(served.url(f"tags/{slug}/"))
        expect(page.locator("h1")).to_have_text(name)
        expect(page.locator(".lede")).to_have_text(description)
        assert page.title() == f"{name} · {SITE_TITLE}"
        assert_clean(page)
        page.goto(served.url(f"tags/{slug}/page/2/"))  # per_page: 1, and every tag has two papers or more
        expect(page.locator("h1")).to_have_text(name)
        assert_clean(page)


def test_digest_pages_and_404_show_titles_as_text(page, served):
    page.goto(served.url("digests/"))
    assert_clean(page)
    for day in ("2026-03-13", "2026-03-14"):
        page.goto(served.url(f"digests/{day}/"))
        shown = texts(page.locator(".paper-item-title"))
        assert sorted(shown) == sorted(p.title for p in PAPERS if day in p.digests)
        assert_clean(page)
    page.goto(served.url("404.html"))
    expect(page.locator("h1")).to_have_text("Page not found")
    assert page.title() == f"Page not found · {SITE_TITLE}"
    assert_clean(page)


# --- the search page --------------------------------------------------------------------------------------

FILTERS = {  # filter -> {value as the index and the page show it: the papers that carry it}
    "tag": {TAGS[slug][0]: {p.slug for p in PAPERS if slug in p.tags} for slug in TAGS},
    "digest": {day: {p.slug for p in PAPERS if day in p.digests} for day in ("2026-03-13", "2026-03-14")},
    "status": {s: {p.slug for p in PAPERS if p.status == s} for s in ("unread", "reading", "read")},
    "rating": {str(r): {p.slug for p in PAPERS if p.rating == r} for r in range(1, 6)},
}
CASES = [(name, value) for name, values in FILTERS.items() for value in values]
BLOCK_TITLES = {"tag": "Tag", "digest": "Digest", "status": "Status", "rating": "Rating"}


def results(page):
    return page.locator(".pagefind-ui__result")


def message(page):
    return page.locator(".pagefind-ui__message")


def wait_for_results(page, count: int) -> None:
    expect(message(page)).to_have_text(f"{count} result{'s' if count != 1 else ''} for {WORD}")
    expect(results(page)).to_have_count(count)
    # Pagefind UI shows a placeholder for each result until its data has loaded: wait for the links too.
    expect(page.locator(".pagefind-ui__result-link")).to_have_count(count)


def shown_slugs(page) -> set[str]:
    links = page.locator(".pagefind-ui__result-link")
    hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return {re.fullmatch(r"/papers/([a-z0-9-]+)/", href).group(1) for href in hrefs}


def filter_value_box(page, name: str, value: str):
    """The filter's checkbox whose label reads `value` (its group opened), and that label."""
    block = page.locator("details.pagefind-ui__filter-block", has_text=BLOCK_TITLES[name])
    if block.get_attribute("open") is None:
        block.locator("summary").click()
    labelled = re.compile(rf"^{re.escape(value)} \(\d+\)$")
    row = block.locator(".pagefind-ui__filter-value").filter(has=page.locator("label", has_text=labelled))
    expect(row).to_have_count(1)
    return row.locator("input"), row.locator("label")


def test_results_show_titles_tags_and_excerpts_as_text(page, served):
    page.goto(served.url("search/", q=WORD))
    wait_for_results(page, len(PAPERS))
    titles = texts(page.locator(".pagefind-ui__result-link"))
    assert sorted(titles) == sorted(p.title for p in PAPERS)
    tags = texts(page.locator('.pagefind-ui__result-tag[data-pagefind-ui-meta="tags"]'))
    expected = [f"Tags: {', '.join(tag_names(p.tags))}" for p in PAPERS if p.tags]
    assert sorted(tags) == sorted(expected)
    excerpts = texts(page.locator(".pagefind-ui__result-excerpt"))
    assert len(excerpts) == len(PAPERS)
    for excerpt in excerpts:  # the abstract's markup, as text
        assert f'<img src=x onerror="{_attack(31)}"> <script>{_attack(32)}</script>' in excerpt, excerpt
    expect(page.locator(".pagefind-ui__result-excerpt mark").first).to_have_text(WORD)
    # Every filter lists its values as written, with the number of results that carry each.
    for name, values in FILTERS.items():
        for value, papers in values.items():
            if papers:
                _, label = filter_value_box(page, name, value)
                expect(label).to_have_text(f"{value} ({len(papers)})")
    assert_clean(page)


@pytest.mark.parametrize(("name", "value"), [c for c in CASES if FILTERS[c[0]][c[1]]])
def test_each_filter_ticked_in_the_page_then_reloaded_from_the_address(page, served, name, value):
    expected = FILTERS[name][value]
    page.goto(served.url("search/", q=WORD))
    wait_for_results(page, len(PAPERS))
    box, label = filter_value_box(page, name, value)
    expect(label).to_have_text(f"{value} ({len(expected)})")
    box.check()
    wait_for_results(page, len(expected))
    assert shown_slugs(page) == expected
    # The address holds the value itself (not its escaped form), so it can be shared and reloaded.
    expect(page).to_have_url(served.url("search/", q=WORD, **{name: value}))
    assert_clean(page)
    page.reload()
    wait_for_results(page, len(expected))
    assert shown_slugs(page) == expected
    box, label = filter_value_box(page, name, value)
    expect(box).to_be_checked()
    expect(label).to_have_text(f"{value} ({len(expected)})")
    assert_clean(page)


@pytest.mark.parametrize("slug", list(TAGS))
def test_each_tag_filter_given_in_the_address(page, served, slug):
    name = TAGS[slug][0]
    expected = FILTERS["tag"][name]
    page.goto(served.url("search/", q=WORD, tag=name))
    wait_for_results(page, len(expected))
    assert shown_slugs(page) == expected
    box, _ = filter_value_box(page, "tag", name)
    expect(box).to_be_checked()
    # A second filter ticked in the page keeps the first in the address.
    other = next(v for v, papers in FILTERS["digest"].items() if papers & expected)
    digest_box, _ = filter_value_box(page, "digest", other)
    digest_box.check()
    both = expected & FILTERS["digest"][other]
    wait_for_results(page, len(both))
    expect(page).to_have_url(served.search_address(WORD, tag=name, digest=other))
    assert_clean(page)


def test_sorting_keeps_hostile_filters(page, served):
    name = TAGS["javascript"][0]
    expected = FILTERS["tag"][name]
    page.goto(served.url("search/", q=WORD, sort="newest", tag=name))
    wait_for_results(page, len(expected))
    page.locator("#search-sort").select_option("oldest")  # the UI is made again, with the same filters
    expect(page).to_have_url(served.url("search/", q=WORD, sort="oldest", tag=name))
    wait_for_results(page, len(expected))
    box, _ = filter_value_box(page, "tag", name)
    expect(box).to_be_checked()
    assert_clean(page)


@pytest.mark.parametrize(
    "query",
    [
        {"q": f'<img src=x onerror="{_attack(61)}">'},
        {"q": WORD, "tag": f'<img src=x onerror="{_attack(62)}">'},  # no such tag
        {
            "q": WORD,
            "tag": f"&lt;img src=x onerror={_attack(63)}&gt;",  # the entity tag's name, less " R&D"
            "digest": f"<svg onload={_attack(64)}>",
        },
        {"q": f"</title><script>{_attack(65)}</script>", "sort": f"<script>{_attack(66)}</script>"},
    ],
    ids=["query", "unknown-tag", "entities", "title-and-sort"],
)
def test_hostile_addresses_run_nothing(page, served, query):
    page.goto(served.url("search/", **query))
    expect(page.locator(".pagefind-ui__search-input")).to_have_value(query["q"])
    expect(message(page)).to_contain_text(query["q"] if query["q"] != WORD else "results")
    expect(page).to_have_title(f"{query['q']} · Search · {SITE_TITLE}")
    assert_clean(page)


def test_a_sharded_index_shows_and_filters_hostile_values(page, sharded):
    page.goto(sharded.url("search/", q=WORD))
    wait_for_results(page, len(PAPERS))
    for value, papers in FILTERS["tag"].items():  # counts summed over the shards
        _, label = filter_value_box(page, "tag", value)
        expect(label).to_have_text(f"{value} ({len(papers)})")
    name = TAGS["script"][0]
    box, _ = filter_value_box(page, "tag", name)
    box.check()
    wait_for_results(page, len(FILTERS["tag"][name]))
    assert shown_slugs(page) == FILTERS["tag"][name]
    expect(page).to_have_url(sharded.url("search/", q=WORD, tag=name))
    assert_clean(page)
